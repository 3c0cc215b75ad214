"""The Python API scripts use: ``Inpainter(model).inpaint(image, mask)``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gincli.engine import Engine, EngineError
from gincli.imagemath import from_unit_float, to_binary_mask, to_unit_float
from gincli.model_contract import TILE

DEFAULT_MODEL = Path(__file__).parent / "models" / "deepgin_default.onnx"


def resolve_model(model: str | Path | None) -> Path:
    """``None`` is the bundled default model; a clear error where this install has none."""
    if model is not None:
        return Path(model)
    if not DEFAULT_MODEL.is_file():
        raise EngineError(
            "this install has no bundled default model yet: pass a model file "
            "(export one from a checkpoint with `gin export CHECKPOINT`)"
        )
    return DEFAULT_MODEL


class Inpainter:
    """Inpaint H x W x 3 images (uint8, uint16 or float in [0, 1]) with a mask (1 / white = hole).

    The ONNX Runtime session is created once and reused for every call.
    """

    def __init__(self, model: str | Path | None = None, provider: str = "auto", threads: int | None = None) -> None:
        self.engine = Engine(resolve_model(model), provider=provider, threads=threads)

    def inpaint(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The completed image, same dtype and shape as ``image``; pixels outside the hole unchanged."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
        if image.shape[:2] != (TILE, TILE):
            raise ValueError(
                f"this version inpaints {TILE} x {TILE} images only, got {image.shape[1]} x {image.shape[0]}"
            )
        hole = to_binary_mask(mask)
        if hole.shape != image.shape[:2]:
            raise ValueError(
                f"mask is {hole.shape[1]} x {hole.shape[0]} but the image is {image.shape[1]} x {image.shape[0]}"
            )
        pixels = to_unit_float(image)
        out = self.engine.run(pixels.transpose(2, 0, 1)[None], hole[None, None])[0].transpose(1, 2, 0)
        result = from_unit_float(out, image.dtype)
        keep = hole == 0
        result[keep] = image[keep]  # bit-exact outside the hole, whatever the dtype round trip did
        return result
