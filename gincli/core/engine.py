"""ONNX Runtime session over an exported gin model: provider choice, checks, batched runs.

Torch is never imported here. ``provider="auto"`` tries TensorRT (fp16, engine cache
under the user cache directory), then CUDA, then the CPU; each provider that cannot
run is skipped with one line saying why, and :attr:`Engine.provider` is the one that
actually runs. Asking for ``cuda`` or ``tensorrt`` explicitly where it can't run raises
:class:`ProviderUnavailable` instead of silently running on the CPU.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gincli.core.lazy import onnxruntime as ort
from gincli.core.model_contract import IMAGE_INPUT, INPUTS, MASK_INPUT, OUTPUT, TILE, ModelInfo, parse_metadata

log = logging.getLogger("gin")

PROVIDERS = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
AUTO_ORDER = ("tensorrt", "cuda", "cpu")
MAX_GPU_BATCH = 32  # the TensorRT optimisation profile's upper bound


class EngineError(RuntimeError):
    """The model file can't be used; the message names it and says why."""


class ProviderUnavailable(EngineError):
    """An explicitly requested execution provider cannot run on this machine."""


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "gin"


def _gpu_driver_problem() -> str | None:
    """Why no NVIDIA GPU can be used here, or None. Checked before building a GPU session
    (ONNX Runtime would otherwise fall back to the CPU with only a log message)."""
    library = "nvcuda.dll" if sys.platform == "win32" else "libcuda.so.1"
    try:
        ctypes.CDLL(library)
    except OSError:
        return f"no NVIDIA driver ({library} not found)"
    return None


def _provider_problem(name: str) -> str | None:
    if PROVIDERS[name] not in ort.get_available_providers():
        return f"this onnxruntime build has no {PROVIDERS[name]} (install onnxruntime-gpu)"
    return None if name == "cpu" else _gpu_driver_problem()


def _provider_options(name: str) -> dict[str, object]:
    if name != "tensorrt":
        return {}
    shapes = {b: ",".join(f"{k}:{b}x{c}x{TILE}x{TILE}" for k, c in INPUTS.items()) for b in (1, 8, MAX_GPU_BATCH)}
    cache = user_cache_dir() / "tensorrt"
    cache.mkdir(parents=True, exist_ok=True)
    return {
        "trt_fp16_enable": True,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache),
        "trt_profile_min_shapes": shapes[1],
        "trt_profile_opt_shapes": shapes[8],
        "trt_profile_max_shapes": shapes[MAX_GPU_BATCH],
    }


def session_options(threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # parallel mode measured 2x slower here
    options.log_severity_level = 3
    options.add_session_config_entry("session.set_denormal_as_zero", "1")  # softmax on denormals is 10x slower
    if threads:
        options.intra_op_num_threads = threads
    return options


class Engine:
    """One ONNX Runtime session, created once and reused for every batch of tiles."""

    def __init__(
        self,
        model_path: str | Path,
        provider: str = "auto",
        threads: int | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        report = report or log.info
        if provider not in ("auto", *PROVIDERS):
            raise ValueError(f"unknown provider {provider!r}; choose auto, {', '.join(PROVIDERS)}")
        if not self.model_path.is_file():
            raise EngineError(f"{self.model_path}: no such model file")
        for name in AUTO_ORDER if provider == "auto" else (provider,):
            problem = _provider_problem(name)
            if problem is None:
                self.session = self._open(name, threads)
                if PROVIDERS[name] in self.session.get_providers():
                    break
                problem = "failed to initialise (ONNX Runtime fell back to the CPU)"
            if provider != "auto":
                raise ProviderUnavailable(f"provider {name} cannot run here: {problem}")
            report(f"gin: {name} provider skipped: {problem}")
        self.provider = name
        self._check_signature()
        self.info: ModelInfo = parse_metadata(self.session.get_modelmeta().custom_metadata_map)
        threads_used = threads or "default"
        report(f"gin: running {self.model_path.name} on {name} (threads: {threads_used})")

    def _open(self, name: str, threads: int | None) -> ort.InferenceSession:
        chain = [(PROVIDERS[name], _provider_options(name))]
        if name != "cpu":
            chain.append((PROVIDERS["cpu"], {}))
        try:
            # int8 graphs keep some convs in fp32 on purpose; this optimizer would quantise them again
            return ort.InferenceSession(
                str(self.model_path), session_options(threads), providers=chain,
                disabled_optimizers=["WeightBiasQuantization"],
            )  # fmt: skip
        except Exception as exc:  # ORT raises its own Fail / InvalidProtobuf / InvalidGraph types
            reason = str(exc).strip().splitlines()[0][:300]
            raise EngineError(f"{self.model_path}: not a usable ONNX model ({reason})") from exc

    def _check_signature(self) -> None:
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        expected = {name: [c, TILE, TILE] for name, c in INPUTS.items()}
        if (
            set(inputs) != set(expected)
            or any(list(inputs[k][1:]) != v for k, v in expected.items())
            or OUTPUT not in outputs
        ):
            found = ", ".join(f"{k} {v}" for k, v in inputs.items())
            raise EngineError(
                f"{self.model_path}: not a gin inpainting model: inputs are {found}; expected "
                f"image [N, 3, {TILE}, {TILE}] and mask [N, 1, {TILE}, {TILE}] (export one with `gin export`)"
            )

    def run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Inpaint a batch of tiles: images N x 3 x 256 x 256 and masks N x 1 x 256 x 256,
        float32 in [0, 1], 1 = hole. Returns N x 3 x 256 x 256 float32."""
        if images.ndim != 4 or images.shape[1:] != (3, TILE, TILE) or masks.shape != (images.shape[0], 1, TILE, TILE):
            raise ValueError(f"expected N x 3 x {TILE} x {TILE} images and N x 1 x {TILE} x {TILE} masks, "
                             f"got {images.shape} and {masks.shape}")  # fmt: skip
        images = np.ascontiguousarray(images, dtype=np.float32)
        masks = np.ascontiguousarray(masks, dtype=np.float32)
        step = MAX_GPU_BATCH if self.provider != "cpu" else max(1, len(images))
        parts = [
            self.session.run([OUTPUT], {IMAGE_INPUT: images[i : i + step], MASK_INPUT: masks[i : i + step]})[0]
            for i in range(0, len(images), step)
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
