"""What a film file holds comes through `gin video`: its streams, formats, timing and tags
(containers and codecs, pixel shape, display matrix, interlacing, cover art, chapters,
subtitles, timecode). The pipeline itself is tested in test_video.py, whose clip helpers these
tests share."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from gincli.io.images import read_image, write_image
from gincli.io.video import VideoError, VideoFileReader
from gincli.io.video_colour import Colour, to_rgb
from gincli.io.video_encode import write_video
from tests.test_video import (
    RATE,
    H,
    N,
    W,
    audio_packets,
    clip_frames,
    decoded,
    gin_video,
    hole,
    make_video,
    video_with_hole,
)


@pytest.fixture(scope="module")
def source_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "in.mp4", clip_frames())


@pytest.mark.parametrize("codec", ["ffv1", "h264"])
def test_an_mp4_becomes_an_avi(contract_model, source_video: Path, tmp_path: Path, codec: str) -> None:
    """AVI keeps no times: in the MP4's time base (1/24000 here, not 1 / the rate) the muxer padded
    each frame with empty ones, and the first chunk failed its frame count ("did not cut this
    chunk at its first frame"), whatever the codec. Now every frame, in order, at the same rate,
    the audio copied with it, over several chunks."""
    out = tmp_path / "out.avi"
    video_with_hole(contract_model, source_video, out, "--codec", codec, "--chunk-frames", "12")
    (before, _), (after, _) = decoded(source_video), decoded(out)
    assert len(after) == N and VideoFileReader(out).info.frame_rate == RATE
    assert audio_packets(out) == audio_packets(source_video)
    outside = hole() == 0
    for x, y in zip(before, after, strict=True):  # the same frames, in order
        assert np.abs(x.astype(int) - y)[outside].mean() < (0.01 if codec == "ffv1" else 2)


def test_mpeg4_takes_footage_timed_finer_than_it_counts(contract_model, tmp_path: Path) -> None:
    """MPEG-4 Part 2 counts at most 65535 steps a second: an MPEG-TS source (1/90000) or a
    camera's AVI (33333/500000) with `--codec mpeg4` was a traceback from the encoder. Every
    frame now comes out at its own time (to a step of 1/65535 s)."""
    source = make_video(tmp_path / "broadcast.ts", clip_frames(12), audio=False)
    assert VideoFileReader(source).info.time_base == Fraction(1, 90000)
    out = tmp_path / "out.mp4"
    video_with_hole(contract_model, source, out, "--codec", "mpeg4")
    times = [[float(pts * VideoFileReader(path).info.time_base) for pts in decoded(path)[1]] for path in (source, out)]
    assert len(times[1]) == 12 and np.allclose(np.subtract(*times), times[0][0] - times[1][0], atol=1 / 65535)


@pytest.mark.parametrize(("suffix", "codec", "instead"), [(".webm", "h264", "use a .mkv output"),
                                                          (".avi", "hevc", "use --codec h264 or mpeg4 or ffv1"),
                                                          (".m4v", "hevc", "use --codec h264 or mpeg4")])  # fmt: skip
def test_a_codec_its_container_cannot_hold_is_refused_before_any_work(
    contract_model, source_video: Path, tmp_path: Path, suffix: str, codec: str, instead: str
) -> None:
    """WebM holds none of gin's codecs, AVI and the iPod's .m4v no HEVC: each was a traceback from
    the muxer once the first frame was inpainted, with a chunk folder left behind."""
    write_image(tmp_path / "m.png", hole())
    out = tmp_path / f"out{suffix}"
    code, output = gin_video(contract_model, str(source_video), "--mask", str(tmp_path / "m.png"), "-o", str(out),
                             "--codec", codec)  # fmt: skip
    assert code != 0 and "Traceback" not in output and f"cannot go in a {suffix} file: {instead}" in output, output
    assert list(tmp_path.iterdir()) == [tmp_path / "m.png"]


def x264_clip(path: Path, frames: int, pix_fmt: str, setup: Callable[[object], None]) -> Path:
    """``frames`` frames of :func:`clip_frames` by x264 without sound, in ``pix_fmt``, its stream
    given to ``setup`` before the first (:func:`make_video`)."""
    return make_video(path, clip_frames(frames), audio=False, pix_fmt=pix_fmt, setup=setup)


def anamorphic_clip(path: Path, shape: Fraction) -> Path:
    """Six frames whose pixels are ``shape`` times as wide as they are high (DV, DVD, HDV)."""
    return x264_clip(path, 6, "yuv420p", lambda stream: setattr(stream.codec_context, "sample_aspect_ratio", shape))


@pytest.mark.parametrize(("output", "codec"), [("out.mp4", "h264"), ("out.mkv", "hevc"), ("out.avi", "mpeg4"),
                                               ("out.mkv", "ffv1")])  # fmt: skip
def test_anamorphic_footage_keeps_the_shape_of_its_pixels(contract_model, tmp_path: Path, output: str,
                                                          codec: str) -> None:  # fmt: skip
    """PAL DV's 720 x 576 shown as 16:9 (pixels 64:45) came out shown as 5:4, squeezed: the output
    had no sample aspect ratio. FFV1, which cannot record it here, is warned about."""
    shape = Fraction(64, 45)
    source = anamorphic_clip(tmp_path / "dv.mp4", shape)
    assert VideoFileReader(source).info.sample_aspect_ratio == shape
    text = video_with_hole(contract_model, source, tmp_path / output, "--codec", codec)
    kept = codec != "ffv1"
    assert VideoFileReader(tmp_path / output).info.sample_aspect_ratio == (shape if kept else None)
    assert ("non-square pixels (64:45)" in text) == (not kept), text


@pytest.mark.parametrize(("rotation", "pix_fmt"), [(90, "yuv420p"), (-90, "yuv422p"), (180, "yuv420p")])
def test_a_phone_video_stored_on_its_side_comes_out_upright(contract_model, tmp_path: Path, rotation: int,
                                                             pix_fmt: str) -> None:  # fmt: skip
    """A phone stores a portrait video on its side, with a display matrix that turns it. The
    output lost the matrix and played on its side, and a mask drawn on what a player shows did
    not fit. Frames are now read upright (as FFmpeg's command line does) and written so."""
    source = x264_clip(tmp_path / "phone.mp4", 4, pix_fmt, lambda stream: stream.set_display_rotation(rotation))
    turns = rotation // 90 % 4
    with av.open(str(source)) as container:  # read exactly, then turned as the matrix says
        shown = [np.rot90(to_rgb(f, Colour()), turns) for f in container.decode(video=0)]
    mask = np.zeros(shown[0].shape[:2], np.uint8)
    mask[10:20, 12:30] = 255  # drawn on the picture as a player shows it
    write_image(tmp_path / "m.png", mask)
    for output in ("out.mp4", "frames"):
        code, text = gin_video(contract_model, str(source), "--mask", str(tmp_path / "m.png"), "-o",
                               str(tmp_path / output), "--crf", "0")  # fmt: skip
        assert code == 0 and "resized" not in text, text
        after = decoded(tmp_path / output)[0] if output == "out.mp4" else [
            read_image(p) for p in sorted((tmp_path / output).glob("*.png"))]  # fmt: skip
        assert len(after) == 4 and after[0].shape == shown[0].shape
        for before, now in zip(shown, after, strict=True):
            # 4:2:2 on its side is encoded as 4:2:2 upright from RGB: its chroma halved the other way
            assert np.abs(before.astype(int) - now)[mask == 0].mean() < (1 if pix_fmt == "yuv422p" else 0.5)
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert next(container.decode(video=0)).rotation == 0


def test_the_picture_is_the_largest_video_stream_and_never_cover_art(contract_model, tmp_path: Path) -> None:
    """A one-frame thumbnail stream stored before the picture was taken for the video: a clip of
    N frames came out as one. The picture is the largest video stream, cover art (an attached
    picture) left out, as FFmpeg's command line chooses."""
    from types import SimpleNamespace

    source = tmp_path / "thumbnailed.mkv"
    with av.open(str(source), "w") as container:
        thumbnail = container.add_stream("mjpeg", rate=1)
        thumbnail.width, thumbnail.height, thumbnail.pix_fmt = 32, 32, "yuvj420p"
        picture = container.add_stream("libx264", rate=24)
        picture.width, picture.height, picture.pix_fmt = W, H, "yuv420p"
        still = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 128, np.uint8), format="rgb24")
        container.mux([*thumbnail.encode(still.reformat(format="yuvj420p")), *thumbnail.encode(None)])
        for image in clip_frames(5):
            container.mux(picture.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(picture.encode(None))
    video_with_hole(contract_model, source, tmp_path / "o.mp4")
    assert len(decoded(tmp_path / "o.mp4")[0]) == 5 and VideoFileReader(tmp_path / "o.mp4").info.width == W

    def stream(width: int, cover: bool) -> SimpleNamespace:
        disposition = av.stream.Disposition.attached_pic if cover else av.stream.Disposition(0)
        return SimpleNamespace(disposition=disposition, codec_context=SimpleNamespace(width=width, height=H))

    streams = SimpleNamespace(
        streams=SimpleNamespace(video=[stream(W, False), stream(4 * W, True), stream(2 * W, False)])
    )
    assert VideoFileReader._picture_stream(streams) == 2


def test_an_animated_webp_is_refused_with_a_reason(contract_model, tmp_path: Path) -> None:
    """FFmpeg opens an animated WebP but reads its frames as 0 x 0: a traceback from OpenCV. An image
    file is refused by its name; the same bytes under a video's name, by what FFmpeg reads."""
    from PIL import Image

    frames = [Image.fromarray(image) for image in clip_frames(3)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:])
    (tmp_path / "anim.mkv").write_bytes((tmp_path / "anim.webp").read_bytes())
    write_image(tmp_path / "m.png", hole())
    for name, reason in (("anim.webp", "an image file, not a video"), ("anim.mkv", "reads no picture size")):
        code, text = gin_video(contract_model, str(tmp_path / name), "--mask", str(tmp_path / "m.png"), "-o",
                               str(tmp_path / "o.mp4"))  # fmt: skip
        assert code != 0 and "Traceback" not in text and reason in text, text
        assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("output", ["out.mp4", "out.mov"])
def test_hevc_in_mp4_and_mov_is_tagged_as_apples_players_need(contract_model, source_video: Path, tmp_path: Path,
                                                              output: str) -> None:  # fmt: skip
    """FFmpeg tags HEVC in MP4 and MOV as hev1, which QuickTime, Safari and iOS refuse to play: hvc1,
    through every chunk and their join."""
    video_with_hole(contract_model, source_video, tmp_path / output, "--codec", "hevc", "--chunk-frames", "12")
    with av.open(str(tmp_path / output)) as container:
        assert container.streams.video[0].codec_context.codec_tag == "hvc1"
    assert len(decoded(tmp_path / output)[0]) == N


@pytest.mark.parametrize("output", ["out.mov", "out.mkv"])
def test_the_films_tags_and_timecode_come_along(contract_model, tmp_path: Path, output: str) -> None:
    """A reel's title, comment, creation time, start timecode and its audio's language were all
    lost: the output carried only the muxer's own tags. (A MOV keeps its timecode in a timecode
    track, which needs the stream's real frame rate: the copy declared 1 / its time base.)"""
    source = tmp_path / "reel.mov"
    with av.open(str(source), "w") as container:
        container.metadata.update({"title": "Reel 3", "comment": "scan 2k", "creation_time": "2019-05-04T10:00:00Z"})
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.metadata["timecode"] = "01:02:03:04"
        audio = container.add_stream("aac", rate=48000)
        audio.metadata["language"] = "fra"
        for image in clip_frames(6):
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode(None))
        tone = av.AudioFrame.from_ndarray(np.zeros((1, 12000), np.float32), format="fltp", layout="mono")
        tone.sample_rate, tone.pts = 48000, 0
        container.mux([*audio.encode(tone), *audio.encode(None)])
    video_with_hole(contract_model, source, tmp_path / output)
    with av.open(str(tmp_path / output)) as container:
        tags = {k.lower(): v for k, v in container.metadata.items()}
        assert (
            tags["title"] == "Reel 3"
            and tags["comment"] == "scan 2k"
            and tags["creation_time"].startswith("2019-05-04")
        )
        timecodes = [v for s in container.streams for k, v in s.metadata.items() if k.lower() == "timecode"]
        assert timecodes and set(timecodes) == {"01:02:03:04"}
        assert container.streams.audio[0].metadata["language"] == "fra"
        assert container.streams.video[0].average_rate == 24


@pytest.mark.parametrize(("first", "order", "codec"), [("tff", 2, "h264"), ("bff", 3, "h264"), ("tff", 2, "hevc")])
def test_interlaced_footage_stays_interlaced(
    contract_model, tmp_path: Path, first: str, order: int, codec: str
) -> None:
    """Broadcast and DV footage is interlaced: it came out flagged progressive, so players no longer
    deinterlaced it and its moving edges showed combs. H.264 now codes it interlaced in its field
    order (FFmpeg's AVFieldOrder: 2 top first, 3 bottom first); HEVC, which cannot here, is warned about."""
    source = x264_clip(
        tmp_path / "broadcast.mkv", 4, "yuv420p", lambda stream: stream.options.update({"x264-params": f"{first}=1"})
    )
    assert VideoFileReader(source).info.first_field == ("top" if first == "tff" else "bottom")
    text = video_with_hole(contract_model, source, tmp_path / "out.mkv", "--codec", codec)
    with av.open(str(tmp_path / "out.mkv")) as container:
        stream = container.streams.video[0]
        kept = codec == "h264"
        assert stream.codec_context.field_order in ((order,) if kept else (0, 1))  # 0 unknown, 1 progressive
        assert next(container.decode(stream)).interlaced_frame == kept
    assert ("players will not deinterlace" in text) == (not kept), text


@pytest.mark.parametrize("output", ["out.mkv", "out.mp4"])
def test_subtitles_and_chapters_come_along(contract_model, tmp_path: Path, output: str) -> None:
    """A film's subtitle tracks and chapters were lost. Now both are copied; a subtitle format the
    output's container cannot hold (SubRip in .mp4) is left out with a note naming it."""
    (tmp_path / "subs.srt").write_text(
        "1\n00:00:00,000 --> 00:00:00,200\nHello\n\n2\n00:00:00,300 --> 00:00:00,500\nThere\n"
    )
    chapters = [{"id": n + 1, "start": start, "end": start + 2, "time_base": Fraction(1, 10), "metadata": {"title": title}}
                for n, (start, title) in enumerate([(0, "Opening"), (2, "Duel")])]  # fmt: skip
    source = tmp_path / "film.mkv"
    with av.open(str(tmp_path / "subs.srt")) as subtitles, av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        text = container.add_stream_from_template(subtitles.streams.subtitles[0])
        text.metadata["language"] = "spa"
        container.set_chapters(chapters)
        for image in clip_frames(12):
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(video.encode(None))
        for packet in subtitles.demux(subtitles.streams.subtitles[0]):
            if packet.size:
                packet.stream = text
                container.mux(packet)
    said = video_with_hole(contract_model, source, tmp_path / output)
    with av.open(str(tmp_path / output)) as container:
        assert [c["metadata"]["title"] for c in container.chapters()] == ["Opening", "Duel"]
        assert [float(c["start"] * c["time_base"]) for c in container.chapters()] == [0, 0.2]
        tracks = list(container.streams.subtitles)
        cues = [(float(p.pts * p.time_base), bytes(p)) for p in container.demux(*tracks) if p.size] if tracks else []
    if output == "out.mkv":
        assert cues == [(0, b"Hello"), (0.3, b"There")]
        assert "cannot hold" not in said
    else:
        assert cues == [] and "film.mkv's subtitle track #1 (srt): left out" in said, said


def test_the_api_names_an_output_ending_ffmpeg_knows_no_container_for(source_video: Path, tmp_path: Path) -> None:
    """`write_video` to a name FFmpeg cannot place was a bare ValueError from PyAV
    ("Could not determine output format")."""
    reader = VideoFileReader(source_video)
    with pytest.raises(VideoError, match=r"no video container for files ending in '\.xyz'"):
        write_video(tmp_path / "out.xyz", reader.frames(), reader.info)
    assert not list(tmp_path.iterdir())
