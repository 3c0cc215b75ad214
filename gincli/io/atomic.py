"""One way to write a file so that it is either complete or absent: images, chunks,
videos, ONNX models and checkpoints all go through :func:`atomic_path`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_PARTIAL = re.compile(r"^\..+\.partial-(?P<pid>\d+)(\.[^.]*)?$")


def partial_name(path: Path) -> Path:
    """The hidden temporary name beside ``path``; it keeps the suffix, so writers that choose
    the format by extension (OpenCV, FFmpeg) still do, and a crash leaves no file under ``path``."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed over ``path`` (atomic on
    one file system), on any failure removed. The parent folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = partial_name(path)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_partials(folder: str | Path) -> None:
    """Delete the temporary files that a killed process (SIGKILL, power loss) left in
    ``folder``: those whose writer is no longer running. Files of live writers stay."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        found = _PARTIAL.match(path.name)
        if found and int(found["pid"]) != os.getpid() and not _alive(int(found["pid"])):
            path.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically."""
    with atomic_path(path) as temp:
        temp.write_bytes(data)
