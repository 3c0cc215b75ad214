"""What this machine's processor offers (read without importing any framework), and how a job
shares out its cores and memory."""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gincli.core.lazy import cv2

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


# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
LARGEST_HEAP_BUFFER = 32 * 2**20  # glibc's ceiling for the mmap threshold on 64-bit systems
# heaps shared by all threads: a frame buffer freed on one thread goes back to the heap of the
# thread that allocated it, and with glibc's default (up to 8 heaps a core) each of a video run's
# threads keeps its own free frame buffers (measured: peak 574-585 -> 552-561 MB on a 10 s 720p
# clip, same speed)
FRAME_HEAPS = 2


def return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's ``malloc_trim``; nothing
    elsewhere). A long video allocates and frees frame-sized buffers from several threads;
    glibc keeps the freed pages, scattered between live ones, and without this the peak
    memory of a run grows slowly with its length."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def reuse_frame_buffers() -> None:
    """Let glibc serve buffers of up to ``LARGEST_HEAP_BUFFER`` (a 720p or 1080p frame in
    float32) from its heap, and free them back to it, instead of mapping fresh pages for each
    and unmapping them after: a video run allocates and frees dozens of frame-sized buffers a
    frame, and every fresh mapping is faulted in page by page (measured: system time 8.4 ->
    2.6 s over 240 frames of 1280 x 720 with detection). Process-wide;
    :func:`return_free_memory`, called every few dozen frames, still hands free pages back,
    so memory stays flat in a video's length. Nothing where there is no glibc."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, LARGEST_HEAP_BUFFER)
        libc.mallopt(_M_TRIM_THRESHOLD, 8 * LARGEST_HEAP_BUFFER)  # trimmed by return_free_memory
        libc.mallopt(_M_ARENA_MAX, FRAME_HEAPS)


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """glibc, looked up once; None where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


@contextmanager
def opencv_on_calling_threads() -> Iterator[None]:
    """Within the block, OpenCV runs each function on the thread that calls it, not spread over
    its own thread pool; the pool's size is restored after. For jobs that already keep every
    core busy with frames in flight on threads of their own: the pool's threads then only
    compete with them, and wait for work actively (spinning) before they sleep. Measured on
    ``gin video --auto-mask scratches --fill classical``, 240 frames of 1280 x 720 on 2 cores,
    three pairs alternated: 29.8 / 26.5 / 29.5 s against 33.6 / 29.4 / 32.1, CPU time (median)
    53.7 against 59.6 s, system time 3.5-3.7 against 5.2-5.7 s; against the code before it, the
    wall-clock gain was within that machine's run-to-run spread. Process-wide, as OpenCV's
    setting is."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)
