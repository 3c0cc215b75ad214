"""The test suite's wall time and peak memory, as the README states them.

    python benchmarks/suite.py                 # the README's test command, three times
    python benchmarks/suite.py --runs 1 -- -n 0   # extra pytest arguments after --

Peak memory is the summed resident set of pytest and every process under it (the xdist
workers and the subprocesses tests start), sampled every 0.2 s: /usr/bin/time reports the
largest single process only, which undercounts a suite run by several workers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = Path(__file__).resolve().parents[1]


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # gone between listing and reading
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    return children


def tree_rss(pid: int) -> int:
    """Bytes resident in ``pid`` and all its descendants."""
    children, total, todo = _children(), 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def run_once(extra: list[str]) -> tuple[float, int, str]:
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    output = proc.stdout.read() if proc.stdout else ""
    summary = output.strip().splitlines()[-1] if output.strip() else f"exit {proc.returncode}"
    return time.monotonic() - start, peak, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args()
    rows = [run_once(args.pytest_args) for _ in range(args.runs)]
    print(f"cores: {os.cpu_count()}, pytest arguments: {' '.join(args.pytest_args) or '(the configured ones)'}")
    print("| run | wall s | peak RSS GiB (all processes) | pytest says |")
    print("|---|---|---|---|")
    for i, (wall, peak, summary) in enumerate(rows, 1):
        print(f"| {i} | {wall:.1f} | {peak / 2**30:.2f} | {summary} |")
    walls, peaks = [r[0] for r in rows], [r[1] for r in rows]
    print(f"| median | {statistics.median(walls):.1f} | {statistics.median(peaks) / 2**30:.2f} | |")


if __name__ == "__main__":
    main()
