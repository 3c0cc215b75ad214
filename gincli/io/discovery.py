"""What a batch run processes: input discovery, mask matching, output paths and sharding.

Path logic only; nothing here decodes an image.
"""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePath

from gincli.io.images import IMAGE_EXTENSIONS, iter_image_files
from gincli.io.video import VIDEO_EXTENSIONS

# name.png, name_mask.png, name_mask001.png (LaMa's layout: several masks per image)
_MASK_NAME = re.compile(r"^(?P<base>.+?)(?:_mask(?P<index>\d*))?$")
_GLOB_CHARS = set("*?[")


class InputError(ValueError):
    """An input argument that names nothing usable (a usage error)."""


@dataclass(frozen=True)
class Source:
    path: Path
    rel: PurePath  # where it sits relative to the folder or pattern it came from; mirrored in the output


def discover(specs: list[str], recursive: bool) -> list[Source]:
    """Files, folders (descended with ``recursive``) and glob patterns -> sorted, de-duplicated sources."""
    found: dict[Path, Source] = {}
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            for file in iter_image_files(path, recursive=recursive):
                found.setdefault(file.resolve(), Source(file, file.relative_to(path)))
        elif path.is_file():
            if path.suffix.lower() in VIDEO_EXTENSIONS:  # else "not a decodable image", which hid the fix
                raise InputError(f"{spec}: a video: `gin video` fills videos frame by frame")
            found.setdefault(path.resolve(), Source(path, PurePath(path.name)))
        elif _GLOB_CHARS & set(spec):
            matches = [Path(m) for m in sorted(glob.glob(spec, recursive=recursive)) if Path(m).is_file()]
            for m in matches:
                if m.suffix.lower() in IMAGE_EXTENSIONS:
                    found.setdefault(m.resolve(), Source(m, PurePath(m.name)))
            if not matches:
                raise InputError(f"{spec}: the pattern matches no file")
        else:
            raise InputError(f"{spec}: no such file or folder")
    if not found:
        raise InputError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {', '.join(specs)}"
                         + ("" if recursive else " (-r to look in sub-folders)"))  # fmt: skip
    return sorted(found.values(), key=lambda s: str(s.rel))


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process and on every machine (unlike ``hash``)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big")


def in_shard(source: Source, shard: tuple[int, int] | None) -> bool:
    """``shard`` = (K, N), 1-based: a stable hash of the relative path picks exactly one shard per input."""
    if shard is None:
        return True
    k, n = shard
    return stable_hash(str(source.rel)) % n == k - 1


class MaskFolder:
    """Masks matched to images by stem: ``name.png``, ``name_mask.png`` or ``name_mask001.png``;
    in the image's own sub-folder when the mask folder mirrors the input tree, else by stem alone."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_path: dict[tuple[PurePath, str], list[Path]] = {}
        self._by_stem: dict[str, list[Path]] = {}
        for file in iter_image_files(root, recursive=True):
            base = _MASK_NAME.match(file.stem)["base"]  # type: ignore[index]
            rel_parent = file.parent.relative_to(root)
            self._by_path.setdefault((rel_parent, base), []).append(file)
            self._by_stem.setdefault(base, []).append(file)

    def masks_for(self, rel: PurePath) -> list[Path]:
        return sorted(self._by_path.get((rel.parent, rel.stem)) or self._by_stem.get(rel.stem) or [])


def output_path(out_dir: Path, rel: PurePath, suffix: str, mask: Path | None, several: bool) -> Path:
    """Mirror ``rel`` under ``out_dir``; with several masks per image the mask's tag is kept
    (``photo.jpg`` + ``photo_mask002.png`` -> ``photo_mask002.jpg``)."""
    stem = mask.stem if several and mask is not None else rel.stem
    return out_dir / rel.parent / f"{stem}{suffix}"


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' with 1 <= K <= N."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise InputError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 3/8")
    return int(match[1]), int(match[2])
