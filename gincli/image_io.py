"""Reading images from disk into the project's convention (RGB float32 in [0, 1])."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class ImageReadError(ValueError):
    """An image file that cannot be decoded; the message names the file and the reason."""


def iter_image_files(root: str | Path) -> Iterator[Path]:
    """Image files under ``root`` (recursive), in sorted order so runs are reproducible."""
    root = Path(root)
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            yield path


def read_rgb(path: str | Path) -> np.ndarray:
    """Decode ``path`` to H x W x 3 RGB float32 in [0, 1] (EXIF orientation applied)."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read file ({exc.strerror})") from exc
    if data.size == 0:
        raise ImageReadError(f"{path}: empty file")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageReadError(f"{path}: not a decodable image (corrupt, truncated or unsupported format)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8 with rounding."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def write_rgb(path: str | Path, image: np.ndarray) -> None:
    """Encode an RGB image (uint8, or float in [0, 1]) by the path's extension, atomically:
    the bytes go to a temporary name in the same folder and are renamed into place."""
    path = Path(path)
    pixels = to_uint8(image) if image.dtype != np.uint8 else image
    ok, encoded = cv2.imencode(path.suffix, cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"{path}: OpenCV cannot encode {path.suffix!r} images")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        encoded.tofile(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
