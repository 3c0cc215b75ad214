"""Engine batches shared across images: tile requests from many threads, one inference thread.

A worker thread that has tiled its image submits the tiles and waits; the inference
thread takes every request queued at that moment (up to the batch size, more tiles
are split) and runs them as one engine batch, so small images processed side by side
fill batches together instead of each running a batch of one.
"""

from __future__ import annotations

import queue
import threading
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
                    self._thread = threading.Thread(target=self._serve, name="gin-inference", daemon=True)
                    self._thread.start()
        done: Future = Future()
        self._requests.put((images, masks, done))
        return done.result()

    def _gather(self) -> list[tuple[np.ndarray, np.ndarray, Future]]:
        pending = [self._requests.get()]
        count = len(pending[0][0])
        while count < self.batch_size:
            try:
                pending.append(self._requests.get_nowait())
            except queue.Empty:
                break
            count += len(pending[-1][0])
        return pending

    def _serve(self) -> None:
        while True:
            pending = self._gather()
            images = np.concatenate([p[0] for p in pending])
            masks = np.concatenate([p[1] for p in pending])
            try:
                outputs = []
                for i in range(0, len(images), self.batch_size):
                    outputs.append(self._run(images[i : i + self.batch_size], masks[i : i + self.batch_size]))
                    if self.on_tiles is not None:
                        self.on_tiles(len(outputs[-1]))
                result = np.concatenate(outputs)
            except Exception as exc:  # hand the error to every waiting caller
                for *_, done in pending:
                    done.set_exception(exc)
                continue
            start = 0
            for request_images, _, done in pending:
                done.set_result(result[start : start + len(request_images)])
                start += len(request_images)
