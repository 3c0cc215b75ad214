"""Clips whose samples are known exactly: for tests and benchmarks of how video is read and
written (levels, colour tags, samples passed on as decoded)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gincli.io.yuv_planes import Layout, frame_from_planes, frame_planes


def write_lossless_clip(
    path: Path,
    frames: Iterable[Sequence[np.ndarray]],
    pix_fmt: str,
    matrix: int,
    colour_range: int,
    codec: str = "libx264",
) -> None:
    """Frames given as their planes (Y, U, V, each at its own size and depth in ``pix_fmt``),
    encoded losslessly at 24 frames/s by x264 (qp 0: up to 10 bits) or ``codec`` "ffv1" (any
    depth, in .mkv), every frame and the stream tagged with ``matrix`` (an FFmpeg AVColorSpace
    code, also written as primaries and transfer) and ``colour_range``: decoded, the samples
    come back bit for bit."""
    import av

    with av.open(str(path), "w") as container:
        stream = None
        for i, planes in enumerate(frames):
            height, width = planes[0].shape
            if stream is None:
                stream = container.add_stream(codec, rate=24)
                stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
                stream.options = {"qp": "0"} if codec == "libx264" else {}
                context = stream.codec_context
                context.colorspace = context.color_primaries = context.color_trc = matrix
                context.color_range = colour_range
            frame = frame_from_planes(tuple(planes), pix_fmt)
            frame.pts, frame.colorspace, frame.color_range = i, matrix, colour_range
            container.mux(stream.encode(frame))
        if stream is not None:
            container.mux(stream.encode(None))


def clip_samples(path: Path) -> list[tuple[str, tuple[np.ndarray, ...]]]:
    """Each frame of a video file as (its format, its planes), as decoded."""
    import av

    with av.open(str(path)) as container:
        return [(frame.format.name, frame_planes(frame)) for frame in container.decode(container.streams.video[0])]


def changes_outside(
    planes: Sequence[np.ndarray], out_planes: Sequence[np.ndarray], near: np.ndarray, layout: Layout
) -> list[np.ndarray]:
    """Per plane of a frame of ``layout``, how far each sample of ``out_planes`` lies from the one
    in ``planes``, at the samples whose first pixel lies outside ``near`` (H x W bool)."""
    changes = []
    for index, (plane, out_plane) in enumerate(zip(planes, out_planes, strict=True)):
        step_y, step_x = (2**layout.shift_y, 2**layout.shift_x) if index else (1, 1)
        outside = ~near[::step_y, ::step_x][: plane.shape[0], : plane.shape[1]]
        changes.append(np.abs(out_plane.astype(np.int64) - plane)[outside])
    return changes
