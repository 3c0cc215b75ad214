"""The window of work in flight that batch and video jobs share."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gincli.jobs.pipeline import bounded_map


@pytest.mark.parametrize("ordered", [True, False])
def test_bounded_map_keeps_at_most_window_items_in_flight(ordered: bool) -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def work(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01 * (item % 3))
        with lock:
            running -= 1
        return item * item

    with ThreadPoolExecutor(max_workers=8) as executor:
        results = [(item, future.result()) for item, future in bounded_map(executor, range(30), work, 3, ordered)]
    assert sorted(results) == [(i, i * i) for i in range(30)]
    assert peak <= 4  # the window, plus the one handed to the caller while the next is submitted
    if ordered:
        assert [item for item, _ in results] == list(range(30))


def test_unordered_bounded_map_yields_the_first_finished_first() -> None:
    release = threading.Event()

    def work(item: int) -> int:
        if item == 0:
            release.wait(5)  # the first item is slow
        return item

    with ThreadPoolExecutor(max_workers=2) as executor:
        stream = bounded_map(executor, range(2), work, 2, ordered=False)
        first, _ = next(stream)
        release.set()
        assert first == 1 and [item for item, _ in stream] == [0]
