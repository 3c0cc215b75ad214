"""Value conventions: images to float32 [0, 1], masks to float32 {0, 1} with 1 = hole."""

from __future__ import annotations

import numpy as np

from gincli.core.lazy import cv2

LUMA_BT601 = np.array([0.299, 0.587, 0.114], np.float32)  # RGB -> grey, as OpenCV converts


def full_scale(dtype: np.dtype | type) -> float:
    """Full intensity in ``dtype``: its largest value for integers (255, 65535), 1 for floats."""
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """uint8 / uint16 / float image -> float32 in [0, 1] (integers scaled by their full range)."""
    if np.issubdtype(image.dtype, np.integer):
        return image.astype(np.float32) / full_scale(image.dtype)
    return np.clip(image.astype(np.float32, copy=False), 0.0, 1.0)


# a float image's values past this are no overshoot of [0, 1] but another scale (0-255, say):
# clipped to 1, every hole came back white, and the detector read any picture as overexposed
FLOAT_RANGE_LIMIT = 2.0


def check_image_scale(image: np.ndarray) -> None:
    """Refuse an image whose scale gin would misread: a float image on another scale than [0, 1]
    (a uint8 picture cast to float, say), or integers wider than 16 bits (``np.zeros(shape, int)``
    is int64; read by its own range, 0-255 would be black). ValueError saying how to convert it."""
    if np.issubdtype(image.dtype, np.integer) and image.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"the image is {image.dtype}: gin reads uint8 (0-255), uint16 (0-65535) and float images in [0, 1]: "
            "convert it (values 0-255: image.astype(np.uint8))"
        )
    if np.issubdtype(image.dtype, np.floating) and image.size and float(image.max()) > FLOAT_RANGE_LIMIT:
        raise ValueError(
            f"the image is {image.dtype} with values up to {float(image.max()):g}: gin reads float images in "
            "[0, 1] (uint8 and uint16 ones by their range): scale it into [0, 1] (a picture on the 0-255 "
            "scale: divide it by 255, or pass the uint8 array)"
        )


def finite_picture(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``image`` with NaN or infinite colour values inside ``hole`` set to 0: a hole's values are
    never read, and NaN is how some data marks what is missing (the network's arithmetic would carry
    it into the whole fill). ValueError where any lie outside the hole. Integer images pass as they are."""
    if not np.issubdtype(image.dtype, np.floating):
        return image
    colour = picture_channels(image)
    bad = ~np.isfinite(colour)
    if bad.ndim == 3:
        bad = bad.any(axis=2)
    if not bad.any():
        return image
    outside = int(np.count_nonzero(bad & (hole == 0)))
    if outside:
        raise ValueError(
            f"the image has NaN or infinite values at {outside} pixels outside the hole: gin fills only the "
            "holes; add those pixels to the mask (or give them values)"
        )
    cleaned = image.copy()
    picture_channels(cleaned)[bad] = 0
    return cleaned


def own_depth_luma(image: np.ndarray) -> np.ndarray | None:
    """The BT.601 luma of an 8- or 16-bit RGB(A) frame in the frame's own depth, rounded to its
    steps (under 0.002 off; a quarter of the time of converting a 720p frame to float first);
    None for other frames."""
    if image.dtype not in (np.uint8, np.uint16) or image.ndim != 3 or image.shape[2] not in (3, 4):
        return None
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY if image.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)


_UNIT_STEPS_8BIT = (np.arange(256, dtype=np.float32) * np.float32(1 / 255))[None]


def integer_to_unit(image: np.ndarray) -> np.ndarray:
    """A single-channel 8- or 16-bit map (luma, a top-hat of it) -> float32 in [0, 1], as the
    product with the reciprocal of its full range (the detector's values since it began; not
    :func:`to_unit_float`'s quotient, which rounds a few steps differently); 8-bit by a look-up
    table, a seventh of the time of numpy's mixed-type product with the same values. A float32
    map is returned as it is (the detector holds maps in the frame's own depth where it can)."""
    if image.dtype == np.float32:
        return image
    if image.dtype == np.uint8:
        return cv2.LUT(image, _UNIT_STEPS_8BIT)
    return np.multiply(image, np.float32(1 / full_scale(image.dtype)), dtype=np.float32)


def grey(image: np.ndarray) -> np.ndarray:
    """H x W (x 3) image of any dtype -> float32 luma in [0, 1] (the BT.601 weights). 8- and
    16-bit frames by ``cv2.cvtColor`` in their own depth (:func:`own_depth_luma`), others by
    ``cv2.transform`` (a fifth of the time of a matrix product)."""
    luma = own_depth_luma(image)
    if luma is not None:
        return integer_to_unit(luma)
    if image.ndim == 2:
        return to_unit_float(image)
    weights = LUMA_BT601[None].astype(np.float64)
    if np.issubdtype(image.dtype, np.integer):  # scaled to [0, 1] in the same pass
        return cv2.transform(image[..., :3].astype(np.float32), weights / full_scale(image.dtype))
    return cv2.transform(np.ascontiguousarray(to_unit_float(image)[..., :3]), weights)


def from_unit_float(image: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """float [0, 1] -> ``dtype`` (rounded for integer types)."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return (np.clip(image, 0.0, 1.0) * full_scale(dtype) + 0.5).astype(dtype)
    return image.astype(dtype)


def split_channels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB pixels, alpha or None) of an image as gin reads one: grey (H x W), grey + alpha
    (H x W x 2), RGB or RGBA; grey becomes three equal channels, in the image's own dtype."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2), None
    if image.ndim == 3 and image.shape[2] == 2:
        return np.repeat(image[..., :1], 3, axis=2), image[..., 1]
    if image.ndim == 3 and image.shape[2] == 3:
        return image, None
    if image.ndim == 3 and image.shape[2] == 4:
        return image[..., :3], image[..., 3]
    raise ValueError(
        f"expected an H x W grey, H x W x 2 grey + alpha, H x W x 3 RGB or H x W x 4 RGBA image, got shape {image.shape}"
    )


def picture_channels(image: np.ndarray) -> np.ndarray:
    """The image without its alpha channel, grey staying grey (H x W), in its own dtype."""
    if image.ndim == 3 and image.shape[2] in (2, 4):
        return image[..., 0] if image.shape[2] == 2 else image[..., :3]
    return image


def straight_alpha(image: np.ndarray) -> np.ndarray:
    """An image with alpha (grey + alpha or RGBA) whose colour is premultiplied by the alpha,
    with the colour divided back out (rounded; 0 where fully transparent); others unchanged."""
    if image.ndim != 3 or image.shape[2] not in (2, 4):
        return image
    colour, alpha = to_unit_float(image[..., :-1]), to_unit_float(image[..., -1:])
    straight = np.divide(colour, alpha, out=np.zeros_like(colour), where=alpha > 0)
    return np.concatenate([from_unit_float(straight, image.dtype), image[..., -1:]], axis=2)


def to_binary_mask(mask: np.ndarray) -> np.ndarray:
    """Any mask (bool, uint8, uint16, float; H x W or H x W x C) -> H x W float32, 1 = hole.

    A pixel is a hole where it is at least half of the full range: >= 127.5 for uint8
    (white = hole), >= 0.5 for floats; with several colour channels, where any channel is. An
    integer mask whose values are only 0 and 1 (what ``cv2.inpaint`` takes, and what
    ``(x > 0).astype(np.uint8)`` gives) means 1 = hole. A mask with an alpha channel (grey +
    alpha, H x W x 2, or RGBA) is a hole only where it is also at least half opaque: strokes
    painted on a transparent layer are the holes, whatever colour the transparent pixels
    hold, and an opaque RGBA mask (as image editors export one) reads by its colour.
    """
    if mask.ndim == 3 and mask.shape[2] in (2, 4):
        return to_binary_mask(mask[..., :-1]) * to_binary_mask(mask[..., -1])
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be H x W or H x W x C, got shape {mask.shape}")
    if np.issubdtype(mask.dtype, np.integer) and mask.dtype not in (np.uint8, np.uint16):
        mask = _as_8_or_16_bit(mask)
    if mask.dtype == bool or (np.issubdtype(mask.dtype, np.integer) and mask.size and mask.max() <= 1):
        return (mask > 0).astype(np.float32)
    return (to_unit_float(mask) >= 0.5).astype(np.float32)


def _as_8_or_16_bit(mask: np.ndarray) -> np.ndarray:
    """An integer mask of another type (int64 from ``np.zeros(shape, int)``, say) read on the scale
    its values fit: 0/1, 0-255 or 0-65535; by its own type's range 255 would be no hole."""
    low, high = (int(mask.min()), int(mask.max())) if mask.size else (0, 0)
    if low < 0 or high > 65535:
        raise ValueError(f"a {mask.dtype} mask with values {low} to {high}: give 0/1, 0-255 or 0-65535 (white = hole)")
    return mask.astype(np.uint8 if high <= 255 else np.uint16)


def holes_white(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """What the network sees: RGB with the holes (``mask`` > 0) white, at the full scale of its
    own dtype (1 for floats). A select, not arithmetic: what the hole held (NaN, say) is gone."""
    return np.where(mask[..., None] > 0, np.asarray(full_scale(rgb.dtype), rgb.dtype), rgb)


def dilate_mask(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow holes by ``pixels`` (a disc), e.g. to cover the soft edge of a scratch; float32."""
    if pixels <= 0:
        return mask.astype(np.float32, copy=False)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    if mask.dtype == bool:  # a quarter of the bytes to dilate
        return cv2.dilate(mask.view(np.uint8), kernel).astype(np.float32)
    return cv2.dilate(mask.astype(np.float32), kernel)


def field(image: np.ndarray, parity: int) -> np.ndarray:
    """One field of an interlaced frame: its even lines (``parity`` 0, the top field) or its odd
    lines (1, the bottom field), as a contiguous picture. The two fields of a frame are two
    instants; where the picture moves, each frame's lines alternate between them (a comb)."""
    return np.ascontiguousarray(image[parity::2])


def weave_fields(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """The frame whose even lines are ``top`` and odd lines ``bottom`` (inverse of :func:`field`)."""
    frame = np.empty((top.shape[0] + bottom.shape[0], *top.shape[1:]), top.dtype)
    frame[0::2], frame[1::2] = top, bottom
    return frame


def nonzero_pixels(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D bool or uint8 mask, in the same (row-major) order, by
    ``cv2.findNonZero``: a third of the time on a 720p frame."""
    points = cv2.findNonZero(mask.view(np.uint8) if mask.dtype == bool else mask)  # N x 1 x 2 (x, y)
    if points is None:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    points = points.reshape(-1, 2)
    return points[:, 1].astype(np.intp), points[:, 0].astype(np.intp)


def sorted_by_owner(owners: np.ndarray, values: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values`` sorted by their ``owners`` (integers 0 to ``count`` - 1) and, within each
    owner, by value; with each owner's first index into them and how many it has: per-part
    medians and ranks without a loop over the parts."""
    order = np.lexsort((values, owners))
    counts = np.bincount(owners, minlength=count)
    return values[order], np.cumsum(counts) - counts, counts


def connected_components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, int32 labels, stats) of a uint8 mask's 8-connected parts, label 0 the
    background: ``cv2.connectedComponentsWithStats``'s, by the Grana block-based labelling.
    The same labels and statistics in a third to a half of the time of OpenCV's default
    (Spaghetti) here, on 720p scratch candidates, sparse specks and hole masks alike."""
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    return count, labels, stats


def nearest_palette_indices(image: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """H x W uint8 indices of the closest ``palette`` entry (N x C, C = the image's channels)
    to each pixel of a uint8 ``image``, by squared distance. A pixel decoded from that palette
    gets an entry of exactly its colour back, so only new (filled) colours move."""
    pixels = image.reshape(-1, image.shape[-1]).astype(np.int32)
    colours, inverse = np.unique(pixels, axis=0, return_inverse=True)
    entries = palette.astype(np.int32)
    best = np.empty(len(colours), np.uint8)
    for start in range(0, len(colours), 4096):  # bounded memory for a fill with many colours
        part = colours[start : start + 4096]
        distance = ((part[:, None, :] - entries[None, :, :]) ** 2).sum(axis=2)
        best[start : start + 4096] = distance.argmin(axis=1)
    return best[inverse.reshape(-1)].reshape(image.shape[:2])


def rgb_to_inverted_cmyk(rgb: np.ndarray) -> np.ndarray:
    """uint8 H x W x 4 CMYK samples as Adobe's JPEGs store them (inverted: 255 = no ink) that
    the usual naive reading, R = K - (255 - C) * K // 256 (libjpeg's and OpenCV's), turns back
    into ``rgb`` exactly (a zero channel under a non-black pixel reads as 1). Black ink comes
    from the lightest channel (K = 255 - max(R, G, B)), the common grey-component rule."""
    rgb = rgb.astype(np.int32)
    k = rgb.max(axis=2, keepdims=True)
    ink = ((k - rgb) * 256 + np.maximum(k, 1) - 1) // np.maximum(k, 1)  # ceil, so the reading rounds back
    return np.concatenate([np.clip(255 - ink, 0, 255), k], axis=2).astype(np.uint8)


SPARSE_HOLES = 2  # holes whose boxes cover under half of their joint window are worked on one by one


def hole_windows(binary: np.ndarray, margin: int) -> list[tuple[tuple[slice, slice], np.ndarray]]:
    """The windows to work on around the holes of a uint8 H x W mask (nonzero = hole), each
    grown by ``margin`` px as far as the image reaches, with its hole pixels (bool): one window
    around all holes, or, where that window is mostly hole-free (scattered holes in a large
    photo), one per connected hole (8-connected; its own pixels only), so that the holes cost
    their own areas, not the photo's."""
    count, labels, boxes = connected_components(binary)

    def grown(x: int, y: int, w: int, h: int) -> tuple[slice, slice]:
        return np.s_[max(0, y - margin) : y + h + margin, max(0, x - margin) : x + w + margin]

    x, y, w, h = cv2.boundingRect(binary)
    if w * h <= SPARSE_HOLES * int((boxes[1:, 2] * boxes[1:, 3]).sum()):
        window = grown(x, y, w, h)
        return [(window, binary[window] > 0)]
    windows = [grown(*boxes[label, :4]) for label in range(1, count)]
    return [(window, labels[window] == label) for label, window in enumerate(windows, start=1)]
