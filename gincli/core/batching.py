"""Engine batches shared across images: tile requests from many threads, one inference thread.

A worker thread that has tiled its image submits the tiles and waits; the inference
thread takes every request queued at that moment (up to the batch size, more tiles
are split) and runs them as one engine batch, so small images processed side by side
fill batches together instead of each running a batch of one.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

RunFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # N x 3 x 256 x 256, N x 1 x 256 x 256 -> N x 3 x 256 x 256


class TileBatcher:
    def __init__(self, run: RunFn, batch_size: int, on_tiles: Callable[[int], None] | None = None) -> None:
        self._run, self.batch_size = run, max(1, batch_size)
        self.on_tiles = on_tiles
        self._requests: queue.Queue[tuple[np.ndarray, np.ndarray, Future]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """Inpaint ``images`` (any count) on the inference thread; blocks until they are done."""
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    # the thread holds the batcher weakly: once its owner is gone the thread ends and
                    # the engine (and its memory arena) is freed, instead of living as long as the process
                    self._thread = threading.Thread(
                        target=_serve, args=(weakref.ref(self), self._requests), name="gin-inference", daemon=True
                    )
                    self._thread.start()
        done: Future = Future()
        self._requests.put((images, masks, done))
        return done.result()


IDLE_CHECK_S = 0.5  # how often an idle inference thread checks whether its batcher still exists


def _gather(requests: queue.Queue, batch_size: int) -> list[tuple[np.ndarray, np.ndarray, Future]] | None:
    """Every request queued now, up to ``batch_size`` tiles; None when none came for a while."""
    try:
        pending = [requests.get(timeout=IDLE_CHECK_S)]
    except queue.Empty:
        return None
    count = len(pending[0][0])
    while count < batch_size:
        try:
            pending.append(requests.get_nowait())
        except queue.Empty:
            break
        count += len(pending[-1][0])
    return pending


def _serve(owner: weakref.ref[TileBatcher], requests: queue.Queue) -> None:
    while (batcher := owner()) is not None:
        size = batcher.batch_size
        del batcher  # hold no reference while waiting, so the owner can be collected meanwhile
        pending = _gather(requests, size)
        if pending is not None and (batcher := owner()) is not None:
            _run_batch(batcher, pending)
            del batcher


def _run_batch(batcher: TileBatcher, pending: list[tuple[np.ndarray, np.ndarray, Future]]) -> None:
    images = np.concatenate([p[0] for p in pending])
    masks = np.concatenate([p[1] for p in pending])
    size = batcher.batch_size
    try:
        outputs = []
        for i in range(0, len(images), size):
            outputs.append(batcher._run(images[i : i + size], masks[i : i + size]))
            if batcher.on_tiles is not None:
                batcher.on_tiles(len(outputs[-1]))
        result = np.concatenate(outputs)
    except Exception as exc:  # hand the error to every waiting caller
        for *_, done in pending:
            done.set_exception(exc)
        return
    start = 0
    for request_images, _, done in pending:
        done.set_result(result[start : start + len(request_images)])
        start += len(request_images)
