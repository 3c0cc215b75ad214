"""What each fill route costs per photo: median time of one `Inpainter.inpaint` call on the
held-out photos (256 x 256 centre squares, the `gin eval` masks of each family), for
`--fill network` and for `--fill auto` at each thin radius and texture strength asked for.

    python benchmarks/fill_routes.py data/holdout
    python benchmarks/fill_routes.py data/holdout --radii 4 --textures 0.4 0 --families rect,freeform,ca
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

from gincli.core.inpainter import Inpainter
from gincli.core.texture import TEXTURE_STRENGTH
from gincli.jobs.evaluate import eval_mask, load_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--model", type=Path, help="ONNX model [default: the bundled one]")
    parser.add_argument("--radii", type=float, nargs="+", default=[4.0, 8.0], help="--thin-radius values for auto")
    parser.add_argument(
        "--textures", type=float, nargs="+", default=[TEXTURE_STRENGTH], help="--texture values for auto"
    )
    parser.add_argument("--families", default="rect,freeform,ca,lines")
    parser.add_argument("--repeats", type=int, default=1, help="masks per photo and family")
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    photos = load_images(args.photos, 256, full=False)
    routes = {"network": Inpainter(args.model, fill="network", precision=args.precision)}
    for radius, texture in itertools.product(args.radii, args.textures):
        routes[f"auto r{radius:g} t{texture:g}"] = Inpainter(
            args.model, fill="auto", thin_radius=radius, texture=texture, precision=args.precision
        )
    for inpainter in routes.values():  # compile and warm up before timing
        inpainter.inpaint(photos[0][1], eval_mask("rect", 0, (256, 256), 0))
    print(f"{len(photos)} photos x {args.repeats} masks, median ms per photo (one call each)")
    print(f"{'masks':<9}" + "".join(f"{name:>15}" for name in routes))
    for family in args.families.split(","):
        times: dict[str, list[float]] = {name: [] for name in routes}
        for (index, (_, image)), repeat in itertools.product(enumerate(photos), range(args.repeats)):
            mask = eval_mask(family, index, image.shape[:2], 0, repeat)
            for name, inpainter in routes.items():  # alternately, so drifts in machine speed hit all alike
                start = time.perf_counter()
                inpainter.inpaint(image, mask)
                times[name].append(time.perf_counter() - start)
        print(f"{family:<9}" + "".join(f"{1000 * np.median(t):>15.0f}" for t in times.values()), flush=True)


if __name__ == "__main__":
    main()
