"""Checkpoint files: atomic saving of training state, and loading a generator from
our checkpoints or from the authors' plain state dict (``latest_net_G.pth``)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from gincli.io.atomic import atomic_path
from train.generator import DeepGINGenerator
from train.onnx_weights import generator_state_from_onnx, is_onnx_file

CHECKPOINT_FORMAT = "deepgin-checkpoint"
WIDTH_KEY = "lr_coarse_tinker.1.weight"  # first conv of G1: ngf / 2 output channels


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message names the file and what was found."""


def save_atomic(payload: dict[str, Any], path: str | Path) -> None:
    """Write with ``torch.save`` to a temporary file beside ``path``, then rename over it:
    a crash mid-write never leaves a truncated file under the final name."""
    with atomic_path(path) as temp, open(temp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())


def read_checkpoint(path: str | Path) -> Any:
    """``torch.load(weights_only=True)`` on CPU, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] != b"PK" and head[:1] != b"\x80":  # a zip archive, or a legacy pickle stream
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a .pth zip archive nor a pickle)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower():
            raise CheckpointError(f"{path}: not a readable PyTorch checkpoint (corrupt pickle data)") from exc
        # torch's message advises weights_only=False; gin never does that: it can run the file's code
        raise CheckpointError(
            f"{path}: holds more than weights (Python objects or code), so it was refused: gin loads "
            "tensors and plain values only, never code from a file. Re-save just the state_dict with "
            "torch.save(model.state_dict(), path) where the file came from."
        ) from exc
    except Exception as exc:  # torch raises zip and runtime errors alike for foreign files
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else exc.__class__.__name__
        raise CheckpointError(f"{path}: not a readable PyTorch checkpoint ({reason})") from exc


def _strip_ddp_prefix(state: dict[str, Any]) -> dict[str, Any]:
    if state and all(k.startswith("module.") for k in state):
        return {k[len("module.") :]: v for k, v in state.items()}
    return state


def generator_state(obj: Any, path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator's state dict inside a loaded file, and what is known of its origin."""
    if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
        hole_fill = obj.get("config", {}).get("hole_fill") or "white"  # older checkpoints name none
        averaged = "generator_ema" in obj  # runs with --ema-decay: the average is the model
        info = {"source": "deepgin", "step": obj.get("step"), "stage": obj.get("stage"), "hole_fill": hole_fill}
        return _strip_ddp_prefix(obj["generator_ema" if averaged else "generator"]), info
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return _strip_ddp_prefix(obj), {"source": "state_dict", "step": None, "stage": None, "hole_fill": "white"}
    found = f"a dict with keys {sorted(obj)[:5]}" if isinstance(obj, dict) else f"a {type(obj).__name__}"
    raise CheckpointError(f"{path}: not a generator checkpoint (found {found})")


def read_generator_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator's state dict in a training checkpoint, the authors' file or a `gin export` graph."""
    if is_onnx_file(path):
        if not Path(path).is_file():
            raise CheckpointError(f"{path}: no such file")
        try:
            return generator_state_from_onnx(path)
        except ValueError as exc:
            raise CheckpointError(str(exc)) from exc
    return generator_state(read_checkpoint(path), path)


def generator_width(state: dict[str, torch.Tensor], path: str | Path) -> int:
    """The width (``ngf``) of the generator whose weights ``state`` were read from ``path``."""
    if WIDTH_KEY not in state:
        sample = ", ".join(list(state)[:3])
        raise CheckpointError(f"{path}: not a DeepGIN generator (no {WIDTH_KEY}; found keys such as {sample})")
    return 2 * int(state[WIDTH_KEY].shape[0])


def load_generator(path: str | Path) -> tuple[DeepGINGenerator, dict[str, Any]]:
    """Build a :class:`DeepGINGenerator` of the file's width and load it.

    Accepts our training checkpoints, the authors' plain state dict and graphs from
    ``gin export``. Returns the model (eval mode, CPU) and ``info`` with ``ngf``,
    ``source``, ``step``, ``stage`` and ``hole_fill``.
    """
    state, info = read_generator_weights(path)
    ngf = generator_width(state, path)
    model = DeepGINGenerator(ngf, hole_fill=info["hole_fill"])
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k} {tuple(state[k].shape)} (expected {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = [
        f"{len(items)} {label} such as {items[0]}"
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", mismatched))
        if items
    ]
    if problems:
        raise CheckpointError(f"{path}: does not match a DeepGIN generator of width {ngf}: " + "; ".join(problems))
    model.load_state_dict(state)
    model.eval()
    return model, {**info, "ngf": ngf}
