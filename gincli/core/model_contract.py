"""What a gin ONNX model promises: names, shapes, value ranges and metadata.

Shared by the exporter (which writes it) and the engine (which checks it), torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

TILE = 256
IMAGE_INPUT, MASK_INPUT = "image", "mask"
INPUTS = {IMAGE_INPUT: 3, MASK_INPUT: 1}  # name -> channels; all N x C x 256 x 256 float32
OUTPUT = "inpainted"
PRECISION_KEY = "gin.precision"
INPUT_CONVENTION = (
    "image: float32 N x 3 x 256 x 256 RGB in [0, 1]; mask: float32 N x 1 x 256 x 256, 1 = hole "
    "(binarised at 0.5); inpainted: float32 N x 3 x 256 x 256 in [0, 1], equal to image outside the hole"
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


def metadata_keys(
    ngf: int, source_sha256: str, step: int | None, precision: str, source_name: str, version: str
) -> dict[str, str]:
    values = {
        "ngf": str(ngf),
        "precision": precision,
        "source_sha256": source_sha256,
        "source_name": source_name,
        "step": "" if step is None else str(step),
        "version": version,
        "input_convention": INPUT_CONVENTION,
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
    )
