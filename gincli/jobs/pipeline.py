"""What batch and video jobs share: the options base, the summary, the usage error, and the
bounded window of work in flight.

Both jobs run the same stages (read, mask, inpaint, write); an image and a frame differ only
in where they come from and where they go. What a user sets that applies to either (mask
inversion and growth, overwrite, how many items are in flight) lives in :class:`JobOptions`,
and the mask is finished in one place, :meth:`JobOptions.finish_mask`.
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from gincli.core.imagemath import dilate_mask

Item = TypeVar("Item")
Result = TypeVar("Result")


class UsageError(ValueError):
    """Options that cannot work together or would destroy an input; raised before any work."""


# a finished mask that holes more of the picture than this is likelier inverted than meant
# (DeepGIN's "extreme" masks hole up to about 60 %)
MOSTLY_HOLE = 0.75


@dataclass
class JobOptions:
    output: Path
    invert_mask: bool = False
    dilate: int = 0  # grow every hole by this many pixels
    overwrite: bool = False
    workers: int = 4  # items in flight: their tiles share engine batches

    def finish_mask(self, mask: np.ndarray) -> np.ndarray:
        """A mask as read (1 = hole) after --invert-mask and --dilate."""
        return dilate_mask(1.0 - mask if self.invert_mask else mask, self.dilate)

    def inverted_mask_note(self, mask: np.ndarray) -> str | None:
        """A note for a finished mask that holes most of the picture but not all of it: more
        likely drawn the other way round (holes in black) than meant; None otherwise."""
        share = float(mask.mean())
        if not MOSTLY_HOLE < share < 1:
            return None
        colour, fix = ("black", "drop --invert-mask") if self.invert_mask else ("white", "add --invert-mask")
        return (f"the mask makes {share:.0%} of the picture a hole ({colour} marks holes): if it marks them "
                f"the other way round, {fix}")  # fmt: skip


def check_writable(folder: Path) -> None:
    """Fail before any work, not after the first inpainting, when nothing can be written into
    ``folder`` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write into {folder} ({exc.strerror or exc}): choose another -o/--output") from exc


@dataclass
class JobSummary:
    strategies: dict[str, int] = field(default_factory=dict)  # strategy -> items it ran on
    warnings: list[str] = field(default_factory=list)

    def count(self, strategy: str) -> None:
        self.strategies[strategy] = self.strategies.get(strategy, 0) + 1


def bounded_map(
    executor: Executor,
    items: Iterable[Item],
    fn: Callable[[Item], Result],
    window: int,
    ordered: bool = True,
) -> Iterator[tuple[Item, Future[Result]]]:
    """Run ``fn`` on at most ``window`` items at a time (memory stays flat however many there
    are); yield ``(item, future)`` in input order, or as each completes when not ``ordered``
    (a slow image then does not hold back the ones behind it). Closed early, it cancels the
    items not yet started."""
    pending: deque[tuple[Item, Future[Result]]] = deque()
    queue = iter(items)

    def submit_next() -> None:
        for item in queue:
            pending.append((item, executor.submit(fn, item)))
            return

    for _ in range(max(1, window)):
        submit_next()
    try:
        while pending:
            if ordered:
                item, future = pending.popleft()  # the caller waits on it
            else:
                wait([f for _, f in pending], return_when=FIRST_COMPLETED)
                position = next(i for i, (_, f) in enumerate(pending) if f.done())
                item, future = pending[position]
                del pending[position]
            submit_next()
            yield item, future
    finally:  # stopped early (Ctrl-C, an error, --fail-fast): what runs finishes, what waits is dropped,
        for _, queued in pending:  # else the executor's exit ran the whole window first (12 s of images)
            queued.cancel()
