"""JPEG in, JPEG out: how many pixels outside the holes change, whole re-encode against
re-encoding only the blocks the holes touch (`gincli.io.jpeg_blocks`).

    python benchmarks/jpeg_blocks.py data/holdout          # each photo saved as a quality-90 JPEG first
    python benchmarks/jpeg_blocks.py photos/ --size 4000x3000

Each photo (resized to --size if given) is written as a JPEG (quality 90, 4:2:0), given one
80 x 60 hole, and filled with OpenCV Telea (the fill does not matter here: only what happens
outside the hole is measured); the result is written both ways and decoded again.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from gincli.core.lazy import cv2
from gincli.io.images import iter_image_files, read_image, write_image
from gincli.io.jpeg_blocks import write_jpeg_keeping_blocks
from gincli.io.metadata import read_file_metadata


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--size", help="WxH to resize each photo to (default: as it is)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in iter_image_files(args.photos):
            rgb = read_image(path)[..., :3]
            if rgb.ndim != 3 or rgb.dtype != np.uint8:
                continue
            if args.size:
                rgb = cv2.resize(rgb, tuple(int(v) for v in args.size.split("x")), interpolation=cv2.INTER_AREA)
            source = folder / "in.jpg"
            write_image(source, rgb, quality=90)
            decoded = read_image(source)
            h, w = decoded.shape[:2]
            hole = np.zeros((h, w), bool)
            top, left = h // 3, w // 3
            hole[top : top + 60, left : left + 80] = True
            filled = cv2.inpaint(decoded, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
            write_image(folder / "whole.jpg", filled, quality=90)
            why_not = write_jpeg_keeping_blocks(source, filled, hole, folder / "blocks.jpg", read_file_metadata(source))
            assert why_not is None, why_not
            outside = ~hole
            row = [path.name, w, h]
            for name in ("whole", "blocks"):
                diff = np.abs(read_image(folder / f"{name}.jpg").astype(int) - decoded.astype(int)).max(axis=2)
                row += [int((diff[outside] > 0).sum()), int(diff[outside].max())]
            rows.append(row)
    print(f"{'photo':<40} {'size':>11} {'whole: px changed':>18} {'max':>4} {'blocks: px changed':>19} {'max':>4}")
    for name, w, h, whole_n, whole_max, blocks_n, blocks_max in rows:
        print(f"{name[:40]:<40} {f'{w}x{h}':>11} {whole_n:>18,} {whole_max:>4} {blocks_n:>19,} {blocks_max:>4}")
    totals = np.array([r[3:] for r in rows])
    print(f"\n{len(rows)} photos; median pixels changed outside the hole: whole re-encode "
          f"{int(np.median(totals[:, 0])):,} (max level {totals[:, 1].max()}), blocks only "
          f"{int(np.median(totals[:, 2])):,} (max level {totals[:, 3].max()})")  # fmt: skip


if __name__ == "__main__":
    main()
