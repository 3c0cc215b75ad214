"""What a gin ONNX model promises: names, shapes, value ranges and metadata.

Shared by the exporter (which writes it) and the engine (which checks it), torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gincli.core.onnx_header import read_onnx_header

TILE = 256
IMAGE_INPUT, MASK_INPUT = "image", "mask"
INPUTS = {IMAGE_INPUT: 3, MASK_INPUT: 1}  # name -> channels; all N x C x 256 x 256 float32
OUTPUT = "inpainted"
PRECISION_KEY = "gin.precision"
# What the graph expects inside the hole of its image input: "white", the paper's convention
# (the graph itself sets hole pixels to 1, so their values are ignored), or "telea", OpenCV's
# Telea fill of the hole (radius 5, on 8-bit values), which the caller computes per tile:
# a fill that already continues the hole's edge, for the network to correct.
HOLE_FILLS = ("white", "telea")
_HOLE_CONVENTION = {
    "white": "values inside the hole are ignored",
    "telea": "inside the hole, OpenCV's Telea fill of it (radius 5, on 8-bit values)",
}


def input_convention(hole_fill: str) -> str:
    return (
        f"image: float32 N x 3 x 256 x 256 RGB in [0, 1] ({_HOLE_CONVENTION[hole_fill]}); mask: float32 "
        "N x 1 x 256 x 256, 1 = hole (binarised at 0.5); inpainted: float32 N x 3 x 256 x 256 in [0, 1], "
        "equal to image outside the hole"
    )


_PREFIX = "gin."  # every metadata key: gin.ngf, gin.precision, ...


@dataclass(frozen=True)
class ModelInfo:
    """Metadata of an exported model (empty strings where a foreign model has none)."""

    ngf: int | None
    precision: str
    source_sha256: str
    source_name: str
    step: int | None
    version: str
    input_convention: str
    hole_fill: str  # one of HOLE_FILLS; "white" for graphs that name none (older exports, foreign graphs)


def metadata_keys(
    ngf: int, source_sha256: str, step: int | None, precision: str, source_name: str, version: str, hole_fill: str
) -> dict[str, str]:
    values = {
        "ngf": str(ngf),
        "precision": precision,
        "source_sha256": source_sha256,
        "source_name": source_name,
        "step": "" if step is None else str(step),
        "version": version,
        "input_convention": input_convention(hole_fill),
        "hole_fill": hole_fill,
    }
    return {_PREFIX + k: v for k, v in values.items()}


def parse_metadata(props: dict[str, str]) -> ModelInfo:
    get = lambda key: props.get(_PREFIX + key, "")  # noqa: E731
    return ModelInfo(
        ngf=int(get("ngf")) if get("ngf") else None,
        precision=get("precision") or "unknown",
        source_sha256=get("source_sha256"),
        source_name=get("source_name"),
        step=int(get("step")) if get("step") else None,
        version=get("version"),
        input_convention=get("input_convention"),
        hole_fill=get("hole_fill") or "white",
    )


class ModelContractError(ValueError):
    """A file that is not a gin inpainting model; the message names it and says why."""


def read_model_info(path: str | Path) -> ModelInfo:
    """Check a model file against the contract (input and output names and shapes) and
    return its metadata. Reads the graph's header only (:mod:`gincli.core.onnx_header`): no
    weights, and not the ``onnx`` package."""
    path = Path(path)
    try:
        header = read_onnx_header(path)
    except (ValueError, OSError) as exc:
        raise ModelContractError(f"{path}: not a usable ONNX model ({str(exc)[:200]})") from exc
    inputs, outputs = header.inputs, header.outputs
    want_inputs = {name: [c, TILE, TILE] for name, c in INPUTS.items()}
    if set(inputs) != set(want_inputs) or any(inputs[k][1:] != v for k, v in want_inputs.items()):
        found = ", ".join(f"{k} {v}" for k, v in inputs.items())
        raise ModelContractError(
            f"{path}: not a gin inpainting model: inputs are {found}; expected "
            f"image [N, 3, {TILE}, {TILE}] and mask [N, 1, {TILE}, {TILE}] (export one with `gin export`)"
        )
    if OUTPUT not in outputs or outputs[OUTPUT][1:] != [3, TILE, TILE]:
        found = ", ".join(f"{k} {v}" for k, v in outputs.items())
        raise ModelContractError(
            f"{path}: not a gin inpainting model: outputs are {found}; expected {OUTPUT} [N, 3, {TILE}, {TILE}]"
        )
    info = parse_metadata(header.metadata)
    if info.hole_fill not in HOLE_FILLS:
        raise ModelContractError(
            f"{path}: expects its holes pre-filled by {info.hole_fill!r}, which this gin does not know "
            f"(it knows {', '.join(HOLE_FILLS)}): upgrade gin to run this model"
        )
    return info
