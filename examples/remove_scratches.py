"""Remove line scratches and dust from a scanned film, with gin's Python API.

    python examples/remove_scratches.py reel.mp4 restored.mp4
    python examples/remove_scratches.py reel.mp4 restored.mp4 --model my_model.onnx --line-contrast 0.05

Three steps per frame: detect the damage (it needs the frames around it, to tell dust, which
sits in one frame, and scratches, which stay put on the film, from the picture), inpaint it, write the frame. The output keeps the
reel's frame timing and its soundtrack. Copy this file and adapt it: the thresholds, the
extra dilation, or a hook of your own (say, a mask you painted for a splice).
`gin video reel.mp4 --auto-mask scratches -o restored.mp4` does the same, resumable.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from gincli import Inpainter
from gincli.core.imagemath import dilate_mask
from gincli.io.video import Frame, VideoFileReader, inpainted_frame
from gincli.io.video_encode import write_video
from gincli.jobs.video import FIELD_MODES, FILM_INPAINTER, works_by_field
from gincli.masks.scratches import DamageThresholds, damage_masks


def restored(
    reel: VideoFileReader, inpainter: Inpainter, thresholds: DamageThresholds, fields: bool
) -> Iterator[Frame]:
    """Each frame of the reel with its scratches and dust inpainted. Every other pixel is passed
    on as it was decoded (a planar YUV reel, read with ``keep_samples``), not through RGB. A reel
    transferred to video interlaced is worked on field by field (``fields``: each field is an instant)."""
    frames, images = itertools.tee(reel.frames())  # the detector reads a few frames ahead
    found = damage_masks((f.image for f in images), thresholds, fields=fields)
    for frame, damage in zip(frames, found, strict=True):
        damage = dilate_mask(damage, 1)  # scanned scratches have soft edges: cover them
        if damage.any():
            filled = inpainter.inpaint(frame.image, damage, fields=fields)
            frame = inpainted_frame(frame, filled, damage, reel.info.colour)
        yield frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reel", help="the scanned film (mp4, mov, mkv, avi)")
    parser.add_argument("output", help="the restored film; its container decides the format")
    parser.add_argument("--model", help="ONNX model from `gin export` [default: the bundled one]")
    parser.add_argument("--line-contrast", type=float, default=DamageThresholds().line_contrast,
                        help="how much a scratch must stand out (0-1); lower finds fainter ones")  # fmt: skip
    parser.add_argument("--fields", choices=FIELD_MODES, default="auto",
                        help="interlaced footage: work field by field (separate), on whole frames (whole), or "
                             "as the first frames show, and where they are too still to tell as the file says (auto)")  # fmt: skip
    args = parser.parse_args()

    reel = VideoFileReader(args.reel, keep_samples=True)  # frames are replaced below, never edited
    # gin video's settings for film: windows around the damage (crop), the classical fill for damage up to 16 px
    # across, no grain copied into the network's fills (it would flicker)
    inpainter = Inpainter(args.model, **FILM_INPAINTER)
    thresholds = DamageThresholds(line_contrast=args.line_contrast)
    # interlaced: where the frames comb, whatever the file says; too still to tell, as it says
    fields = works_by_field(Path(args.reel), reel, args.fields, print, progress=True)
    frames = tqdm(restored(reel, inpainter, thresholds, fields), total=reel.info.frames, unit="frame")
    count = write_video(args.output, frames, reel.info, audio_from=args.reel)
    print(f"wrote {args.output}: {count} frames")


if __name__ == "__main__":
    main()
