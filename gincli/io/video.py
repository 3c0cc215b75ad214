"""Reading and writing video: files through PyAV (FFmpeg's libraries), or folders of numbered frames.

Frames come out as RGB arrays with their presentation timestamp (``pts``, in the stream's
``time_base``), so the output can carry the very same timing: constant, fractional
(24000/1001) or variable frame rates survive. Audio is never decoded: its packets are
copied into the output as they are. The video pipeline (chunks, resume) is in
``gincli/jobs/video.py``; nothing here inpaints.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import numpy as np

from gincli.core.imagemath import split_channels, to_binary_mask
from gincli.io.atomic import atomic_path, partial_name
from gincli.io.images import IMAGE_EXTENSIONS, ImageReadError, is_image_file, read_image
from gincli.io.video_colour import (
    DEEP_RGB,
    Colour,
    decoded_planes,
    from_planes,
    from_rgb,
    to_rgb,
    with_holes_filled,
)
from gincli.io.yuv_planes import LAYOUTS, Layout, format_name

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm")
# --codec name -> FFmpeg encoder; every one writes key frames at chunk starts and no B-frames,
# so chunks join by packet copy (see join_chunks)
ENCODERS = {"h264": "libx264", "hevc": "libx265", "mpeg4": "mpeg4", "ffv1": "ffv1"}
# x264's and x265's speed presets, fastest first: a faster one is a little below a slower one's
# quality or above its size at the same --crf (see `gin video --help`); the other encoders have none
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
# without B-frames, what x264's `medium` adds to `fast` is a third reference frame, smarter
# weighted prediction and sub-pixel refinement that B-frames alone use (subme 7): `fast`
# measured the same PSNR and size at 720p in 14-16 % less time (`benchmarks/encode_presets.py`)
DEFAULT_PRESET = "fast"
_WITH_PRESETS = ("h264", "hevc")
_LOSSLESS = ("ffv1",)
# the encoders that keep a source's chroma subsampling and depth, and the most bits they write
_DEEPEST = {"h264": 10, "hevc": 12}
_CONTAINERS_FOR = {"ffv1": (".mkv", ".avi")}
_INDEX_TIMED = (".avi",)
_APPLE_TAGGED = (".mp4", ".mov", ".m4v")  # where HEVC is tagged hvc1, as Apple's players need
MPEG4_TICKS = 65535  # the finest time step MPEG-4 Part 2 writes, in steps a second
# FFmpeg's field orders (AVFieldOrder: coded, then shown) -> the field shown first
_FIRST_FIELD = {2: "top", 3: "bottom", 4: "bottom", 5: "top"}
# the codecs gin codes interlaced footage as such in: x264 takes the field order
INTERLACED_CODECS = ("h264",)
# the codecs whose bitstream records a pixel's shape (the sample aspect ratio): FFV1's does not,
# and no container's record of it can be set through PyAV, so FFV1 shows anamorphic footage square
PIXEL_SHAPE_CODECS = ("h264", "hevc", "mpeg4")
_FRAME_NUMBER = re.compile(r"(\d+)(?!.*\d)")  # the last run of digits in a file stem


class VideoError(ValueError):
    """A video or frame folder that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    frame_rate: Fraction  # average rate; the timestamps carry the exact timing
    time_base: Fraction
    frames: int | None  # as declared by the container (None if it does not say)
    has_audio: bool
    colour: Colour = field(default_factory=Colour)  # the output is encoded and tagged with the input's
    # the decoded samples' format (FFmpeg's name, yuv422p10le ...); a frame folder's: rgb24, or
    # rgb48le for 16-bit images. The output keeps its chroma subsampling and depth (pixel_format)
    pix_fmt: str | None = None
    # the shape of a pixel, width over height, where not square: anamorphic DV, DVD and HDV
    # (720 x 576 shown as 4:3 or 16:9, 1440 x 1080 as 16:9). The output is tagged with it
    sample_aspect_ratio: Fraction | None = None
    # interlaced footage's field shown first, "top" or "bottom" (broadcast, DV); None: progressive
    # or not said. H.264 output is coded interlaced in the same order, so players deinterlace it
    first_field: str | None = None


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based position in the stream
    # H x W x 3 RGB: from a video file uint8, or uint16 from samples deeper than 8 bits; from a folder its own dtype
    image: np.ndarray
    pts: int  # presentation time in time_base units
    number: int  # what the frame is called: 1-based position, or a frames folder file's own number
    decoded: DecodedSamples | None = None  # where the reader keeps them (keep_samples)

    def samples(self) -> DecodedSamples | None:
        """The samples to encode this frame from as they are, where it has them and they are still
        its image's: a frame whose image was replaced (``dataclasses.replace``) by one they were not
        made for is encoded from that image."""
        return self.decoded if self.decoded is not None and self.decoded.image is self.image else None


@dataclass(frozen=True)
class DecodedSamples:
    """A frame's planar YUV samples (Y, U and V planes of ``layout``, any subsampling and depth),
    and the RGB image they are: as decoded, or made for an inpainted image
    (:func:`with_holes_filled`). An encoder of their layout takes them as they are, so the
    picture that a job leaves alone comes out as it came in, without a conversion to RGB and back."""

    planes: tuple[np.ndarray, ...]
    layout: Layout
    image: np.ndarray


def inpainted_frame(frame: Frame, image: np.ndarray, mask: np.ndarray, colour: Colour) -> Frame:
    """``frame`` with ``image`` in place of its own: its picture inpainted with ``mask`` (the mask
    the inpainter was given, in any form it takes), which changes only the mask's holes. Where the
    frame keeps its decoded samples, it keeps them outside those holes (:func:`with_holes_filled`,
    by the stream's ``colour``), so the encoder passes the picture there on as it came in."""
    samples = frame.samples()
    if samples is None:
        return replace(frame, image=image)
    hole = to_binary_mask(mask) > 0  # the pixels the inpainter changes: its own reading of the mask
    planes = with_holes_filled(samples.planes, samples.layout, image, hole, colour)
    return replace(frame, image=image, decoded=DecodedSamples(planes, samples.layout, image))


def _ffmpeg_errors() -> tuple[type[BaseException], ...]:
    import av

    return (av.error.FFmpegError, OSError, ValueError)


class VideoFileReader:
    """Streaming decode of a video file's picture (:meth:`_picture_stream`). ``keep_samples``
    (settable until :meth:`frames` is called): each frame keeps its planar YUV samples as
    decoded (:class:`DecodedSamples`), for an encoder of their format to take as they are where
    its image is not replaced; a frame whose image is edited in place must not keep them.

    Frames come out upright, as players show them: a phone's portrait video is stored on its
    side with a display matrix that turns it (:attr:`quarter_turns`), and gin turns its frames
    the same way (as FFmpeg's own command line does), so masks drawn on what a player shows fit,
    and the output, written upright, needs no matrix. Before, the output lost the matrix and
    played on its side."""

    def __init__(self, path: str | Path, keep_samples: bool = False) -> None:
        import av

        self.path = Path(path)
        self.keep_samples = keep_samples
        if not self.path.is_file():
            raise VideoError(f"{self.path}: no such file")
        try:
            container = av.open(str(self.path))
        except _ffmpeg_errors() as exc:
            raise VideoError(f"{self.path}: not a readable video ({exc})") from exc
        with container:
            if not container.streams.video:
                raise VideoError(f"{self.path}: has no video stream")
            stream = container.streams.video[self._picture_stream(container)]
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            # counterclockwise quarter turns that show a frame upright
            self.quarter_turns = _quarter_turns(container, stream)
            width, height, shape = stream.codec_context.width, stream.codec_context.height, _pixel_shape(stream)
            if not (width and height):  # an animated WebP: FFmpeg reads its frames as empty
                raise VideoError(f"{self.path}: FFmpeg reads no picture size from it (an animated WebP, which it "
                                 "cannot decode, or a damaged header): convert it to frames or another format")  # fmt: skip
            if self.quarter_turns % 2:  # on its side: the picture's width is the stored height
                width, height, shape = height, width, None if shape is None else 1 / shape
            self.info = VideoInfo(
                width=width,
                height=height,
                frame_rate=Fraction(rate),
                time_base=Fraction(stream.time_base),
                frames=stream.frames or None,
                has_audio=bool(container.streams.audio),
                colour=Colour.of(stream.codec_context),
                pix_fmt=stream.codec_context.pix_fmt,
                sample_aspect_ratio=shape,
                first_field=_FIRST_FIELD.get(stream.codec_context.field_order),
            )

    def frames(self) -> Iterator[Frame]:
        import av

        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[self._picture_stream(container)]
                stream.thread_type = "AUTO"
                fallback = round(1 / (self.info.frame_rate * self.info.time_base))
                decoded = (
                    (self._pictures(frame), frame.pts if frame.pts is not None else index * fallback)
                    for index, frame in enumerate(container.decode(stream))
                )
                for index, ((image, kept), pts) in enumerate(monotonic_timestamps(decoded)):
                    yield Frame(index, image, pts, index + 1, kept)
        except av.error.FFmpegError as exc:
            raise VideoError(f"{self.path}: decoding failed ({exc}); the file may be corrupt or truncated") from exc

    @staticmethod
    def _picture_stream(container: object) -> int:
        """Which of a file's video streams is its picture (its place among them), as FFmpeg's
        command line chooses: the largest, leaving out cover art (an attached picture). A
        one-frame cover or thumbnail stream stored first used to be taken for the video: a
        12-frame clip came out as one frame."""
        import av

        streams = list(container.streams.video)
        pictures = [s for s in streams if not s.disposition & av.stream.Disposition.attached_pic] or streams
        largest = max(pictures, key=lambda s: s.codec_context.width * s.codec_context.height)
        return streams.index(largest)

    def _pictures(self, frame: object) -> tuple[np.ndarray, DecodedSamples | None]:
        """(a decoded frame as RGB, its samples where this reader keeps them)."""
        planes = decoded_planes(frame, self.info.colour) if self.keep_samples else None
        image = to_rgb(frame, self.info.colour, planes)
        layout = LAYOUTS.get(frame.format.name)
        if self.quarter_turns:
            image = np.ascontiguousarray(np.rot90(image, self.quarter_turns))
            # 4:2:2 on its side would be 4:4:0, which no encoder here writes: such frames are encoded from RGB
            sideways_422 = self.quarter_turns % 2 and layout is not None and layout.shift_x != layout.shift_y
            turned = (np.ascontiguousarray(np.rot90(plane, self.quarter_turns)) for plane in planes or ())
            planes = None if planes is None or sideways_422 else tuple(turned)
        return image, None if planes is None else DecodedSamples(planes, layout, image)


def _quarter_turns(container: object, stream: object) -> int:
    """Counterclockwise quarter turns (0-3) of a stream's display matrix, as its first frame
    carries it; 0 where it has none, turns by another angle, or the frame does not decode
    (:meth:`VideoFileReader.frames` reports that)."""
    import av

    try:
        first = next(container.decode(stream), None)
    except av.error.FFmpegError:
        return 0
    rotation = first.rotation if first is not None else 0
    turns = round(rotation / 90)
    return turns % 4 if abs(rotation - 90 * turns) < 1 else 0


def _pixel_shape(stream: object) -> Fraction | None:
    """A video stream's sample aspect ratio (the container's, else the codec's), where it is
    known and not square."""
    for shape in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if shape is not None and shape > 0:
            return None if shape == 1 else Fraction(shape)
    return None


T = TypeVar("T")
REORDER_WINDOW = 4  # frames held back to put out-of-order timestamps right


def monotonic_timestamps(frames: Iterable[tuple[T, int]], window: int = REORDER_WINDOW) -> Iterator[tuple[T, int]]:
    """Frames in decoder output order (the order a player shows them) with strictly increasing
    timestamps. Files with packed B-frames (MPEG-4 ASP in AVI) label decoded frames 1, 2, 3, 5,
    4, 6, 8, 7, ...: the frames are in the right order, their labels are not. The labels seen
    in a small window are handed out smallest first, which restores 1, 2, 3, 4, ...; a label
    not above the previous one (duplicates) becomes the previous one plus one."""
    pending_frames: collections.deque[T] = collections.deque()
    labels: list[int] = []
    last: int | None = None

    def release() -> tuple[T, int]:
        nonlocal last
        pts = heapq.heappop(labels)
        pts = pts if last is None or pts > last else last + 1
        last = pts
        return pending_frames.popleft(), pts

    for item, pts in frames:
        pending_frames.append(item)
        heapq.heappush(labels, pts)
        if len(pending_frames) > window:
            yield release()
    while pending_frames:
        yield release()


def frame_number(path: Path) -> int | None:
    """The frame number in a file name: the last run of digits of its stem (``shot_0042.png`` -> 42)."""
    found = _FRAME_NUMBER.search(path.stem)
    return int(found.group(1)) if found else None


def numbered_files(folder: Path, kind: str, missing_ok: bool = False) -> list[tuple[int, Path]]:
    """(number, path) of a folder's numbered images, in number order; duplicates are an error,
    and so are a missing folder and one without any (none, with ``missing_ok``)."""
    if not folder.is_dir():
        if missing_ok:
            return []
        raise VideoError(f"{folder}: no such folder of {kind}")
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        number = frame_number(path)
        if number is None or not is_image_file(path):  # ._000001.png, AppleDouble's, was a duplicate frame 1
            continue
        if number in found:
            raise VideoError(f"{folder}: {found[number].name} and {path.name} have the same frame number {number}")
        found[number] = path
    if not found and not missing_ok:
        raise VideoError(f"{folder}: no numbered images ({', '.join(IMAGE_EXTENSIONS)}) in it")
    return sorted(found.items())


class FrameFolderReader:
    """A folder of numbered images as a video at ``fps`` (frames keep their own dtype)."""

    def __init__(self, folder: str | Path, fps: Fraction = Fraction(24)) -> None:
        self.path = Path(folder)
        numbered = numbered_files(self.path, "frames")
        self.numbers = [number for number, _ in numbered]  # each frame's own (a folder may start at 0)
        self.files = [path for _, path in numbered]
        first = self._read(self.files[0])
        self.info = VideoInfo(
            first.shape[1], first.shape[0], fps, 1 / fps, len(self.files), has_audio=False,
            pix_fmt="rgb24" if first.dtype == np.uint8 else "rgb48le",
        )  # fmt: skip

    def _read(self, path: Path) -> np.ndarray:
        try:
            image = read_image(path)
        except ImageReadError as exc:
            raise VideoError(str(exc)) from exc
        return split_channels(image)[0]

    def frames(self) -> Iterator[Frame]:
        for index, (number, path) in enumerate(zip(self.numbers, self.files, strict=True)):
            image = self._read(path)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise VideoError(
                    f"{path}: {image.shape[1]} x {image.shape[0]}, but the first frame is "
                    f"{self.info.width} x {self.info.height}; every frame must have the same size"
                )
            yield Frame(index, image, index, number)


def unnumbered_images(folder: Path) -> list[Path]:
    """The images in ``folder`` with no number in their name, which a frames or masks folder
    leaves out (:func:`numbered_files`)."""
    return [p for p in sorted(folder.iterdir()) if frame_number(p) is None and is_image_file(p)]


def open_frames(path: str | Path, fps: Fraction = Fraction(24)) -> VideoFileReader | FrameFolderReader:
    """A video file or a frame folder (``fps`` applies to folders only). An image file is refused:
    FFmpeg reads a photo as a video of one frame, and an animated WebP's frames as empty."""
    path = Path(path)
    if path.suffix.lower() in IMAGE_EXTENSIONS and not path.is_dir():
        raise VideoError(
            f"{path}: an image file, not a video: `gin inpaint` fills photos; an animation's frames, saved as "
            "numbered images in a folder, are read as a video"
        )
    return FrameFolderReader(path, fps) if path.is_dir() else VideoFileReader(path)


def check_codec(codec: str, suffix: str, preset: str = DEFAULT_PRESET) -> None:
    """Fail early (before any work) when the codec is unknown, missing here or wrong for the
    container, or the preset unknown or given to a codec that has none."""
    import av

    if codec not in ENCODERS:
        raise VideoError(f"--codec {codec}: choose one of {', '.join(ENCODERS)}")
    if preset not in PRESETS:
        raise VideoError(f"--preset {preset}: choose one of {', '.join(PRESETS)}")
    if preset != DEFAULT_PRESET and codec not in _WITH_PRESETS:
        raise VideoError(f"--preset {preset}: only {' and '.join(_WITH_PRESETS)} have speed presets, not {codec}")
    if ENCODERS[codec] not in av.codecs_available:
        raise VideoError(f"--codec {codec}: this FFmpeg build has no {ENCODERS[codec]} encoder")
    allowed = _CONTAINERS_FOR.get(codec)
    if allowed and suffix.lower() not in allowed:
        raise VideoError(f"--codec {codec} needs a {' or '.join(allowed)} output file, not {suffix}")
    held = _codecs_held_by(suffix)
    if av.codec.Codec(ENCODERS[codec], "w").name not in held:
        fitting = [name for name, encoder in ENCODERS.items() if av.codec.Codec(encoder, "w").name in held]
        instead = f"--codec {' or '.join(fitting)}, or " if fitting else ""
        raise VideoError(
            f"--codec {codec} cannot go in a {suffix} file: use {instead}a .mkv output, which holds them all"
        )


def _codecs_held_by(suffix: str) -> set[str]:
    """The codecs FFmpeg's muxer for files ending in ``suffix`` can hold (asked of a container
    opened for writing in an empty folder, never written: nothing is created). WebM holds none
    of ours, AVI and the iPod's .m4v no HEVC: the muxer refused them with a traceback."""
    import tempfile

    import av

    with tempfile.TemporaryDirectory() as folder:
        try:
            container = av.open(os.path.join(folder, f"probe{suffix}"), "w")
        except ValueError as exc:  # FFmpeg knows no container by that ending
            raise VideoError(
                f"FFmpeg knows no video container for files ending in {suffix!r}: use .mkv or .mp4"
            ) from exc
        with container:
            return set(container.supported_codecs)


def pixel_format(codec: str, width: int, height: int, source: str | None = None) -> str:
    """The encoder's pixel format for frames of ``source``'s format (:attr:`VideoInfo.pix_fmt`).
    H.264 and HEVC keep the source's chroma subsampling (4:2:0, 4:2:2, 4:4:4) and its depth, up
    to 10 bits (H.264) or 12 (HEVC), in 10 bits where another source has more than 8 (as
    FFmpeg's own default keeps them): a restorer's 10-bit 4:2:2 scan comes out as one. FFV1
    stores a planar YUV source in its own layout and depth (8 to 16 bits, any size), so that
    with its samples kept (:class:`DecodedSamples`) every sample outside the holes is stored as
    it came in; any other source (RGB, a frame folder) as RGB, in 16 bits a channel from a deep
    one. Anything else becomes 4:2:0 at 8 bits, what every player plays; an odd width or height
    cannot be halved, so H.264 and HEVC keep it in 4:4:4. MPEG-4 takes 8-bit 4:2:0 only."""
    depth = _depth(source)
    layout = LAYOUTS.get(source or "")
    if codec in _LOSSLESS:
        if layout is not None:
            return format_name(layout)
        return DEEP_RGB if depth > 8 else "bgr0"
    keeps = codec in _DEEPEST
    layout = layout if keeps else None
    shift_x, shift_y = (layout.shift_x, layout.shift_y) if layout is not None else (1, 1)
    if (width % 2 and shift_x) or (height % 2 and shift_y):
        if not keeps:
            raise VideoError(f"--codec {codec} cannot encode an odd size ({width} x {height}): use h264, hevc or ffv1")
        shift_x = shift_y = 0
    bits = 8
    if keeps and depth > 8:  # a YUV source's own depth as far as the encoder goes; 10 bits from any other
        bits = min(depth, _DEEPEST[codec]) if layout is not None else 10
    return format_name(Layout(shift_x, shift_y, bits))


def _depth(pix_fmt: str | None) -> int:
    """Bits a sample of FFmpeg's ``pix_fmt`` (8 where unknown)."""
    import av

    try:
        return max(component.bits for component in av.VideoFormat(pix_fmt).components) if pix_fmt else 8
    except ValueError:
        return 8


def _configure_encoder(stream: object, info: VideoInfo, codec: str, crf: int, preset: str, suffix: str) -> None:
    """Size, timing, pixel format and rate control of an output video stream into a ``suffix``
    file, every chunk alike."""
    import av

    stream.width, stream.height = info.width, info.height
    # the input's time base, not 1 / rate: variable-rate timestamps must survive unrounded
    stream.time_base = stream.codec_context.time_base = info.time_base
    stream.codec_context.framerate = info.frame_rate  # else 1 / time base: 12288 frames/s declared
    if codec == "mpeg4" and info.time_base.denominator > MPEG4_TICKS:
        # MPEG-4 Part 2 counts at most 65535 steps a second: MPEG-TS's 1/90000 or a camera AVI's
        # 33333/500000 was refused (a traceback); its encoder counts in those steps, the file in the input's
        stream.codec_context.time_base = Fraction(1, MPEG4_TICKS)
    stream.pix_fmt = pixel_format(codec, info.width, info.height, info.pix_fmt)
    if info.sample_aspect_ratio is not None:  # anamorphic footage is shown at the input's shape
        stream.codec_context.sample_aspect_ratio = info.sample_aspect_ratio
    if stream.pix_fmt.startswith("yuv"):  # as from_rgb converts: RGB formats have no matrix to tag
        info.colour.tag(stream.codec_context)
    if codec == "h264":
        # x264's lossless mode is qp 0: crf 0 is lossless at 8 bits only, not in the 10 bits of deep sources
        quality = {"qp": "0"} if crf == 0 else {"crf": str(crf)}
        # force-cfr: x264 declares the frame rate in the stream (not 1 / time base, which a Matroska
        # file, with no rate of its own, was read by: 12288 frames/s); the timestamps pass unchanged
        x264 = "force-cfr=1" + {"top": ":tff=1", "bottom": ":bff=1", None: ""}[info.first_field]
        stream.options = {**quality, "bf": "0", "preset": preset, "forced-idr": "1", "x264-params": x264}
    elif codec == "hevc":
        stream.options = {"crf": str(crf), "preset": preset, "forced-idr": "1",
                          "x265-params": "bframes=0:log-level=error"}  # fmt: skip
        if suffix.lower() in _APPLE_TAGGED:
            # FFmpeg tags HEVC in MP4 and MOV as hev1, which Apple's players (QuickTime, Safari,
            # iOS) refuse to play; hvc1 is the tag they take, and every other player too
            stream.codec_context.codec_tag = "hvc1"
    elif codec == "mpeg4":
        stream.options = {"qscale": str(max(1, min(31, crf // 2))), "bf": "0"}
        stream.codec_context.flags |= av.codec.context.Flags.qscale


def _video_frame(frame: Frame, pts: int, info: VideoInfo, pix_fmt: str, key: bool = False) -> object:
    """A frame to encode, in the encoder's pixel format, by the input's colour (:mod:`video_colour`):
    its decoded samples as they are, where it has them and the encoder takes them."""
    import av

    samples = frame.samples()
    if samples is not None and samples.layout == LAYOUTS.get(pix_fmt):
        video_frame = from_planes(samples.planes, samples.layout, info.colour)
    else:
        video_frame = from_rgb(frame.image, pix_fmt, info.colour)
    video_frame.pts, video_frame.time_base = pts, info.time_base
    if key:  # an IDR frame (H.264, HEVC: forced-idr), an intra frame (MPEG-4)
        video_frame.pict_type = av.video.frame.PictureType.I
    return video_frame


def encode_chunk(
    path: Path,
    frames: Iterable[Frame],
    info: VideoInfo,
    codec: str,
    crf: int,
    start_pts: int,
    preset: str = DEFAULT_PRESET,
) -> int:
    """Encode frames (pts shifted by ``-start_pts``) into ``path``; returns the frame count.
    The file begins with a key frame and has no B-frames. ``preset``: x264's / x265's speed
    preset (h264 and hevc)."""
    import av

    count = 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream(ENCODERS[codec], rate=info.frame_rate)
        _configure_encoder(stream, info, codec, crf, preset, path.suffix)
        for frame in frames:
            container.mux(stream.encode(_video_frame(frame, frame.pts - start_pts, info, stream.pix_fmt)))
            count += 1
        container.mux(stream.encode(None))
    return count


def chunk_file(folder: Path, chunk: int, suffix: str) -> Path:
    """Where chunk number ``chunk`` of a chunked video output is kept."""
    return folder / f"chunk_{chunk:06d}{suffix}"


# chunks that one encoder writes before it is opened anew: FFmpeg's segment muxer takes its
# split points up front (500 chunks of 240 frames are 2.8 hours at 24 fps)
CHUNKS_PER_ENCODER = 500


def encode_chunks(
    frames: Iterable[Frame],
    chunk_frames: int,
    folder: Path,
    suffix: str,
    info: VideoInfo,
    codec: str,
    crf: int,
    preset: str = DEFAULT_PRESET,
) -> Iterator[tuple[int, int]]:
    """Encode chunks of ``chunk_frames`` frames (frame ``index // chunk_frames`` is its chunk;
    ``frames`` are whole chunks, in order, and may skip chunks) into :func:`chunk_file` files,
    yielding ``(chunk, start_pts)`` as each one's file is complete.

    One encoder writes a run of consecutive chunks (at most CHUNKS_PER_ENCODER), its output
    cut into files by FFmpeg's segment muxer at the key frame forced on each chunk's first
    frame: an encoder opened and closed for every chunk raised a long video's peak memory at
    each chunk boundary (allocator fragmentation). Each file starts with a key frame and holds
    no B-frames, so chunks join by packet copy (:func:`join_chunks`); ``start_pts`` (in
    ``info.time_base``) puts its packets back in place. A chunk's file appears under its name
    only once complete; on any error the unfinished ones are removed."""
    import av

    frames = iter(frames)

    def run(first_frame: Frame) -> Iterator[tuple[int, int]]:
        """Consecutive chunks from ``first_frame`` on, through one encoder; returns the first
        frame it did not take (after a skipped chunk; None at the end)."""
        first, offset = divmod(first_frame.index, chunk_frames)
        if offset:
            raise ValueError(f"frame {first_frame.index} does not start a chunk of {chunk_frames} frames")
        splits = ",".join(str(k * chunk_frames) for k in range(1, CHUNKS_PER_ENCODER))  # in frames since the first
        partial = lambda chunk: partial_name(chunk_file(folder, chunk, suffix))  # noqa: E731
        pattern = str(folder).replace("%", "%%") + os.sep + partial_name(Path(f"chunk_%06d{suffix}")).name
        listing = folder / f".segments.partial-{os.getpid()}.csv"  # one line for each file the muxer closed
        options = {"segment_frames": splits, "segment_list": str(listing), "segment_list_type": "csv",
                   "segment_start_number": str(first), "reset_timestamps": "1"}  # fmt: skip
        # frames keep their own times, so that a container's rounding to its time base is the same
        # whichever chunk a run starts at (a resumed run equals an uninterrupted one); AVI has no
        # times (a frame's is its index) and a file that starts late is padded, so its runs start at 0
        origin = first_frame.pts if suffix.lower() in _INDEX_TIMED else 0
        starts: dict[int, int] = {}  # chunk -> its first frame's pts
        counts: dict[int, int] = {}  # chunk -> frames given to the encoder
        kept = 0

        def finished() -> Iterator[tuple[int, int]]:
            nonlocal kept
            closed = len(listing.read_text().split()) if listing.exists() else 0
            for chunk in range(first + kept, first + closed):
                yield chunk, _keep_chunk(partial(chunk), chunk_file(folder, chunk, suffix), starts[chunk], counts[chunk],
                                         info)  # fmt: skip
                kept += 1

        frame: Frame | None = first_frame
        try:
            container = av.open(pattern, "w", format="segment", options=options)
            try:
                stream = container.add_stream(ENCODERS[codec], rate=info.frame_rate)
                _configure_encoder(stream, info, codec, crf, preset, suffix)
                if codec in _LOSSLESS:  # FFV1 starts a key frame every gop_size frames of its own count
                    stream.codec_context.gop_size = chunk_frames
                expected = first_frame.index
                while (
                    frame is not None
                    and frame.index == expected
                    and expected < (first + CHUNKS_PER_ENCODER) * chunk_frames
                ):
                    chunk, offset = divmod(frame.index, chunk_frames)
                    starts.setdefault(chunk, frame.pts)
                    counts[chunk] = counts.get(chunk, 0) + 1
                    container.mux(
                        stream.encode(_video_frame(frame, frame.pts - origin, info, stream.pix_fmt, offset == 0))
                    )
                    yield from finished()
                    frame, expected = next(frames, None), expected + 1
                container.mux(stream.encode(None))
            finally:
                container.close()  # after an error this closes a chunk that is not finished: removed below
            yield from finished()
        finally:
            for chunk in starts:
                partial(chunk).unlink(missing_ok=True)
            listing.unlink(missing_ok=True)
        return frame

    upcoming = next(frames, None)
    while upcoming is not None:
        upcoming = yield from run(upcoming)


def _keep_chunk(written: Path, path: Path, first_pts: int, frames: int, info: VideoInfo) -> int:
    """Check a chunk's file as the segment muxer closed it (all its frames, from a key frame on:
    chunks join by copy) and rename it into place. Returns its start pts in ``info.time_base``:
    its first frame's, less the time the file gives that frame (the muxer restarts the times of
    every chunk after a run's first at 0)."""
    import av

    with av.open(str(written)) as container:
        stream = container.streams.video[0]
        base = Fraction(stream.time_base)
        packets = (p for p in container.demux(stream) if p.dts is not None)
        first = next(packets, None)
        start, key_frame = (first.pts, first.is_keyframe) if first is not None else (0, False)
        # the count the container keeps (MP4, MOV, AVI) where it has one: reading every packet
        # to count them raised a long video's peak memory by about 1 MB a chunk (their payloads
        # left the C heap fragmented); Matroska keeps none, so its packets are counted
        count = stream.frames or (first is not None) + sum(1 for _ in packets)
    if count != frames or not key_frame:
        raise VideoError(f"{written}: the encoder did not cut this chunk at its first frame "
                         f"({count} frames, {frames} expected); try another --codec")  # fmt: skip
    os.replace(written, path)
    return first_pts - round(start * base / info.time_base)


def _packets(
    path: Path, kinds: tuple[str, ...], offset_seconds: Fraction = Fraction(0), to: object = None
) -> Iterator[tuple[Fraction, object]]:
    """(decode time in seconds, packet) of every stream of ``kinds`` ("video", "audio",
    "subtitles") in ``path``, shifted by ``offset_seconds`` and bound for the output stream
    ``to`` if given; the file is open only while its packets are read."""
    import av

    with av.open(str(path)) as container:
        streams = [stream for kind in kinds for stream in getattr(container.streams, kind)]
        for packet in container.demux(streams):
            if packet.dts is None:  # a demuxer's end-of-stream marker
                continue
            base = Fraction(packet.time_base)
            shift = round(offset_seconds / base)
            packet.pts, packet.dts = packet.pts + shift, packet.dts + shift
            if to is not None:
                packet.stream = to
            yield packet.dts * base, packet


def _source_packets(path: Path, copied: dict, encoded: dict) -> Iterator[tuple[Fraction, object]]:
    """(decode time in seconds, packet for the output) of the audio and subtitles of ``path``:
    packets of the streams in ``copied`` (source stream index -> output stream) as they are
    (never decoded), those in ``encoded`` decoded and encoded again; a packet that does not
    decode is left out of those, as a player would skip it, and a stream in neither is left out."""
    import av

    for time, packet in _packets(path, ("audio", "subtitles")):
        target = encoded.get(packet.stream.index)
        if target is None:
            if packet.stream.index in copied:
                packet.stream = copied[packet.stream.index]
                yield time, packet
            continue
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            continue
        for frame in frames:
            yield from _timed(target.encode(frame))
    for target in encoded.values():
        yield from _timed(target.encode(None))


def _nearest_rate(codec: str, rate: int) -> int:
    """``rate`` if the ``codec`` encoder takes it, else the nearest rate it takes (AAC has a
    fixed list: an 11,024 Hz track becomes 11,025 Hz)."""
    import av

    rates = av.Codec(codec, "w").audio_rates
    return min(rates, key=lambda r: abs(r - rate)) if rates and rate not in rates else rate


def _standard_layout(layout: object) -> str:
    """A channel layout an encoder takes, for a source's: files that name no channel order
    ("1 channels") get the standard one with as many channels."""
    standard = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
    return standard.get(layout.nb_channels, layout.name)


def _timed(packets: list) -> Iterator[tuple[Fraction, object]]:
    for packet in packets:
        yield packet.dts * Fraction(packet.time_base), packet


def join_chunks(
    chunks: list[tuple[Path, int]],
    time_base: Fraction,
    source: Path | None,
    output: Path,
    picture_tags: dict[str, str] | None = None,
) -> list[str]:
    """Concatenate encoded chunks (path, start pts in ``time_base``) by packet copy, restoring
    each chunk's time offset, with the audio and subtitle packets of ``source`` (the input
    video, if any) interleaved by time (so the muxer never has to hold one stream back while it
    waits for another), its chapters and its descriptive tags (:func:`_copy_tags`). Audio and
    subtitles are copied; an audio codec that the output's container cannot hold (8-bit PCM in
    .mp4, say) is encoded again in the container's own (AAC for .mp4), a subtitle format it
    cannot hold (SubRip in .mp4) is left out. ``picture_tags``: the video stream's tags where
    no source file holds them (a DPX folder's time code). Returns a note for each track left
    out (``output`` is the file written, which may be a temporary name: the notes name its
    format only)."""
    import av

    if not chunks:
        raise VideoError(f"{output}: no frames to write")
    notes = []
    try:
        with av.open(str(output), "w") as container:
            with av.open(str(chunks[0][0])) as first:
                template = first.streams.video[0]
                video_out = container.add_stream_from_template(template)
                # left to the muxer's default, HEVC's hvc1 became hev1
                if template.codec_context.codec_tag.strip("\x00 "):
                    video_out.codec_context.codec_tag = template.codec_context.codec_tag
            copied, encoded = {}, {}
            video_out.metadata.update(picture_tags or {})
            if source is not None:
                with av.open(str(source)) as original:
                    _copy_tags(original.metadata, container.metadata)
                    container.set_chapters(original.chapters())
                    picture = original.streams.video[VideoFileReader._picture_stream(original)]
                    _copy_tags(picture.metadata, video_out.metadata)
                    for stream in original.streams.audio:
                        try:
                            copied[stream.index] = container.add_stream_from_template(stream)
                        except ValueError:  # the container cannot hold this codec
                            codec = container.default_audio_codec
                            encoded[stream.index] = container.add_stream(
                                codec, rate=_nearest_rate(codec, stream.rate), layout=_standard_layout(stream.layout)
                            )
                        _copy_tags(stream.metadata, (copied.get(stream.index) or encoded[stream.index]).metadata)
                    for stream in original.streams.subtitles:
                        if stream.codec_context.name not in container.supported_codecs:
                            notes.append(f"a {output.suffix} file cannot hold {source}'s subtitle track "
                                         f"#{stream.index} ({stream.codec_context.name}): left out (.mkv holds it)")  # fmt: skip
                            continue
                        copied[stream.index] = container.add_stream_from_template(stream)
                        _copy_tags(stream.metadata, copied[stream.index].metadata)
            video = itertools.chain.from_iterable(
                _packets(path, ("video",), start * time_base, video_out) for path, start in chunks
            )
            others = _source_packets(source, copied, encoded) if copied or encoded else iter(())
            for _, packet in heapq.merge(video, others, key=lambda item: item[0]):
                container.mux(packet)
    except av.error.FFmpegError as exc:
        raise VideoError(f"{output}: cannot write ({exc}); try another container, e.g. .mkv") from exc
    return notes


# tags that describe how a file was encoded and muxed, not the film: the new file's own are written
# (Matroska's statistics tags, BPS-eng and the like, counted the old stream's frames and bytes)
_ENCODING_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder", "handler_name",
                            "vendor_id", "duration", "bps", "number_of_frames", "number_of_bytes"})  # fmt: skip


def _copy_tags(tags: dict[str, str], into: dict[str, str]) -> None:
    """The film's own tags of ``tags`` (title, comment, creation time, timecode, a track's
    language ...) into ``into``: the output carries them as the input did. Before, every one was
    lost, a MOV's start timecode (01:02:03:04, which its tmcd track holds) included."""
    for key, value in tags.items():
        name = key.lower().split("-")[0]  # Matroska's BPS-eng
        if name not in _ENCODING_TAGS and not name.startswith("_statistics"):
            into[key] = value


def timed_for(suffix: str, frames: Iterable[Frame], info: VideoInfo) -> tuple[Iterator[Frame], VideoInfo]:
    """``frames`` and ``info`` as a container of ``suffix`` takes them. AVI keeps no times: a
    frame's time there is its place in the file, in steps of 1 / the frame rate, so its frames
    are timed by their index in that time base (in the input's, 1/12288 for an MP4 at 24
    frames/s, the muxer padded every frame with empty ones, and a chunk of 240 read as 5760
    frames: no MP4 could become an AVI). A variable rate becomes the average one, as AVI holds
    no other. Any other container: as they are."""
    if suffix.lower() not in _INDEX_TIMED:
        return iter(frames), info
    return (replace(frame, pts=frame.index) for frame in frames), replace(info, time_base=1 / info.frame_rate)


def write_video(
    path: str | Path,
    frames: Iterable[Frame],
    info: VideoInfo,
    codec: str = "h264",
    crf: int = 18,
    audio_from: str | Path | None = None,
    preset: str = DEFAULT_PRESET,
) -> int:
    """Encode frames (with their pts in ``info.time_base``) into ``path``, copying the audio of
    ``audio_from`` (the input video) with its descriptive tags; ``path`` appears only when
    complete. Returns the frame count."""
    path = Path(path)
    check_codec(codec, path.suffix, preset)
    frames, info = timed_for(path.suffix, frames, info)
    first = next(frames, None)
    if first is None:
        raise VideoError(f"{path}: no frames to write")
    video_only = path.with_name(f".{path.stem}.video{path.suffix}")
    try:
        count = encode_chunk(video_only, itertools.chain([first], frames), info, codec, crf, first.pts, preset)
        with atomic_path(path) as joined:
            source = Path(audio_from) if audio_from else None
            for note in join_chunks([(video_only, first.pts)], info.time_base, source, joined):
                warnings.warn(f"{path}: {note}", stacklevel=2)
    finally:
        video_only.unlink(missing_ok=True)
    return count
