"""Masks per second per family at 256 and 512 (median of repeated timed batches).

python benchmarks/masks.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from gincli.masks.families import FAMILIES


def rate(family: str, size: int, count: int = 200, repeats: int = 5) -> float:
    fn = FAMILIES[family].draw
    rng = np.random.default_rng(0)
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(count):
            fn(size, size, rng)
        rates.append(count / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    print(f"{'family':>9} {'256 masks/s':>12} {'512 masks/s':>12}")
    for family in FAMILIES:
        print(f"{family:>9} {rate(family, 256):>12.0f} {rate(family, 512):>12.0f}")


if __name__ == "__main__":
    main()
