"""Reading video: files through PyAV (FFmpeg's libraries), or folders of numbered frames.

Frames come out as RGB arrays with their presentation timestamp (``pts``, in the stream's
``time_base``), so the output can carry the very same timing: constant, fractional
(24000/1001) or variable frame rates survive. Writing (codecs, chunks, the input's audio
copied as packets) is in :mod:`gincli.io.video_encode`; the video pipeline (chunks, resume)
in ``gincli/jobs/video.py``; nothing here inpaints.
"""

from __future__ import annotations

import collections
import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

import numpy as np

from gincli.core.imagemath import split_channels, to_binary_mask
from gincli.io.images import IMAGE_EXTENSIONS, ImageReadError, is_image_file, read_image
from gincli.io.video_colour import (
    Colour,
    decoded_planes,
    to_rgb,
    with_holes_filled,
)
from gincli.io.yuv_planes import LAYOUTS, Layout

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm")
# FFmpeg's field orders (AVFieldOrder: coded, then shown) -> the field shown first
_FIRST_FIELD = {2: "top", 3: "bottom", 4: "bottom", 5: "top"}
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
