"""The engine over an exported gin model: backend choice, checks, batched runs.

Torch is never imported here. ``provider="auto"`` tries TensorRT (fp16, engine cache
under the user cache directory), then CUDA, then OpenVINO on the CPU (bf16 where the
CPU computes bf16 natively, f32 otherwise), then ONNX Runtime's CPU provider; each one
that cannot run is skipped with one line saying why, and :attr:`Engine.provider` is the
one that actually runs. Asking for one explicitly where it can't run raises
:class:`ProviderUnavailable` instead of silently running elsewhere.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gincli.core.hardware import cpu_has_bf16
from gincli.core.lazy import onnxruntime as ort
from gincli.core.model_contract import (
    IMAGE_INPUT,
    INPUTS,
    MASK_INPUT,
    OUTPUT,
    TILE,
    ModelContractError,
    ModelInfo,
    read_model_info,
)
from gincli.core.openvino_backend import OpenVinoSession, openvino_problem

log = logging.getLogger("gin")

PROVIDERS = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
BACKENDS = ("tensorrt", "cuda", "openvino", "cpu")  # --provider choices besides auto, in auto's order
PRECISIONS = ("auto", "fp32", "bf16")
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
    if name == "openvino":
        return openvino_problem()
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


def _run_session(session: ort.InferenceSession, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    return session.run([OUTPUT], {IMAGE_INPUT: images, MASK_INPUT: masks})[0]


class Engine:
    """One inference session (ONNX Runtime or OpenVINO), created once and reused for every batch.

    ``precision`` applies to OpenVINO: ``auto`` is bf16 where the CPU computes bf16 natively
    (AVX512_BF16 or AMX), f32 elsewhere; ``fp32`` asks for exact fp32.
    """

    def __init__(
        self,
        model_path: str | Path,
        provider: str = "auto",
        threads: int | None = None,
        report: Callable[[str], None] | None = None,
        precision: str = "auto",
    ) -> None:
        self.model_path = Path(model_path)
        # the backends auto passes over are expected on most machines: said only with -v (debug)
        report_skip = report or log.debug
        report = report or log.info
        if provider not in ("auto", *BACKENDS):
            raise ValueError(f"unknown provider {provider!r}; choose auto, {', '.join(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose {', '.join(PRECISIONS)}")
        if not self.model_path.is_file():
            raise EngineError(f"{self.model_path}: no such model file")
        try:
            self.info: ModelInfo = read_model_info(self.model_path)
        except ModelContractError as exc:
            raise EngineError(str(exc)) from exc
        self.precision = "fp32"
        self._openvino: OpenVinoSession | None = None
        for name in BACKENDS if provider == "auto" else (provider,):
            problem = _provider_problem(name)
            if problem is None and name == "openvino":
                self.precision = "bf16" if precision == "bf16" or (precision == "auto" and cpu_has_bf16()) else "fp32"
                self._openvino = OpenVinoSession(self.model_path, self.precision, threads)  # compiles on first use
                self._run_batch = self._openvino.run
                break
            if problem is None:
                session = self._open(name, threads)
                if PROVIDERS[name] in session.get_providers():
                    self.session = session
                    # the session alone, not a method of self: no reference cycle, so a dropped
                    # Engine frees its session and memory arena at once, not at the next collection
                    self._run_batch = functools.partial(_run_session, session)
                    break
                problem = "failed to initialise (ONNX Runtime fell back to the CPU)"
            if provider != "auto":
                raise ProviderUnavailable(f"provider {name} cannot run here: {problem}")
            report_skip(f"gin: {name} provider skipped: {problem}")
        self.provider = name
        threads_used = threads or "default"
        report(f"gin: running {self.model_path.name} on {name} ({self.precision}, threads: {threads_used})")

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory yet (OpenVINO compiles it on the first batch)."""
        return self._openvino is None or self._openvino.request is not None

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

    def run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Inpaint a batch of tiles: images N x 3 x 256 x 256 and masks N x 1 x 256 x 256,
        float32 in [0, 1], 1 = hole. Returns N x 3 x 256 x 256 float32."""
        if images.ndim != 4 or images.shape[1:] != (3, TILE, TILE) or masks.shape != (images.shape[0], 1, TILE, TILE):
            raise ValueError(f"expected N x 3 x {TILE} x {TILE} images and N x 1 x {TILE} x {TILE} masks, "
                             f"got {images.shape} and {masks.shape}")  # fmt: skip
        images = np.ascontiguousarray(images, dtype=np.float32)
        masks = np.ascontiguousarray(masks, dtype=np.float32)
        step = MAX_GPU_BATCH if self.provider in ("tensorrt", "cuda") else max(1, len(images))
        parts = [self._run_batch(images[i : i + step], masks[i : i + step]) for i in range(0, len(images), step)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if not np.isfinite(out).all():
            raise EngineError(f"{self.model_path}: the model returned NaN or infinite values")
        # the graph already ends in this select; redone here so valid pixels stay the input's bits
        # whatever precision a backend chose to run it in
        return np.where(masks >= 0.5, out, images)
