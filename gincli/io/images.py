"""Reading and writing image files. The only module that touches image bytes on disk.

Decoded pixels keep the file's own dtype (uint8, uint16, float32) and channels in
RGB order: H x W (grey), H x W x 2 (grey + alpha), H x W x 3 (RGB) or H x W x 4 (RGBA),
alpha as the file stores it. JPEG's EXIF and TIFF's orientation are applied on read, so
pixels are upright. Writes are atomic: a temporary name in the
same folder, renamed into place, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gincli.core.imagemath import (
    from_unit_float,
    nearest_palette_indices,
    picture_channels,
    split_channels,
    straight_alpha,
    to_unit_float,
)
from gincli.core.lazy import cv2, pixel_limit
from gincli.io.atomic import write_atomic
from gincli.io.dpx import MAGICS as DPX_MAGICS
from gincli.io.dpx import DpxError, dpx_layout, read_dpx, write_dpx
from gincli.io.jpeg_blocks import to_stored_orientation
from gincli.io.metadata import PNG_SIGNATURE, Metadata, embed_metadata, png_chunk
from gincli.io.tiff_tags import (
    EXTRA_SAMPLES_TAG,
    ORIENTATION_TAG,
    SAMPLES_PER_PIXEL_TAG,
    Tag,
    add_tags_to_tiff,
    alpha_tag,
    first_directory,
    full_size_pages,
    short_value,
)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".dpx")
_EXIF_ORIENTED = (".jpg", ".jpeg")  # OpenCV applies EXIF orientation to these when not reading "unchanged"
_QUALITY_FLAGS = {".jpg": "IMWRITE_JPEG_QUALITY", ".jpeg": "IMWRITE_JPEG_QUALITY", ".webp": "IMWRITE_WEBP_QUALITY"}
_NO_ALPHA = (".jpg", ".jpeg", ".bmp")
_EIGHT_BIT_ONLY = (".jpg", ".jpeg", ".bmp", ".webp")
_PNG_GREY_ALPHA = 4  # the colour type in a PNG's header


def _png_header(head: bytes) -> bool:
    return head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR" and len(head) >= 26


def header_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header without decoding; None for other formats
    (OpenCV's own limit, set to the same value in ``gincli.core.lazy``, guards those)."""
    if _png_header(head):
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                return None
            marker, length = head[i + 1], int.from_bytes(head[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                return int.from_bytes(head[i + 7 : i + 9], "big"), int.from_bytes(head[i + 5 : i + 7], "big")
            i += 2 + length
    return None


def looks_complete(path: str | Path) -> bool:
    """Whether an existing file ends as a whole image of its format does: JPEG's end-of-image
    marker, PNG's IEND chunk, the size that WebP's RIFF and BMP's headers declare. Resume
    uses it so that a zero-byte or truncated file (another tool's, or a copy cut short) is
    redone instead of counted as done. Cheap: the head and tail only, nothing decoded."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(20)
            f.seek(max(0, size - 12))
            tail = f.read(12)
    except OSError:
        return False
    suffix = path.suffix.lower()
    if size == 0:
        return False
    if suffix in (".jpg", ".jpeg"):
        return head[:2] == b"\xff\xd8" and tail.rstrip(b"\x00")[-2:] == b"\xff\xd9"
    if suffix == ".png":
        return head[:8] == PNG_SIGNATURE and tail[4:8] == b"IEND"
    if suffix == ".webp":
        return head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") + 8 <= size
    if suffix == ".bmp":
        return head[:2] == b"BM" and int.from_bytes(head[2:6], "little") <= size
    if suffix == ".dpx":
        order = DPX_MAGICS.get(head[:4])
        return order is not None and int.from_bytes(head[16:20], "big" if order == ">" else "little") <= size
    return True  # TIFF: no cheap end check; a non-empty file counts


class ImageReadError(ValueError):
    """An image file that cannot be decoded; the message names the file and the reason."""


def is_hidden(path: Path) -> bool:
    """A dot file or folder: macOS's AppleDouble twins (``._photo.jpg``, beside every file it
    copies to a USB drive: 4 KB of metadata, no picture), thumbnails caches (``.thumbnails/``),
    gin's own partial writes. A folder's listing leaves them out, as ``ls`` and ``glob`` do."""
    return path.name.startswith(".")


def iter_image_files(root: str | Path, recursive: bool = True) -> Iterator[Path]:
    """Image files under ``root``, in sorted order so runs are reproducible, hidden files and
    folders left out (:func:`is_hidden`). Symlinked folders are followed (a photo library often
    links its albums in), each real folder once, so a symlink loop ends instead of recursing forever."""
    root = Path(root)
    if not recursive:
        yield from sorted(p for p in root.iterdir() if is_image_file(p))
        return
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # reached again through a symlink: a loop, or a second link to it
            subfolders.clear()
            continue
        seen.add(real)
        subfolders[:] = [name for name in subfolders if not is_hidden(Path(name))]
        found += [Path(folder, f) for f in files]
    yield from sorted(p for p in found if is_image_file(p))


def is_image_file(path: Path) -> bool:
    """A visible file with an image extension (what a folder of images is read for)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not is_hidden(path) and path.is_file()


def read_image(path: str | Path) -> np.ndarray:
    """Decode ``path`` keeping its dtype and alpha; RGB(A) channel order, grey as H x W and
    grey + alpha as H x W x 2 (as the file holds them); upright."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if data.size == 0:
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    if path.suffix.lower() == ".dpx":  # OpenCV reads no DPX
        return _read_dpx_file(path, data.tobytes())
    size = header_size(data[: 1 << 16].tobytes())
    if size is not None:
        _check_pixel_limit(path, *size)
    flags = cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH if path.suffix.lower() in _EXIF_ORIENTED else cv2.IMREAD_UNCHANGED
    try:
        image = cv2.imdecode(data, flags)
    except cv2.error as exc:  # e.g. declared dimensions beyond OpenCV's pixel limit
        reason = str(exc).strip().splitlines()[-1][:200]
        raise ImageReadError(f"{path}: cannot decode ({reason})") from exc
    if image is None or image.size == 0:
        raise ImageReadError(f"{path}: not a decodable image (corrupt, truncated or unsupported format)")
    pages = _pages(path, data)
    if pages > 1:  # decoded, the first page alone would have been written back under the file's name
        raise ImageReadError(
            f"{path}: holds {pages} pages or frames, and gin inpaints one picture a file (it would have written "
            "back the first alone): save each as a file of its own (an animation's frames into a folder, which "
            "`gin video` takes)"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    head = data[:26].tobytes()
    if image.ndim == 3 and image.shape[2] == 4 and _png_header(head) and head[25] == _PNG_GREY_ALPHA:
        image = np.ascontiguousarray(image[..., ::3])  # OpenCV decodes grey + alpha as RGBA with R = G = B
    elif path.suffix.lower() in (".tif", ".tiff"):
        tags = first_directory(data.tobytes())
        if _misread_alpha(image, tags):
            image = _tiff_with_alpha(path, short_value(tags, ORIENTATION_TAG) or 1)
    if image.dtype not in (np.uint8, np.uint16, np.float32):
        image = image.astype(np.float32)
    return image


# FFmpeg's packed pixel formats with alpha: (sample type, channels)
_PACKED_WITH_ALPHA = {
    "ya8": (np.dtype(np.uint8), 2),
    "ya16le": (np.dtype("<u2"), 2),
    "ya16be": (np.dtype(">u2"), 2),
    "rgba": (np.dtype(np.uint8), 4),
    "rgba64le": (np.dtype("<u2"), 4),
    "rgba64be": (np.dtype(">u2"), 4),
}


def _read_dpx_file(path: Path, data: bytes) -> np.ndarray:
    try:
        layout = dpx_layout(data)
    except DpxError as exc:
        raise ImageReadError(f"{path}: {exc}") from exc
    _check_pixel_limit(path, layout.width, layout.height)
    return read_dpx(data)


def _check_pixel_limit(path: Path, width: int, height: int) -> None:
    """Refuse, before decoding, a picture whose header claims more pixels than the limit."""
    if width * height > pixel_limit():
        raise ImageReadError(
            f"{path}: {width} x {height} pixels is over the limit of {pixel_limit():,} (a decompression "
            f"bomb, or a huge scan): raise it with --max-pixels or GIN_MAX_PIXELS if the file is trusted"
        )


def _misread_alpha(image: np.ndarray, tags: tuple[Tag, ...]) -> bool:
    """Whether OpenCV's reading of a TIFF lost or changed its alpha: a grey + alpha TIFF comes
    out grey alone, and an 8-bit one with straight (unassociated) alpha premultiplied by it
    (libtiff's RGBA interface: colour 200 under alpha 30 read as 24, then written back so)."""
    if short_value(tags, SAMPLES_PER_PIXEL_TAG) == 2:
        return True
    return image.dtype == np.uint8 and image.ndim == 3 and short_value(tags, EXTRA_SAMPLES_TAG) == 2


def _tiff_with_alpha(path: Path, orientation: int) -> np.ndarray:
    """A TIFF's pixels with their alpha as stored (H x W x 2 grey + alpha, or RGBA), by FFmpeg's
    TIFF decoder (one plane of packed samples), turned upright by its ``orientation`` tag."""
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
    except (av.error.FFmpegError, StopIteration) as exc:
        raise ImageReadError(f"{path}: cannot decode its pixels with their alpha ({exc})") from exc
    if frame.format.name not in _PACKED_WITH_ALPHA:
        raise ImageReadError(f"{path}: its alpha decodes as {frame.format.name}: save it as PNG to inpaint it")
    kind, channels = _PACKED_WITH_ALPHA[frame.format.name]
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    samples = rows[:, : channels * frame.width * kind.itemsize].copy().view(kind)
    stored = samples.reshape(frame.height, frame.width, channels).astype(kind.newbyteorder("="))
    # upright, as OpenCV reads a TIFF: each orientation's turn undoes itself, but 6's and 8's undo each other
    return to_stored_orientation(stored, {6: 8, 8: 6}.get(orientation, orientation))


def _pages(path: Path, data: np.ndarray) -> int:
    """The full-size pages (frames) of a file whose format can hold several: a TIFF's (its
    previews and masks not counted), an animated GIF's, WebP's or PNG's frames; else 1."""
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        return full_size_pages(data.tobytes())
    if suffix in (".gif", ".webp", ".png"):
        return cv2.imcount(str(path))
    return 1


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode to H x W x 3 RGB float32 in [0, 1] (grey expanded, alpha dropped)."""
    return to_unit_float(split_channels(read_image(path))[0])


def _encodable(image: np.ndarray, suffix: str) -> np.ndarray:
    """Adapt pixels to what the format can hold: no alpha in JPEG/BMP, 8 bits in JPEG/BMP/WebP,
    grey + alpha in PNG alone (RGBA elsewhere)."""
    if suffix in _NO_ALPHA:
        image = picture_channels(image)
    if image.ndim == 3 and image.shape[2] == 2 and suffix != ".png":
        image = image[..., [0, 0, 0, 1]]
    if suffix in _EIGHT_BIT_ONLY and image.dtype != np.uint8:
        image = from_unit_float(to_unit_float(image), np.uint8)
    if image.dtype == np.float32 and suffix == ".png":
        image = from_unit_float(image, np.uint16)
    return image


def encode_image(image: np.ndarray, suffix: str, quality: int | None = None, premultiplied: bool = False) -> bytes:
    """Encode RGB(A) / grey pixels to the bytes of a ``suffix`` file. ``premultiplied``: the
    colour of RGBA pixels is premultiplied by their alpha (as a TIFF with associated alpha
    stores it), which a TIFF records."""
    suffix = suffix.lower()
    image = _encodable(image, suffix)
    if image.ndim == 3 and image.shape[2] == 2:
        return encode_grey_alpha_png(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    params = (
        [getattr(cv2, _QUALITY_FLAGS[suffix]), int(quality)] if quality is not None and suffix in _QUALITY_FLAGS else []
    )
    ok, encoded = cv2.imencode(suffix, image, params)
    if not ok:
        raise ValueError(f"OpenCV cannot encode {suffix!r} images")
    if suffix in (".tif", ".tiff") and image.ndim == 3 and image.shape[2] == 4:
        # OpenCV names no fourth channel: libtiff warns, and readers may take it for an unknown extra one
        return add_tags_to_tiff(encoded.tobytes(), [alpha_tag(premultiplied)])
    return encoded.tobytes()


def encode_indexed_png(image: np.ndarray, plte: bytes, trns: bytes = b"") -> bytes:
    """An indexed-colour PNG of uint8 RGB(A) / grey ``image`` with the palette ``plte`` (and
    its transparency ``trns``): each pixel takes its nearest entry, so pixels that came from
    this palette keep their colour exactly and filled ones take the closest it offers."""
    colours = np.frombuffer(plte, np.uint8).reshape(-1, 3)
    alphas = np.full(len(colours), 255, np.uint8)
    given = np.frombuffer(trns, np.uint8)[: len(colours)]
    alphas[: len(given)] = given
    pixels = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    entries = np.hstack([colours, alphas[:, None]]) if pixels.shape[2] == 4 else colours
    indices = nearest_palette_indices(pixels, entries)
    scanlines = np.hstack([np.zeros((indices.shape[0], 1), np.uint8), indices])  # filter type 0 on each row
    palette = [png_chunk(b"PLTE", plte)] + ([png_chunk(b"tRNS", trns)] if trns else [])
    return _png_file(indices.shape, 8, 3, scanlines, palette, level=9)


def encode_grey_alpha_png(image: np.ndarray) -> bytes:
    """A grey + alpha PNG (colour type 4, which OpenCV does not write) of an H x W x 2 uint8 or
    uint16 image: each row stored as its difference from the row above (PNG's Up filter)."""
    height = image.shape[0]
    rows = image.astype(image.dtype.newbyteorder(">")).view(np.uint8).reshape(height, -1)  # PNG is big-endian
    up = rows.copy()
    up[1:] -= rows[:-1]  # byte by byte, modulo 256
    scanlines = np.hstack([np.full((height, 1), 2, np.uint8), up])  # filter type 2 (Up) on each row
    return _png_file(image.shape[:2], 8 * image.dtype.itemsize, _PNG_GREY_ALPHA, scanlines, [], level=6)


def _png_file(
    shape: tuple[int, int], depth: int, colour_type: int, scanlines: np.ndarray, chunks: list[bytes], level: int
) -> bytes:
    """A PNG's bytes: its header, ``chunks``, the filtered ``scanlines`` compressed at zlib ``level``."""
    height, width = shape
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([depth, colour_type, 0, 0, 0])
    idat = png_chunk(b"IDAT", zlib.compress(scanlines.tobytes(), level))
    return PNG_SIGNATURE + b"".join([png_chunk(b"IHDR", header), *chunks, idat, png_chunk(b"IEND", b"")])


def write_image(
    path: str | Path, image: np.ndarray, quality: int | None = None, metadata: Metadata | None = None
) -> None:
    """Encode by the path's extension and write atomically, with ``metadata`` (EXIF, ICC, XMP)
    embedded where the format holds it; a palette PNG's palette is kept for a PNG output. A
    TIFF's premultiplied colour stays so in a TIFF and becomes straight in PNG and WebP, whose
    alpha is straight (JPEG and BMP drop the alpha: premultiplied colour is the picture over black)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".dpx":  # over the source DPX's own bytes: its header, time code and edge code kept
        if metadata is None or metadata.dpx is None:
            raise ValueError(f"{path}: a DPX is written over the DPX it was read from, and there is none")
        write_atomic(path, write_dpx(split_channels(image)[0], metadata.dpx))
        return
    premultiplied = metadata is not None and metadata.premultiplied
    if premultiplied and suffix not in (".tif", ".tiff") and suffix not in _NO_ALPHA:
        image, premultiplied = straight_alpha(image), False
    if metadata and metadata.palette and suffix == ".png" and image.dtype == np.uint8:
        encoded = encode_indexed_png(image, *metadata.palette)
    else:
        encoded = encode_image(image, path.suffix, quality, premultiplied)
    write_atomic(path, embed_metadata(encoded, metadata.for_rgb_pixels()) if metadata else encoded)


def write_rgb(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB float image in [0, 1] (or uint8) as 8-bit."""
    write_image(path, image if image.dtype == np.uint8 else from_unit_float(image, np.uint8))
