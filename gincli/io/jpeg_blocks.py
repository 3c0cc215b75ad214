"""JPEG in, JPEG out, without generational loss: only the 8 x 8 blocks (per colour component,
chroma subsampling respected) that a hole touches are re-encoded, with the input's own
quantisation tables and sampling; every other block's DCT coefficients are copied unchanged.

What a decoder then shows: pixels in untouched blocks decode exactly as the input's did,
except within one pixel of a changed chroma block, where a decoder's chroma upsampling reads
the neighbouring (changed) chroma samples. The input's markers (EXIF, ICC profile, XMP) are
kept as they are, its orientation tag included: the blocks stay in stored orientation.

A photo stored sideways (an EXIF orientation other than 1) is handled in its stored
orientation: the upright result and holes are turned back before the blocks are compared,
and the orientation tag stays as it was.

A CMYK JPEG stays CMYK (``write_cmyk_jpeg``), but is re-encoded whole: jpeglib 1.0 writes
the coefficients of the first three components of a four-component file and copies the
fourth (black) from the input, so single blocks cannot be replaced.

Inputs this cannot do (CMYK, a file the DCT reader refuses, no ``jpeglib`` installed)
return a reason; the caller re-encodes the whole image.
"""

from __future__ import annotations

import struct
import tempfile
from pathlib import Path

import numpy as np

from gincli.core.imagemath import rgb_to_inverted_cmyk
from gincli.core.lazy import cv2
from gincli.io.atomic import atomic_path, write_atomic
from gincli.io.metadata import Metadata, embed_metadata
from gincli.io.tiff_tags import ORIENTATION_TAG, first_directory, short_value


def exif_orientation(exif: bytes | None) -> int:
    """The EXIF orientation tag (1 = upright, also when absent or unreadable)."""
    try:
        return (short_value(first_directory(exif), ORIENTATION_TAG) or 1) if exif else 1
    except struct.error:
        return 1


def to_stored_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """Undo what EXIF ``orientation`` does for display: the pixels as the file stores them.
    (6 means "turn 90 degrees clockwise to view", so the stored picture is the upright one
    turned 90 degrees counter-clockwise, which is ``np.rot90(upright, 1)``.)"""
    undo = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, 1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, -1),
    }.get(orientation)
    return upright if undo is None else np.ascontiguousarray(undo(upright))


def touched_blocks(hole: np.ndarray, block_height: int, block_width: int, blocks: tuple[int, int]) -> np.ndarray:
    """blocks (rows x cols) bool: those whose pixels (``block_height`` x ``block_width`` each)
    include a hole pixel. The image is padded as the JPEG's block grid pads it."""
    rows, cols = blocks
    padded = np.zeros((rows * block_height, cols * block_width), bool)
    h, w = min(hole.shape[0], padded.shape[0]), min(hole.shape[1], padded.shape[1])
    padded[:h, :w] = hole[:h, :w]
    return padded.reshape(rows, block_height, cols, block_width).any(axis=(1, 3))


def _encode_like(encoder, original, quality: int | None, path: str) -> None:
    """Write ``encoder``'s pixels to ``path`` with ``original``'s sampling and quantisation
    tables, or at ``quality``."""
    encoder.samp_factor = original.samp_factor
    if quality is None:
        encoder.write_spatial(path, qt=original.qt, quant_tbl_no=original.quant_tbl_no)
    else:
        encoder.write_spatial(path, qt=int(quality))


def write_jpeg_keeping_blocks(
    source: Path, result: np.ndarray, hole: np.ndarray, out: Path, meta: Metadata, quality: int | None = None
) -> str | None:
    """Write ``result`` (uint8, the input's size, upright) to ``out`` re-encoding only the
    blocks of ``source`` that ``hole`` touches (both turned back to the stored orientation).

    With ``quality``, the re-encoded blocks are quantised at that quality and then stored in
    the file's own tables (one per component, so the rest of the file is untouched): they
    carry that quality's loss, and never more precision than the file's tables hold.
    Returns None when done, else why it was not (nothing is written then)."""
    try:
        import jpeglib
    except ImportError:
        return "jpeglib is not installed"
    if meta.converted:
        return f"a {meta.converted}"
    orientation = exif_orientation(meta.exif)
    result, hole = to_stored_orientation(result, orientation), to_stored_orientation(hole, orientation)
    try:
        original = jpeglib.read_dct(str(source))
        components = original.num_components
        if components not in (1, 3) or result.dtype != np.uint8:
            return f"{components} colour components"
        pixels = result if result.ndim == 3 else result[..., None]
        if components == 1 and pixels.shape[2] == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)[..., None]
        encoder = jpeglib.from_spatial(np.ascontiguousarray(pixels[..., :components]))
        with tempfile.TemporaryDirectory() as folder:  # the whole image, with the input's tables or at quality
            scratch = str(Path(folder) / "all_blocks.jpg")
            _encode_like(encoder, original, quality, scratch)
            redone = jpeglib.read_dct(scratch)
        factors = np.asarray(original.samp_factor).reshape(-1, 2)[:components]  # (vertical, horizontal)
        v_max, h_max = factors.max(axis=0)
        names = ("Y", "Cb", "Cr")[:components]
        for k, ((v, h), name) in enumerate(zip(factors, names, strict=True)):
            mine, theirs = getattr(original, name), getattr(redone, name)
            if mine.shape != theirs.shape:
                return "its block layout could not be reproduced"
            if quality is not None:  # the coefficients in the file's own quantisation steps
                steps = redone.qt[redone.quant_tbl_no[k]] / original.qt[original.quant_tbl_no[k]]
                theirs = np.round(theirs * steps).astype(mine.dtype)
            changed = touched_blocks(hole, 8 * v_max // v, 8 * h_max // h, mine.shape[:2])
            mine[changed] = theirs[changed]
        with atomic_path(out) as temp:
            original.write_dct(str(temp))
    except Exception as exc:  # jpeglib raises plain exceptions for files libjpeg refuses
        return f"its DCT could not be read or written ({str(exc).strip()[:120] or type(exc).__name__})"
    return None


def write_cmyk_jpeg(
    source: Path, result: np.ndarray, out: Path, meta: Metadata, quality: int | None = None
) -> str | None:
    """Write ``result`` (uint8 RGB, upright) to ``out`` as a CMYK JPEG with ``source``'s
    quantisation tables (or at ``quality``) and sampling, and its EXIF, ICC (CMYK) profile and XMP. Inks are
    inverted CMYK (Adobe's storage) with black from the lightest channel, so the file reads
    back as ``result``. Returns None when done, else why not (nothing written then)."""
    try:
        import jpeglib
    except ImportError:
        return "jpeglib is not installed"
    try:
        original = jpeglib.read_dct(str(source))
        inks = rgb_to_inverted_cmyk(result[..., :3] if result.ndim == 3 else np.dstack([result] * 3))
        encoder = jpeglib.from_spatial(inks, in_color_space=jpeglib.Colorspace.JCS_CMYK)
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / "cmyk.jpg"
            _encode_like(encoder, original, quality, str(scratch))
            encoded = scratch.read_bytes()
        write_atomic(out, embed_metadata(encoded, meta))
    except Exception as exc:  # jpeglib raises plain exceptions for files libjpeg refuses
        return f"its DCT could not be read or written ({str(exc).strip()[:120] or type(exc).__name__})"
    return None
