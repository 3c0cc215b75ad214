"""Writing video through PyAV (FFmpeg's libraries): codecs and their containers, the encoder's
pixel format and settings, chunks of frames encoded and joined by packet copy with the input's
audio, subtitles and tags. Reading is in :mod:`gincli.io.video`; the chunked, resumable
pipeline in ``gincli/jobs/video.py``.
"""

from __future__ import annotations

import heapq
import itertools
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from gincli.io.atomic import atomic_path, partial_name
from gincli.io.video import Frame, VideoError, VideoFileReader, VideoInfo
from gincli.io.video_colour import DEEP_RGB, from_planes, from_rgb
from gincli.io.yuv_planes import LAYOUTS, Layout, format_name

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
# the codecs gin codes interlaced footage as such in: x264 takes the field order
INTERLACED_CODECS = ("h264",)
# the codecs whose bitstream records a pixel's shape (the sample aspect ratio): FFV1's does not,
# and no container's record of it can be set through PyAV, so FFV1 shows anamorphic footage square
PIXEL_SHAPE_CODECS = ("h264", "hevc", "mpeg4")


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
