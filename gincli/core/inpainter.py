"""The Python API scripts use: ``Inpainter(model).inpaint(image, mask)`` at any size.

from gincli import Inpainter
inpainter = Inpainter()                      # the bundled model, best provider here
restored = inpainter.inpaint(photo, mask)    # uint8/uint16/float, grey/grey+alpha/RGB/RGBA; mask 1/white = hole
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gincli.core.batching import TileBatcher
from gincli.core.classical import (
    CLASSICAL_FILLS,
    FILL_METHODS,
    THIN_RADIUS,
    classical_context,
    classical_fill,
    hole_depth,
    network_input,
    thin_holes,
)
from gincli.core.engine import Engine, EngineError
from gincli.core.harmonic import continue_rim
from gincli.core.imagemath import (
    LUMA_BT601,
    check_image_scale,
    field,
    finite_picture,
    from_unit_float,
    grey,
    holes_white,
    nonzero_pixels,
    picture_channels,
    split_channels,
    to_binary_mask,
)
from gincli.core.interlacing import COMB_SEAM, combed_holes
from gincli.core.strategies import STRATEGY_NAMES, TileFn, inpaint_any_size, self_ensemble
from gincli.core.texture import TEXTURE_STRENGTH, add_texture

DEFAULT_MODEL = Path(__file__).parent.parent / "models" / "deepgin_default.onnx"


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


class NoHoleWarning(UserWarning):
    """A mask without any hole pixel: nothing to inpaint."""


class Inpainter:
    """Inpaint images of any size: tiles of 256 x 256 run on one reused ONNX Runtime session.

    ``strategy`` is ``auto``, ``polyphase``, ``sliding``, ``crop`` or ``resize`` (see ``gin
    inpaint --help``); ``fill`` is ``network``, ``classical`` (OpenCV: Navier-Stokes for narrow
    holes, Telea for wide ones; no network, so ``model``, ``provider``, ``threads``, ``precision``
    and ``batch_size`` go unused and :attr:`engine` is None) or ``auto`` (the classical fill for the parts of holes where no
    disc of radius ``thin_radius`` px fits, the network for the rest, its level carried to the hole's rim by a harmonic offset, see
    :mod:`gincli.core.harmonic` and :mod:`gincli.core.classical`, and the photo's own fine
    detail added to it at ``texture`` strength, 0 to 1, see :mod:`gincli.core.texture`: 0 for
    video, where it would flicker); ``ensemble`` adds the paper's 5-way self-ensemble; ``batch_size`` is
    the number of tiles per engine call (default: 1 on the CPU, 8 on a GPU). Calls from several threads are safe and share engine
    batches: inference runs on one thread, decoding and encoding around it on the callers'.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        provider: str = "auto",
        threads: int | None = None,
        strategy: str = "auto",
        precision: str = "auto",
        fill: str = "auto",
        thin_radius: float = THIN_RADIUS,
        texture: float = TEXTURE_STRENGTH,
        ensemble: bool = False,
        batch_size: int | None = None,
    ) -> None:
        if fill not in FILL_METHODS:
            raise ValueError(f"unknown fill method {fill!r}; choose {', '.join(FILL_METHODS)}")
        if not 0 <= texture <= 1:
            raise ValueError(f"texture must be between 0 (none) and 1 (full strength), got {texture}")
        if strategy not in STRATEGY_NAMES:  # said now, not at the first image with a wide hole
            raise ValueError(f"unknown strategy {strategy!r}; choose {', '.join(STRATEGY_NAMES)}")
        if thin_radius < 0:
            raise ValueError(f"thin_radius is a radius in pixels, 0 or more; got {thin_radius}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be 1 or more (None: the engine's default); got {threads}")
        self.strategy, self.ensemble = strategy, ensemble
        self.fill, self.thin_radius, self.texture = fill, thin_radius, texture
        # the classical fill runs no network: no model is read and no engine started (reading the
        # bundled model's contract and probing the engines took 1.1 s of a `gin video` start)
        self.engine: Engine | None = None
        self.batcher: TileBatcher | None = None
        if fill != "classical":
            self.engine = Engine(resolve_model(model), provider=provider, threads=threads, precision=precision)
            if batch_size is None:  # CPU: batch 1 is as fast per tile as 4 and needs a third of the memory
                batch_size = 1 if self.engine.provider in ("cpu", "openvino") else 8
            self.batcher = TileBatcher(self.engine.run, batch_size)  # no reference back to self: no cycle

    def output_settings(self) -> dict[str, object]:
        """Everything that decides this inpainter's output, for resume checks: the model file
        (path, size, modification time: a model re-exported to the same path counts as new)
        and the fill settings."""
        model, precision = None, None  # the classical fill's output depends on neither
        if self.engine is not None:
            stat = self.engine.model_path.stat()
            model = [str(self.engine.model_path.resolve()), stat.st_size, stat.st_mtime_ns]
            precision = self.engine.precision
        return {
            "model": model, "precision": precision, "fill": self.fill, "thin_radius": self.thin_radius,
            "rim": "harmonic",  # how --fill auto meets the hole's rim (was a Telea blend, "edge_blend")
            "classical": [[fill.flag, fill.radius] for fill in CLASSICAL_FILLS],  # was Telea for narrow holes too
            "texture": self.texture,
            "strategy": self.strategy, "ensemble": self.ensemble,
            "fields": "holes in combed picture by field, the rest whole",  # was every hole by field
        }  # fmt: skip

    @property
    def on_tiles(self) -> Callable[[int], None] | None:
        """Called with each engine batch's tile count (progress bars); never with no network."""
        return None if self.batcher is None else self.batcher.on_tiles

    @on_tiles.setter
    def on_tiles(self, callback: Callable[[int], None] | None) -> None:
        if self.batcher is not None:
            self.batcher.on_tiles = callback

    def run_tiles(self, tiles: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """N x 256 x 256 x 3 tiles and N x 256 x 256 masks -> completed tiles (HWC, float32).
        Tiles from concurrent calls share engine batches."""
        if self.engine is None or self.batcher is None:
            raise RuntimeError("this inpainter fills classically (fill='classical'): it has no network to run")
        fill = self.engine.info.hole_fill
        if fill != "white":  # white: the graph whitens the hole itself
            tiles = np.stack([network_input(t, m, fill) for t, m in zip(tiles, masks, strict=True)])
        images = np.ascontiguousarray(tiles.transpose(0, 3, 1, 2), dtype=np.float32)
        holes = np.ascontiguousarray(masks[:, None], dtype=np.float32)
        return self.batcher.run(images, holes).transpose(0, 2, 3, 1)

    def inpaint(
        self, image: np.ndarray, mask: np.ndarray, strategy: str | None = None, fields: bool = False
    ) -> np.ndarray:
        """The completed image, same shape and dtype as ``image`` (H x W grey, H x W x 2 grey +
        alpha, RGB or RGBA; grey is filled in grey). Pixels outside the hole (and any alpha
        channel) are the input's, bit for bit. ``mask``: any form :func:`to_binary_mask` reads
        (1 or white = hole; with an alpha channel, only where also opaque). ``fields``: the image
        is an interlaced frame, its fields (its even lines, its odd lines) two instants: a hole
        in moving picture, where the fields comb, is filled in each field from its own lines alone,
        so the comb is not blended into the fill; one in still picture from the whole frame."""
        return self.inpaint_with_info(image, mask, strategy, fields)[0]

    def inpaint_with_info(
        self, image: np.ndarray, mask: np.ndarray, strategy: str | None = None, fields: bool = False
    ) -> tuple[np.ndarray, str]:
        """As :meth:`inpaint`, also returning the strategy that ran (what ``auto`` chose; for
        ``fields``, each field's, joined by " + " where they differ)."""
        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 1:  # grey with a channel axis, as some readers give it
            result, used = self.inpaint_with_info(image[..., 0], mask, strategy, fields)
            return result[..., None], used
        hole = to_binary_mask(np.asarray(mask))
        if image.ndim in (2, 3) and hole.shape != image.shape[:2]:
            raise ValueError(
                f"mask is {hole.shape[1]} x {hole.shape[0]} but the image is {image.shape[1]} x {image.shape[0]}"
            )
        if image.size == 0:
            raise ValueError(f"the image is empty (shape {image.shape})")
        image = finite_picture(image, hole)
        rgb, alpha = split_channels(image)
        check_image_scale(rgb)
        if not hole.any():
            warnings.warn("the mask has no hole (white, or 1 in a 0/1 mask): the image is returned unchanged",
                          NoHoleWarning, stacklevel=3)  # fmt: skip
        if fields and hole.any():
            return self._by_field(image, hole, strategy)
        run: TileFn = self_ensemble(self.run_tiles) if self.ensemble else self.run_tiles
        depths = hole_depth(hole) if self.fill == "auto" else None
        thin = np.zeros(hole.shape, bool) if self.fill == "network" else (
            hole > 0 if self.fill == "classical" else thin_holes(hole, self.thin_radius, depths))  # fmt: skip
        wide = np.where(thin, 0, hole).astype(np.float32)
        has_thin = thin.any()
        thin_fill = np.zeros((0, 3), np.float32)  # the classical fill's values at the thin pixels
        if has_thin:  # the classical fill reads a wide hole joined to a thin part only as deep as the thin pixels
            deepest = self.thin_radius if wide.any() else None
            thin_fill = classical_fill(rgb, classical_context(thin, hole), thin, deepest, depths)
        inside = nonzero_pixels(hole > 0)
        # the network's strategies for wide holes, and for no hole at all where there is a network
        # (its strategies name what ran)
        if wide.any() or not (has_thin or self.engine is None):
            # white where the hole is, as the graph puts it: a strategy that resizes the image mixes the
            # pixels beside a hole with its own, so what the hole held (a bright scratch, NaN) changed the fill
            source = holes_white(rgb, hole)
            if has_thin:  # thin parts first, so the network sees them filled instead of damaged
                source[thin] = from_unit_float(thin_fill, rgb.dtype)
            filled, used = inpaint_any_size(source, wide, run, strategy or self.strategy)
            if self.fill == "auto":
                filled = add_texture(continue_rim(source, filled, wide), wide > 0, hole > 0, self.texture)
            if has_thin:
                filled[thin] = thin_fill
            values = filled[inside]
        else:  # only thin holes (every hole pixel is thin, in the same order), or none: no tile reaches the network
            values, used = thin_fill, "classical"
        # composite in the input's own dtype: outside the hole the pixels are copied, bit for bit
        result = picture_channels(image).copy()
        result[inside] = from_unit_float(
            values @ LUMA_BT601 if result.ndim == 2 else values, image.dtype
        )  # grey in, grey out
        return result if alpha is None else np.dstack([result, alpha]), used

    def _by_field(self, image: np.ndarray, hole: np.ndarray, strategy: str | None) -> tuple[np.ndarray, str]:
        """An interlaced frame's holes in moving picture (:func:`combed_holes`) filled in each
        field on their own, woven back; then those in still picture filled whole, where both
        fields show one instant and twice the lines are there to read."""
        moving = combed_holes(grey(split_channels(image)[0]), hole, COMB_SEAM)
        still = np.where(moving, 0, hole)
        result, used = image, []
        if moving.any():  # every hole is unknown picture to the fields' fills: the still ones are refilled below
            result = image.copy()
            for parity in (0, 1):
                if hole[parity::2].any():
                    result[parity::2], how = self.inpaint_with_info(field(image, parity), field(hole, parity), strategy)
                    used.append(how)
        if still.any():
            result, how = self.inpaint_with_info(result, still, strategy)
            used.append(how)
        return result, " + ".join(dict.fromkeys(used))
