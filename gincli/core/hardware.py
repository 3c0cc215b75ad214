"""What this machine's processor offers, read without importing any framework."""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Callable
from pathlib import Path

BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # Linux /proc/cpuinfo names


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The processor's feature flags (Linux); empty where they cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_bf16() -> bool:
    """True where the CPU computes bf16 natively (AVX512_BF16 or AMX); elsewhere bf16 is emulated
    and slower than fp32 (measured: a DeepGIN forward pass 60x slower on an AVX2-only CPU)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). A long video allocates and frees frame-sized buffers from several threads;
    glibc keeps the freed pages, scattered between live ones, and without this the peak
    memory of a run grows slowly with its length."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once; None where there is no glibc."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
