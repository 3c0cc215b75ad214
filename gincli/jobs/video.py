"""Video inpainting, frame by frame: the engine behind ``gin video`` and ``gin scratches``.

Streaming: frames are decoded, masked, inpainted (a few in flight, their tiles sharing engine
batches) and encoded in order, so memory does not grow with the length of the video. A video
output is written in chunks of ``chunk_frames`` frames beside the output (``OUT.gin-chunks/``);
each finished chunk is kept, so a re-run with the same arguments resumes after the last one.
The chunks are then joined by packet copy with the input's audio into OUT, which appears only
when complete. A frames-folder output simply skips frames already written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gincli.core.classical import FILM_THIN_RADIUS
from gincli.core.hardware import opencv_on_calling_threads, return_free_memory, reuse_frame_buffers
from gincli.core.imagemath import from_unit_float, grey, to_binary_mask, to_unit_float
from gincli.core.inpainter import Inpainter
from gincli.core.interlacing import by_field_given, fields_by_content
from gincli.core.lazy import cv2
from gincli.io.atomic import atomic_path, remove_stale_partials, write_atomic
from gincli.io.dpx import dpx_time_code
from gincli.io.images import ImageReadError, read_image, write_image
from gincli.io.metadata import Metadata
from gincli.io.video import (
    VIDEO_EXTENSIONS,
    Frame,
    FrameFolderReader,
    VideoError,
    VideoFileReader,
    VideoInfo,
    inpainted_frame,
    numbered_files,
    open_frames,
    unnumbered_images,
)
from gincli.io.video_encode import (
    DEFAULT_PRESET,
    INTERLACED_CODECS,
    PIXEL_SHAPE_CODECS,
    check_codec,
    chunk_file,
    encode_chunks,
    join_chunks,
    pixel_format,
    timed_for,
)
from gincli.io.yuv_planes import LAYOUTS
from gincli.jobs.pipeline import JobOptions, JobSummary, UsageError, bounded_map, check_writable
from gincli.jobs.temporal import FillSmoother
from gincli.masks.scratches import DamageThresholds, damage_masks

AUTO_MASKS = ("scratches",)
# gin video's inpainter for film: windows around the damage (crop: a frame with a few
# scratches costs a few tiles), the classical fill for damage up to FILM_THIN_RADIUS across, and
# no grain copied into the network's fills (it would flicker from frame to frame)
FILM_INPAINTER = {"strategy": "crop", "thin_radius": FILM_THIN_RADIUS, "texture": 0.0}
# interlaced footage: each field found and filled on its own (separate), frames whole, or
# as the first frames show, and where they are too still to tell as the file says (auto)
FIELD_MODES = ("auto", "separate", "whole")
TRIM_EVERY = 24  # frames between returns of freed memory to the system (a few ms each)
FRAME_NAME = "{:06d}.png"  # frames folders out, and detected masks: 1-based, as FFmpeg's image2


@dataclass
class VideoOptions(JobOptions):
    mask: Path | None = None  # one mask for every frame
    masks: Path | None = None  # a folder: one mask per frame, matched by frame number
    mask_video: Path | None = None  # a mask video as long as the input
    auto_mask: str | None = None  # "scratches": detected per frame
    thresholds: DamageThresholds = field(default_factory=DamageThresholds)
    codec: str = "h264"
    crf: int = 18
    preset: str = DEFAULT_PRESET  # x264 / x265 speed preset
    fps: Fraction = Fraction(24)  # frame rate of a frames-folder input
    temporal: float = 0.0  # FillSmoother strength; 0 = off
    fields: str = "auto"  # one of FIELD_MODES
    chunk_frames: int = 240
    workers: int = 3  # frames in flight: found and filled on as many threads


@dataclass
class VideoSummary(JobSummary):
    frames: int = 0  # frames in the output
    inpainted: int = 0  # frames that had a hole
    resumed: int = 0  # frames kept from an earlier, interrupted run


def _mask_fitter(
    width: int, height: int, source: Path, warn: Callable[[str], None]
) -> Callable[[np.ndarray], np.ndarray]:
    """A function that brings a mask from ``source`` to the frames' size, saying so the first
    time a mask is of another size."""
    said = False

    def fit(mask: np.ndarray) -> np.ndarray:
        nonlocal said
        if mask.shape == (height, width):
            return mask
        if not said:
            warn(f"gin: {source}: mask {mask.shape[1]} x {mask.shape[0]}, frames {width} x {height}: resized "
                 "(nearest neighbour)")  # fmt: skip
            said = True
        return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)

    return fit


def _read_mask(path: Path) -> np.ndarray:
    try:
        return to_binary_mask(read_image(path))
    except ImageReadError as exc:
        raise VideoError(f"mask {exc}") from exc


def _frame_numbers(source: VideoFileReader | FrameFolderReader) -> list[int] | None:
    """The numbers the frames will have (a video file's 1 to its declared count; None where it
    declares none), as far as known before they are read."""
    if isinstance(source, FrameFolderReader):
        return source.numbers
    return list(range(1, source.info.frames + 1)) if source.info.frames else None


def _masks_by_frame(
    masks: dict[int, Path], frames: list[int] | None, folder: Path, warn: Callable[[str], None]
) -> dict[int, Path]:
    """Masks by the number of the frame each applies to: its own number, or, where masks and
    frames are unbroken runs as long as each other that start at different numbers (masks
    0 to 239 or a scan's 1001 to 1240 for a clip's frames 1 to 240), its place in the run."""
    numbers = sorted(masks)
    if not frames or len(numbers) != len(frames) or numbers[0] == frames[0]:
        return masks
    if numbers[-1] - numbers[0] != len(numbers) - 1 or frames[-1] - frames[0] != len(frames) - 1:
        return masks
    warn(f"gin: {folder}: masks numbered {numbers[0]} to {numbers[-1]}, frames {frames[0]} to {frames[-1]}: "
         f"matched in order (mask {numbers[0]} to frame {frames[0]})")  # fmt: skip
    return {number - numbers[0] + frames[0]: path for number, path in masks.items()}


def frames_with_masks(
    source: VideoFileReader | FrameFolderReader,
    opts: VideoOptions,
    warn: Callable[[str], None],
    by_field: bool = False,
) -> Iterator[tuple[Frame, np.ndarray]]:
    """Each frame with its hole mask (H x W float32, 1 = hole; all zero where it has none);
    ``by_field``: damage is detected in each field apart (see :func:`works_by_field`)."""
    w, h = source.info.width, source.info.height
    finish = opts.finish_mask
    if opts.auto_mask == "scratches":
        frames, images = itertools.tee(source.frames())  # the detector reads ahead of the frames it yields
        found = damage_masks((frame.image for frame in images), opts.thresholds, max(1, opts.workers), by_field)
        for frame, mask in zip(frames, found, strict=True):
            yield frame, finish(mask)
        return
    if opts.mask is not None:
        single = finish(_mask_fitter(w, h, opts.mask, warn)(_read_mask(opts.mask)))
        if note := opts.inverted_mask_note(single):
            warn(f"gin: {opts.mask}: {note}")
        for frame in source.frames():
            yield frame, single
        return
    if opts.masks is not None:
        _say_unnumbered(opts.masks, "masks", warn)
        by_number = _masks_by_frame(dict(numbered_files(opts.masks, "masks")), _frame_numbers(source), opts.masks, warn)
        empty = np.zeros((h, w), np.float32)
        used = set()
        fit = _mask_fitter(w, h, opts.masks, warn)
        for frame in source.frames():
            path = by_number.get(frame.number)
            used.add(frame.number)
            yield frame, finish(fit(_read_mask(path))) if path is not None else empty
        unmatched = sorted(set(by_number) - used)
        if unmatched:
            names = ", ".join(by_number[n].name for n in unmatched[:3]) + (", ..." if len(unmatched) > 3 else "")
            warn(f"gin: {opts.masks}: {len(unmatched)} of {len(by_number)} masks match no frame ({names}): a mask goes "
                 f"to the frame whose number its name ends in, and frames here are numbered {min(used)} to {max(used)}")  # fmt: skip
        return
    if opts.mask_video is not None:
        mask_frames = VideoFileReader(opts.mask_video).frames()
        fit = _mask_fitter(w, h, opts.mask_video, warn)
        for frame in source.frames():
            mask_frame = next(mask_frames, None)
            if mask_frame is None:
                raise VideoError(f"{opts.mask_video}: mask video ends before frame {frame.index + 1} of the input")
            yield frame, finish(fit(to_binary_mask(mask_frame.image)))
        return
    raise UsageError("give one mask source: --mask FILE, --masks DIR, --mask-video FILE or --auto-mask scratches")


def _fingerprint(input_path: Path, opts: VideoOptions, inpainter: Inpainter) -> str:
    """What the chunks depend on: the input file, every mask source, every setting, and what
    decides the inpainter's output (its model file and fill settings)."""

    def stamp(path: Path | None) -> list:
        if path is None:
            return []
        if path.is_dir():  # each mask: one edited in place leaves the folder's own times as they were
            return [str(path.resolve()), *(stamp(file) for _, file in numbered_files(path, "masks"))]
        stat = path.stat()
        return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]

    settings = {k: str(v) for k, v in asdict(opts).items() if k not in ("output", "overwrite", "workers")}
    # how frames are read and encoded: chunks of a gin that read frames by FFmpeg's fast
    # conversion (a level dark), wrote every input as untagged BT.601, or every pixel from RGB
    # (see gincli/io/video_colour.py), would join these with a step in colour
    colour = (
        "read at their true colour; encoded by the input's matrix and range, tagged with them;"
        " 4:2:0 samples kept outside the holes; deep footage read and written in 10 bits, its"
        " chroma subsampling kept; every planar YUV format's samples kept outside the holes;"
        " the input's sample aspect ratio kept; interlaced footage coded interlaced; the frame rate declared"
        " (x264 force-cfr); HEVC tagged hvc1 in MP4 and MOV"
    )
    parts = [stamp(input_path), stamp(opts.mask), stamp(opts.mask_video), stamp(opts.masks), settings,
             inpainter.output_settings(), colour]  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _dpx_scans(source: VideoFileReader | FrameFolderReader) -> dict[int, Path]:
    """A folder of DPX scans' files by frame number; empty for anything else."""
    if not isinstance(source, FrameFolderReader) or any(p.suffix.lower() != ".dpx" for p in source.files):
        return {}
    return dict(zip(source.numbers, source.files, strict=True))


def _scans_time_code(scans: dict[int, Path]) -> dict[str, str]:
    """The time code of a DPX folder's first scan, as the video made of them starts (a film lab
    conforms a restored reel by it); empty where there is none."""
    if not scans:
        return {}
    with open(scans[min(scans)], "rb") as first:
        code = dpx_time_code(first.read(4096))
    return {"timecode": code} if code else {}


def _gaps(numbers: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of numbers missing between sorted ``numbers``."""
    return [(a + 1, b - 1) for a, b in itertools.pairwise(numbers) if b > a + 1]


def _check_fields(fields: str) -> None:
    if fields not in FIELD_MODES:
        raise UsageError(f"--fields {fields}: choose one of {', '.join(FIELD_MODES)}")


def works_by_field(
    input_path: Path,
    source: VideoFileReader | FrameFolderReader,
    fields: str,
    warn: Callable[[str], None],
    progress: bool = False,
) -> bool:
    """Whether the frames are detected and inpainted field by field (``fields``: one of
    FIELD_MODES), said where gin chose it. With "auto", by what the first frames show
    (:func:`fields_by_content`; read from the start by a reader of their own, ``source`` left
    as it was; ``progress``: a bar where that takes over a second): combed, by field, whatever
    the file says; progressive and moving, whole, whatever it says (film transferred frame for
    frame and flagged interlaced); too still to tell, as the file says."""
    if fields != "auto":
        return fields == "separate"
    frames = open_frames(input_path, source.info.frame_rate).frames()
    shown = tqdm(frames, desc="looking for interlacing", unit="frame", leave=False, delay=1,
                 disable=not progress, dynamic_ncols=True)  # fmt: skip
    seen, flagged = fields_by_content(grey(frame.image) for frame in shown), source.info.first_field
    if not by_field_given(seen, flagged):
        if flagged is not None:
            warn(f"gin: {input_path} says it is interlaced ({flagged} field first), but its frames are progressive "
                 "(film transferred frame for frame): worked on as whole frames (--fields separate: by field)")  # fmt: skip
        return False
    if flagged is not None:
        said = f"{input_path} is interlaced ({flagged} field first)"
    else:
        said = f"{input_path}: its frames are combed, interlaced ({seen} field first), though the file does not say so"
    warn(f"gin: {said}: each field (every other line) is worked on as a picture of its own "
         "(--fields whole: frames whole)")  # fmt: skip
    return True


def _is_video_path(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def work_folder(output: Path) -> Path:
    """Where a run into ``output`` keeps its finished work, for the same command to go on from:
    the chunks folder beside a video file, or the frames folder itself."""
    return output.with_name(output.name + ".gin-chunks") if _is_video_path(output) else output


def check_options(input_path: Path, opts: VideoOptions) -> None:
    """Every usage problem, before any frame is decoded."""
    given = [opts.mask, opts.masks, opts.mask_video, opts.auto_mask]
    if sum(g is not None for g in given) != 1:
        raise UsageError("give exactly one of --mask FILE, --masks DIR, --mask-video FILE, --auto-mask scratches")
    if opts.auto_mask is not None and opts.auto_mask not in AUTO_MASKS:
        raise UsageError(f"--auto-mask {opts.auto_mask}: choose one of {', '.join(AUTO_MASKS)}")
    _check_fields(opts.fields)
    for name, path in (("--mask", opts.mask), ("--masks", opts.masks), ("--mask-video", opts.mask_video)):
        if path is not None and not path.exists():
            raise UsageError(f"{name} {path}: no such file or folder")
    if not input_path.exists():
        raise UsageError(f"{input_path}: no such file or folder")
    if opts.output.resolve() == input_path.resolve():
        raise UsageError(f"output {opts.output} is the input: choose another -o/--output")
    for name, path in (("--mask", opts.mask), ("--masks", opts.masks), ("--mask-video", opts.mask_video)):
        # a frames folder there would take its masks for finished frames, or replace them
        if path is not None and opts.output.resolve() == path.resolve():
            raise UsageError(f"output {opts.output} is the {name} source: choose another -o/--output")
    if _is_video_path(opts.output):
        try:
            check_codec(opts.codec, opts.output.suffix, opts.preset)
        except VideoError as exc:
            raise UsageError(str(exc)) from exc
        if opts.output.exists() and not opts.overwrite:
            raise UsageError(f"{opts.output} exists: --overwrite to replace it")
    elif opts.output.suffix:
        raise UsageError(
            f"-o {opts.output}: a video file ({', '.join(VIDEO_EXTENSIONS)}) or a folder for frames (no extension)"
        )
    if opts.chunk_frames < 1:
        raise UsageError("--chunk-frames must be at least 1")
    check_writable(opts.output.parent if _is_video_path(opts.output) else opts.output)


# in a frames-folder output: the settings its frames were made with
FRAMES_RECORD = ".gin-frames.json"


def _say_unnumbered(folder: Path, kind: str, warn: Callable[[str], None]) -> None:
    """A frames or masks folder reads only the images with a number in their name: the others
    were left out without a word (a folder of photos made a one-frame video)."""
    left_out = unnumbered_images(folder) if folder.is_dir() else []
    if left_out:
        more = f" and {len(left_out) - 3} more" if len(left_out) > 3 else ""
        names = ", ".join(p.name for p in left_out[:3]) + more
        warn(f"gin: {folder}: {names}: no frame number in the name, left out of the {kind}")


def _frames_made_otherwise(folder: Path, fingerprint: str, warn: Callable[[str], None]) -> bool:
    """Whether the frames a run of gin left in ``folder`` were made with other settings (another
    mask, an edited one, another model or fill): then they are made again, as a video output's
    chunks start over. Records this run's settings for the next. Frames without a record (made
    otherwise, or by a gin before it) are kept, as resuming keeps them."""
    record = folder / FRAMES_RECORD
    try:
        otherwise = json.loads(record.read_text())["fingerprint"] != fingerprint
    except (OSError, ValueError, KeyError, TypeError):
        otherwise = False
    if otherwise:
        warn(f"gin: {folder} holds frames of a run with other settings: making them again")
    write_atomic(record, json.dumps({"fingerprint": fingerprint}).encode())
    return otherwise


class _ChunkStore:
    """The work folder beside a video output: finished chunks and the settings they belong to."""

    def __init__(self, output: Path, fingerprint: str, chunk_frames: int, warn: Callable[[str], None]) -> None:
        self.folder = work_folder(output)
        self.suffix = output.suffix
        manifest = self.folder / "manifest.json"
        expected = {"fingerprint": fingerprint, "chunk_frames": chunk_frames}
        if self.folder.exists():
            try:
                same = json.loads(manifest.read_text()) == expected
            except (OSError, ValueError):
                same = False
            if not same:
                warn(f"gin: {self.folder} holds chunks of a run with other settings: starting over")
                shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.folder)  # a chunk a killed run was writing
        remove_stale_partials(output.parent)
        manifest.write_text(json.dumps(expected))

    def path(self, chunk: int) -> Path:
        return chunk_file(self.folder, chunk, self.suffix)

    def starts(self) -> dict[int, int]:
        """chunk -> its first frame's pts, for finished chunks."""
        record = self.folder / "starts.json"
        return {int(k): v for k, v in json.loads(record.read_text()).items()} if record.exists() else {}

    def record_start(self, chunk: int, start_pts: int) -> None:
        """Called once the chunk's file is in place: only recorded chunks count as finished."""
        starts = self.starts() | {chunk: start_pts}
        write_atomic(self.folder / "starts.json", json.dumps(starts).encode())


def run_video(
    input_path: str | Path,
    inpainter: Inpainter,
    opts: VideoOptions,
    progress: bool = True,
    warn: Callable[[str], None] = tqdm.write,
) -> VideoSummary:
    """Inpaint every frame of a video file or frames folder into ``opts.output``."""
    input_path = Path(input_path)
    check_options(input_path, opts)
    to_video = _is_video_path(opts.output)
    source = open_frames(input_path, opts.fps)
    _say_unnumbered(input_path, "frames", warn)
    info, summary = source.info, VideoSummary()
    if opts.mask_video is not None and info.frames:  # a short mask video stopped the run at its end
        masks = VideoFileReader(opts.mask_video).info.frames
        if masks and masks < info.frames:
            raise UsageError(f"--mask-video {opts.mask_video} has {masks} frames, {input_path} {info.frames}: "
                             "it needs a mask frame for every frame")  # fmt: skip
    reuse_frame_buffers()
    store, made_otherwise = None, False
    if to_video and isinstance(source, FrameFolderReader) and (gaps := _gaps(source.numbers)):
        missing = sum(last - first + 1 for first, last in gaps)
        runs = ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in gaps[:5])
        warn(f"gin: {input_path}: no frame numbered {runs}{', ...' if len(gaps) > 5 else ''} ({missing} missing): "
             f"{opts.output} plays the frames there are one after another, so the picture jumps there")  # fmt: skip
    if to_video:
        encoded = pixel_format(opts.codec, info.width, info.height, info.pix_fmt)  # raises for sizes it cannot take
        even_size = pixel_format(opts.codec, info.width + info.width % 2, info.height + info.height % 2, info.pix_fmt)
        if encoded != even_size:
            warn(f"gin: {input_path} is {info.width} x {info.height}, an odd size: encoded in 4:4:4 colour, "
                 "which some players cannot play (an even size or --codec ffv1 avoids it)")  # fmt: skip
        shape = info.sample_aspect_ratio
        if shape is not None and opts.codec not in PIXEL_SHAPE_CODECS:
            warn(f"gin: {input_path} has non-square pixels ({shape.numerator}:{shape.denominator}), which "
                 f"--codec {opts.codec} cannot record: {opts.output} will show them square, {info.width} x "
                 f"{info.height} (h264 keeps their shape, losslessly with --crf 0)")  # fmt: skip
        if info.first_field is not None and opts.codec not in INTERLACED_CODECS:
            warn(f"gin: {input_path} is interlaced ({info.first_field} field first), which --codec {opts.codec} "
                 f"writes as whole frames: players will not deinterlace {opts.output} (h264 keeps it interlaced)")  # fmt: skip
        if isinstance(source, VideoFileReader):
            # the encoder takes a frame's samples as decoded where it writes their format and the job
            # leaves the picture alone (it replaces images, never edits them in place)
            layout = LAYOUTS.get(encoded)
            source.keep_samples = layout is not None and layout == LAYOUTS.get(info.pix_fmt or "")
        store = _ChunkStore(opts.output, _fingerprint(input_path, opts, inpainter), opts.chunk_frames, warn)
        done_chunks = store.starts()
    else:
        opts.output.mkdir(parents=True, exist_ok=True)
        made_otherwise = _frames_made_otherwise(opts.output, _fingerprint(input_path, opts, inpainter), warn)
    # after every check that can stop the run: the look reads up to 240 frames
    by_field = works_by_field(input_path, source, opts.fields, warn, progress)
    smoother = FillSmoother(opts.temporal)
    bar = tqdm(total=info.frames, unit="frame", disable=not progress, dynamic_ncols=True)

    # a folder of DPX scans comes out as DPX scans of the same names, each over its source's bytes
    # (header, time code, edge code kept); other frames as numbered PNGs
    dpx_scans = _dpx_scans(source)

    def frame_file(frame: Frame) -> Path:
        scan = dpx_scans.get(frame.number)
        return opts.output / (scan.name if scan else FRAME_NAME.format(frame.number))

    def is_done(frame: Frame) -> bool:
        if store is not None:
            return frame.index // opts.chunk_frames in done_chunks
        return frame_file(frame).exists() and not (opts.overwrite or made_otherwise)

    def work(item: tuple[Frame, np.ndarray]) -> tuple[np.ndarray, str | None]:
        frame, mask = item
        if is_done(frame) or not mask.any():
            return frame.image, None
        return inpainter.inpaint_with_info(frame.image, mask, fields=by_field)

    def outputs() -> Iterator[Frame]:
        with ThreadPoolExecutor(max_workers=max(1, opts.workers)) as executor:
            items = frames_with_masks(source, opts, warn, by_field)
            for (frame, mask), future in bounded_map(executor, items, work, 2 * opts.workers):
                result, strategy = future.result()
                bar.update(1)
                summary.frames += 1
                if frame.index % opts.chunk_frames == 0:
                    smoother.reset()  # chunks are independent, so a resumed run gives the same frames
                if is_done(frame):
                    summary.resumed += 1
                    continue
                if strategy is None:
                    smoother.reset()
                    yield frame
                    continue
                summary.inpainted += 1
                summary.count(strategy)
                if opts.temporal > 0:
                    smoothed = smoother(to_unit_float(frame.image), to_unit_float(result), mask)
                    result = from_unit_float(smoothed, frame.image.dtype)
                yield inpainted_frame(frame, result, mask, info.colour)

    try:
        with opencv_on_calling_threads():  # the frames in flight keep the cores busy
            if store is None:
                for frame in outputs():
                    scan = dpx_scans.get(frame.number)
                    write_image(
                        frame_file(frame), frame.image, metadata=Metadata(dpx=scan.read_bytes()) if scan else None
                    )
            else:
                frames, timing = timed_for(opts.output.suffix, outputs(), info)
                _write_chunks(frames, store, opts, timing)
                chunks = sorted(store.starts().items())
                with atomic_path(opts.output) as temp:
                    notes = join_chunks(
                        [(store.path(c), start) for c, start in chunks],
                        timing.time_base,
                        input_path if input_path.is_file() else None,  # its audio, subtitles, chapters and tags
                        temp,
                        _scans_time_code(dpx_scans),
                    )
                for note in notes:
                    warn(f"gin: {opts.output}: {note}")
                shutil.rmtree(store.folder)
    finally:
        bar.close()
    if info.frames is not None and summary.frames != info.frames:
        summary.warnings.append(f"{input_path}: the container declares {info.frames} frames, {summary.frames} decoded")
    return summary


def inpaint_video(
    input_path: str | Path,
    output: str | Path,
    model: str | Path | None = None,
    provider: str = "auto",
    fill: str = "auto",
    progress: bool = False,
    **options: object,
) -> VideoSummary:
    """What ``gin video`` does, for scripts: ``inpaint_video("reel.mp4", "clean.mp4", auto_mask="scratches")``.

    ``options`` are :class:`VideoOptions` fields (``mask``, ``masks``, ``mask_video``, ``auto_mask``,
    ``thresholds``, ``codec``, ``crf``, ``temporal``, ``overwrite`` ...); the inpainter is ``gin
    video``'s (:data:`FILM_INPAINTER`). Resumable as the command is; returns the summary. A usage
    problem raises :class:`UsageError`, an unreadable input :class:`VideoError`."""
    paths = {name: Path(value) for name, value in options.items() if name in ("mask", "masks", "mask_video") and value}
    opts = VideoOptions(output=Path(output), **{**options, **paths})  # type: ignore[arg-type]
    check_options(Path(input_path), opts)  # before the model loads
    inpainter = Inpainter(model, provider=provider, fill=fill, **FILM_INPAINTER)  # type: ignore[arg-type]
    return run_video(input_path, inpainter, opts, progress=progress)


def _write_chunks(frames: Iterator[Frame], store: _ChunkStore, opts: VideoOptions, info: VideoInfo) -> None:
    """Encode the frames still to do into their chunks as they arrive, recording each chunk as
    finished once its file is in place. Frames stream straight into the encoder: a chunk is
    never held in memory (240 frames of 1280 x 720 would be 660 MB)."""

    def trimmed() -> Iterator[Frame]:
        for frame in frames:
            yield frame
            if frame.index % TRIM_EVERY == TRIM_EVERY - 1:
                return_free_memory()  # keeps the peak flat in the video's length

    for chunk, start in encode_chunks(trimmed(), opts.chunk_frames, store.folder, store.suffix, info, opts.codec,
                                      opts.crf, opts.preset):  # fmt: skip
        store.record_start(chunk, start)


def detect_scratches(
    input_path: str | Path,
    output: str | Path,
    thresholds: DamageThresholds | None = None,
    fps: Fraction = Fraction(24),
    progress: bool = True,
    overwrite: bool = False,
    warn: Callable[[str], None] = tqdm.write,
    fields: str = "auto",
    workers: int = VideoOptions.workers,
) -> int:
    """Write the detected film-damage mask of every frame as ``000001.png`` ... into ``output``
    (white = damage), to review or edit before inpainting; returns the frame count. Masks
    already in ``output`` (perhaps edited by hand) are replaced only with ``overwrite``, and
    those this clip has no frame for are named; ``output`` is never the input's folder.
    ``fields`` and ``workers``: as in :class:`VideoOptions`."""
    input_path, output = Path(input_path), Path(output)
    _check_fields(fields)
    if output.resolve() == input_path.resolve():
        raise UsageError(f"output {output} is the input: choose another -o/--output")
    earlier = {path.name for _, path in numbered_files(output, "masks", missing_ok=True)}
    if earlier and not overwrite:
        raise UsageError(f"{output} holds {len(earlier)} numbered images already ({min(earlier)} ...): --overwrite to "
                         "replace them (masks edited by hand too), or choose another -o/--output")  # fmt: skip
    source = open_frames(input_path, fps)
    _say_unnumbered(input_path, "frames", warn)
    reuse_frame_buffers()
    check_writable(output)
    opts = VideoOptions(
        output=output, auto_mask="scratches", thresholds=thresholds or DamageThresholds(), fields=fields,
        workers=workers,
    )  # fmt: skip
    by_field = works_by_field(input_path, source, fields, warn, progress)
    count = 0
    with opencv_on_calling_threads():  # the detections in flight keep the cores busy
        masks = frames_with_masks(source, opts, tqdm.write, by_field)
        for frame, mask in tqdm(
            masks, total=source.info.frames, unit="frame", disable=not progress, dynamic_ncols=True
        ):
            name = FRAME_NAME.format(frame.number)
            write_image(output / name, from_unit_float(mask, np.uint8))
            earlier.discard(name)
            count += 1
    if earlier:
        names = ", ".join(sorted(earlier)[:3]) + (", ..." if len(earlier) > 3 else "")
        warn(
            f"gin: {output}: {len(earlier)} images from before remain ({names}): this clip has no frames of those numbers"
        )
    return count
