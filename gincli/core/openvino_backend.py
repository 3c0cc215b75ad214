"""OpenVINO on the CPU: the same graph, compiled by OpenVINO, in bf16 where the CPU has it.

Chosen over ONNX Runtime's OpenVINO execution provider (``onnxruntime-ep-openvino``): the
``openvino`` package alone does the work, compiles the ONNX file directly, caches compiled
models, and its wheel (about 50 MB) is no larger than the plugin's; the plugin adds a second
runtime layer and ties the OpenVINO version to ONNX Runtime's plugin ABI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gincli.core.model_contract import IMAGE_INPUT, MASK_INPUT, OUTPUT


def openvino_problem() -> str | None:
    """Why OpenVINO cannot run here, or None."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return "the openvino package is not installed (pip install openvino)"
    return None


def openvino_cache_dir() -> Path:
    from gincli.core.engine import user_cache_dir

    return user_cache_dir() / "openvino"


class OpenVinoSession:
    """A compiled model and one infer request, reused; ``precision`` is "fp32" or "bf16"."""

    def __init__(self, model_path: Path, precision: str, threads: int | None) -> None:
        import openvino as ov

        core = ov.Core()
        cache = openvino_cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "CACHE_DIR": str(cache),  # the second run of a model loads the compiled blob
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(str(model_path), "CPU", config)
        self.request = self.compiled.create_infer_request()
        self.output = self.compiled.output(OUTPUT)

    def run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        result = self.request.infer({IMAGE_INPUT: images, MASK_INPUT: masks})
        return np.array(result[self.output], dtype=np.float32, copy=True)  # the request reuses its buffers
