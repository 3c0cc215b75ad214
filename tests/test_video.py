"""`gin video` and `gin scratches` around the detector: timing, audio, mask sources, resume, bad input (the detector itself: test_detector.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from click.testing import CliRunner

import gincli.io.video_encode as video_encode
from gincli.cli.main import main
from gincli.core.inpainter import Inpainter
from gincli.io.images import read_image, write_image
from gincli.io.video import VideoFileReader
from gincli.io.video_colour import Colour, i420_planes
from gincli.jobs.temporal import FillSmoother, hole_flicker
from gincli.jobs.video import VideoOptions, run_video
from gincli.testing.clips import write_lossless_clip
from gincli.testing.film_damage import pan_clip
from tests.conftest import damaged_clip, smooth_image

W, H, N = 96, 64, 30
RATE = Fraction(24000, 1001)


def clip_frames(n: int = N, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return list(pan_clip(smooth_image(rng, 160, 200), n, W, H, rng))


def make_video(
    path: Path,
    frames: list[np.ndarray],
    audio: bool = True,
    codec: str = "libx264",
    pts: list[int] | None = None,
    audio_codec: str = "aac",
    audio_rate: int = 48000,
    pix_fmt: str | None = None,
    setup: Callable[[object], None] | None = None,
) -> Path:
    """An H.264 (or other) video at 24000/1001 fps with a 440 Hz AAC (or other) tone as long as
    the picture; ``pts`` (in 1/24000 s) makes the frame rate variable. ``pix_fmt``: yuv420p for
    H.264, bgr0 for others, unless given; ``setup`` is given the video stream before the first
    frame (a pixel shape, a display matrix, encoder options)."""
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=RATE)
        video.width, video.height = frames[0].shape[1], frames[0].shape[0]
        video.pix_fmt = pix_fmt or ("yuv420p" if codec == "libx264" else "bgr0")
        video.time_base = Fraction(1, 24000)
        if setup is not None:
            setup(video)
        sound = container.add_stream(audio_codec, rate=audio_rate, layout="mono") if audio else None
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = (pts[i] if pts else i * 1001), Fraction(1, 24000)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            t = np.arange(int(audio_rate * len(frames) / RATE)) / audio_rate
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            form = sound.codec_context.format.name  # fltp for AAC, u8 for 8-bit PCM
            if form == "u8":
                samples = (128 + samples * 127).astype(np.uint8)
            for start in range(0, samples.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(samples[:, start : start + 1024].copy(), format=form, layout="mono")
                chunk.sample_rate = audio_rate
                container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return path


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.dts is not None]


def decoded(path: Path) -> tuple[list[np.ndarray], list[int]]:
    frames = list(VideoFileReader(path).frames())
    return [f.image for f in frames], [f.pts for f in frames]


def frame_folder(root: Path, frames: list[np.ndarray], first: int = 1) -> Path:
    for i, image in enumerate(frames):
        write_image(root / f"scan_{i + first:04d}.png", image)
    return root


def hole(box: tuple[int, int, int, int] = (20, 30, 40, 60)) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = 255
    return mask


def gin_video(model: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["video", *args, "--model", str(model)])
    return result.exit_code, result.output


def video_with_hole(model: Path, source: Path, output: Path, *options: str) -> str:
    """What `gin video SOURCE --mask M -o OUTPUT OPTIONS` says, M being :func:`hole` (written beside
    OUTPUT as m.png); the run must succeed."""
    mask = output.parent / "m.png"
    write_image(mask, hole())
    code, text = gin_video(model, str(source), "--mask", str(mask), "-o", str(output), *options)
    assert code == 0, text
    return text


@pytest.fixture(scope="module")
def source_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("video") / "in.mp4", clip_frames())


def test_video_keeps_frame_count_timestamps_rate_and_audio(contract_model, source_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    video_with_hole(contract_model, source_video, out, "--chunk-frames", "12")
    (before, pts_in), (after, pts_out) = decoded(source_video), decoded(out)
    assert len(after) == N and pts_out == pts_in
    info_in, info_out = VideoFileReader(source_video).info, VideoFileReader(out).info
    assert info_out.frame_rate == info_in.frame_rate == RATE
    assert (info_out.width, info_out.height) == (W, H)
    with av.open(str(source_video)) as a, av.open(str(out)) as b:
        assert abs(a.duration - b.duration) < 50_000  # microseconds
    assert audio_packets(out) == audio_packets(source_video)  # copied, not re-encoded
    inside = hole() > 0
    changed = [np.abs(x.astype(int) - y.astype(int))[inside].mean() for x, y in zip(before, after, strict=True)]
    assert min(changed) > 2  # every frame's hole was filled
    assert not (tmp_path / "out.mp4.gin-chunks").exists()


def test_a_mask_that_holes_most_of_the_frame_gets_a_hint_to_invert_it(contract_model, tmp_path: Path) -> None:
    source = make_video(tmp_path / "in.mp4", clip_frames())
    write_image(tmp_path / "inverted.png", 255 - hole())
    code, output = gin_video(contract_model, str(source), "--mask", str(tmp_path / "inverted.png"), "-o",
                             str(tmp_path / "out.mp4"), "--fill", "classical")  # fmt: skip
    assert code == 0 and "a hole (white marks holes): if it marks them the other way round, add --invert-mask" in (
        " ".join(output.split())
    ), output
    code, output = gin_video(contract_model, str(source), "--mask", str(tmp_path / "inverted.png"), "-o",
                             str(tmp_path / "turned.mp4"), "--fill", "classical", "--invert-mask")  # fmt: skip
    assert code == 0 and "invert-mask" not in output, output


def test_audio_the_output_container_cannot_hold_is_encoded_again(contract_model, tmp_path: Path) -> None:
    """8-bit PCM at 11,024 Hz (what an old AVI holds, Debian kphotoalbum's demo movie.avi) cannot
    go into .mp4 by copy; it was a traceback from the muxer. It is encoded again as AAC, at the
    nearest rate AAC takes, and lasts as long as before."""
    source = make_video(tmp_path / "old.mkv", clip_frames(), audio_codec="pcm_u8", audio_rate=11024)
    out = tmp_path / "out.mp4"
    video_with_hole(contract_model, source, out)
    with av.open(str(source)) as a, av.open(str(out)) as b:
        (before,), (after,) = a.streams.audio, b.streams.audio
        assert (before.codec_context.name, after.codec_context.name, after.rate) == ("pcm_u8", "aac", 11025)
        seconds = [sum(f.samples for f in c.decode(audio=0)) / s.rate for c, s in ((a, before), (b, after))]
    assert abs(seconds[0] - seconds[1]) < 0.1, seconds
    assert len(decoded(out)[0]) == N


def test_an_audio_packet_that_does_not_decode_is_copied_and_the_run_goes_on(
    contract_model, source_video: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken_audio.mp4"
    with av.open(str(source_video)) as source, av.open(str(broken), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        audio_seen = 0
        for packet in source.demux():
            if packet.dts is None:
                continue
            target = streams[packet.stream.index]
            if packet.stream.type == "audio":
                audio_seen += 1
                if audio_seen == 3:  # same size and timing, garbage inside
                    garbage = av.Packet(b"\xff" * packet.size)
                    garbage.pts, garbage.dts, garbage.time_base = packet.pts, packet.dts, packet.time_base
                    packet = garbage
            packet.stream = target
            out.mux(packet)
    with av.open(str(broken)) as check:  # the packet really does not decode
        decoder = check.streams.audio[0].codec_context
        failures = 0
        for packet in check.demux(check.streams.audio[0]):
            try:
                decoder.decode(packet)
            except av.error.FFmpegError:
                failures += 1
        assert failures == 1
    write_image(tmp_path / "m.png", hole())
    out = tmp_path / "out.mp4"
    code, output = gin_video(contract_model, str(broken), "--mask", str(tmp_path / "m.png"), "-o", str(out))
    assert code == 0 and "Traceback" not in output, output
    assert len(decoded(out)[0]) == N
    assert audio_packets(out) == audio_packets(broken)  # copied as it was, never decoded


def test_variable_frame_rate_timestamps_are_kept(contract_model, tmp_path: Path) -> None:
    steps = [1001, 2002, 1001, 3003, 1001, 1001, 2002, 1001, 1001, 1001, 4004, 1001]
    pts = [sum(steps[:i]) for i in range(len(steps))]
    source = make_video(tmp_path / "vfr.mp4", clip_frames(len(pts)), audio=False, pts=pts)
    assert decoded(source)[1] == pts
    out = tmp_path / "out.mkv"
    video_with_hole(contract_model, source, out, "--chunk-frames", "5")
    seconds = lambda path: [float(p * VideoFileReader(path).info.time_base) for p in decoded(path)[1]]  # noqa: E731
    assert np.allclose(seconds(out), seconds(source), atol=1e-3)


def test_frames_folder_in_and_out_with_masks_by_number(contract_model, tmp_path: Path) -> None:
    frames = clip_frames(8)
    src = frame_folder(tmp_path / "scans", frames, first=101)
    masks = tmp_path / "masks"
    write_image(masks / "mask_0103.png", hole())
    write_image(masks / "mask_0106.png", hole((5, 5, 15, 90)))
    code, output = gin_video(contract_model, str(src), "--masks", str(masks), "-o", str(tmp_path / "out"))
    assert code == 0, output
    written = sorted(p.name for p in (tmp_path / "out").glob("*.png"))  # beside them: the record of their settings
    assert written == [f"{n:06d}.png" for n in range(101, 109)]
    for number, image in zip(range(101, 109), frames, strict=True):
        result = read_image(tmp_path / "out" / f"{number:06d}.png")
        mask = {103: hole(), 106: hole((5, 5, 15, 90))}.get(number)
        if mask is None:
            assert np.array_equal(result, image)  # no mask: copied bit for bit
        else:
            assert np.array_equal(result[mask == 0], image[mask == 0])
            assert not np.array_equal(result[mask > 0], image[mask > 0])


def test_workers_set_the_frames_in_flight_and_not_the_frames(
    contract_model, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--workers frames are filled at once (twice as many are in flight), and the frames come
    out the same, bit for bit, however many."""
    import gincli.jobs.video as video_jobs

    windows: list[int] = []
    spread = video_jobs.bounded_map

    def watched(executor: object, items: Iterable, fn: Callable, window: int, *args: object) -> Iterable:
        windows.append(window)
        return spread(executor, items, fn, window, *args)

    monkeypatch.setattr(video_jobs, "bounded_map", watched)
    src = frame_folder(tmp_path / "scans", clip_frames(6))
    write_image(tmp_path / "m.png", hole())
    outputs = {}
    for workers in (1, 5):
        out = tmp_path / f"out{workers}"
        code, text = gin_video(contract_model, str(src), "--mask", str(tmp_path / "m.png"), "-o", str(out),
                               "--workers", str(workers))  # fmt: skip
        assert code == 0, text
        outputs[workers] = {p.name: p.read_bytes() for p in out.glob("*.png")}
    assert windows == [2, 10]
    assert len(outputs[1]) == 6 and outputs[1] == outputs[5]


def test_a_frames_folder_numbered_from_0_keeps_every_frame(contract_model, tmp_path: Path) -> None:
    """Frames 000000.png ... (ffmpeg's -start_number 0, a script's enumerate): the first two
    were both frame 1, and the output folder's 000001.png written twice, one frame lost."""
    frames = clip_frames(5)
    src = frame_folder(tmp_path / "scans", frames, first=0)
    video_with_hole(contract_model, src, tmp_path / "out", "--fill", "classical")
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == [f"{n:06d}.png" for n in range(5)]
    inside = hole() == 0
    for number, image in enumerate(frames):
        assert np.array_equal(read_image(tmp_path / "out" / f"{number:06d}.png")[inside], image[inside])


def test_missing_scans_in_a_frames_folder_are_named(contract_model, tmp_path: Path) -> None:
    """Scans 1, 2, 4, 5 and 9 became a video of five frames without a word about the four that
    are missing (a restorer's lost scans: the film jumps there)."""
    frames = clip_frames(5)
    scans = tmp_path / "scans"
    for number, image in zip((1, 2, 4, 5, 9), frames, strict=True):
        write_image(scans / f"scan_{number:04d}.png", image)
    write_image(tmp_path / "m.png", hole())
    code, output = gin_video(contract_model, str(scans), "--mask", str(tmp_path / "m.png"), "-o",
                             str(tmp_path / "film.mp4"), "--fill", "classical")  # fmt: skip
    assert code == 0 and "no frame numbered 3, 6-8 (4 missing)" in " ".join(output.split()), output
    complete = frame_folder(tmp_path / "complete", frames)
    code, output = gin_video(contract_model, str(complete), "--mask", str(tmp_path / "m.png"), "-o",
                             str(tmp_path / "whole.mp4"), "--fill", "classical")  # fmt: skip
    assert code == 0 and "no frame numbered" not in output, output


@pytest.mark.parametrize("first", [0, 1001])
def test_masks_numbered_otherwise_than_the_frames_match_them_in_order(
    contract_model, tmp_path: Path, first: int
) -> None:
    """A clip's frames are 1 to 8; masks numbered 0 to 7 went each to the next frame (every
    fill a frame off, the last frame none), and a scan's 1001 to 1008 to none at all, without
    a word. Runs as long as each other are matched in order, with a note; masks that match
    no frame are named. Each mask's hole is in its own place, so a shift shows."""
    source = make_video(tmp_path / "in.mp4", clip_frames(8), audio=False, codec="ffv1")
    masks = tmp_path / "masks"
    boxes = [(10, 5 + 10 * i, 30, 12 + 10 * i) for i in range(8)]
    for i, box in enumerate(boxes):
        write_image(masks / f"mask_{first + i:04d}.png", hole(box))
    out = tmp_path / "out"
    code, output = gin_video(contract_model, str(source), "--masks", str(masks), "-o", str(out), "--fill", "classical")
    assert code == 0, output
    assert f"masks numbered {first} to {first + 7}, frames 1 to 8: matched in order" in " ".join(output.split())
    for i, (before, box) in enumerate(zip(clip_frames(8), boxes, strict=True)):
        after = read_image(out / f"{i + 1:06d}.png")
        outside = hole(box) == 0
        assert np.array_equal(after[outside], before[outside]) and not np.array_equal(after, before), i
    (masks / f"mask_{first + 7:04d}.png").unlink()  # 7 masks for 8 frames: by number
    code, output = gin_video(contract_model, str(source), "--masks", str(masks), "-o", str(tmp_path / "again"),
                             "--fill", "classical")  # fmt: skip
    unmatched = 1 if first == 0 else 7
    assert code == 0 and f"{unmatched} of 7 masks match no frame (mask_{first:04d}.png" in " ".join(output.split())


def test_mask_video_masks_the_matching_frames(contract_model, tmp_path: Path) -> None:
    frames = clip_frames(6)
    src = frame_folder(tmp_path / "scans", frames)
    mask_frames = [np.repeat(hole()[..., None], 3, 2) * (i % 2) for i in range(6)]  # holes in odd frames
    mask_video = make_video(tmp_path / "masks.mkv", mask_frames, audio=False, codec="ffv1")
    code, output = gin_video(contract_model, str(src), "--mask-video", str(mask_video), "-o", str(tmp_path / "out"))
    assert code == 0, output
    for i, image in enumerate(frames):
        result = read_image(tmp_path / "out" / f"{i + 1:06d}.png")
        assert np.array_equal(result, image) == (i % 2 == 0)


def test_masks_of_another_size_are_resized_and_that_is_said_once(contract_model, tmp_path: Path) -> None:
    src = frame_folder(tmp_path / "scans", clip_frames(4))
    small = hole()[::2, ::2]  # a mask drawn on a half-size proxy
    for number in range(1, 5):
        write_image(tmp_path / "masks" / f"{number:06d}.png", small)
    mask_video = make_video(tmp_path / "masks.mkv", [np.repeat(small[..., None], 3, 2)] * 4, audio=False, codec="ffv1")
    for source in (["--masks", str(tmp_path / "masks")], ["--mask-video", str(mask_video)]):
        out = tmp_path / f"out{source[0]}"
        code, output = gin_video(contract_model, str(src), *source, "-o", str(out), "--fill", "classical")
        assert code == 0 and output.count("resized (nearest neighbour)") == 1, output
        assert not np.array_equal(read_image(out / "000001.png"), read_image(src / "scan_0001.png"))  # filled


def test_the_python_api_does_what_gin_video_does(contract_model, source_video: Path, tmp_path: Path) -> None:
    """``gincli.inpaint_video`` is the command for scripts: the same frames from the same options,
    with gin video's film settings (crop, the classical fill for thin damage, no grain); usage
    problems raise before any model loads."""
    from gincli import inpaint_video
    from gincli.jobs.pipeline import UsageError

    write_image(tmp_path / "m.png", hole())
    result = CliRunner().invoke(main, ["video", str(source_video), "--mask", str(tmp_path / "m.png"), "--model",
                                       str(contract_model), "--provider", "cpu", "--codec", "ffv1", "-o",
                                       str(tmp_path / "cli.mkv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = inpaint_video(source_video, tmp_path / "api.mkv", model=contract_model, provider="cpu",
                            mask=str(tmp_path / "m.png"), codec="ffv1")  # fmt: skip
    assert summary.frames == summary.inpainted == N
    (cli_frames, cli_pts), (api_frames, api_pts) = decoded(tmp_path / "cli.mkv"), decoded(tmp_path / "api.mkv")
    assert api_pts == cli_pts and all(np.array_equal(a, c) for a, c in zip(api_frames, cli_frames, strict=True))
    with pytest.raises(UsageError, match="exactly one of"):
        inpaint_video(source_video, tmp_path / "none.mkv", model=tmp_path / "missing.onnx")


def test_a_still_image_or_unnumbered_images_are_not_taken_as_frames_without_a_word(tmp_path: Path) -> None:
    """FFmpeg reads a photo as a one-frame video, and a frames folder reads only numbered images:
    `gin video photos/` made a one-frame video of the one photo with a digit in its name."""
    picture = smooth_image(np.random.default_rng(0), 32, 48)
    write_image(tmp_path / "photo.png", picture)
    for command in (["video", "--auto-mask", "scratches", "-o", str(tmp_path / "o.mp4")], ["scratches", "-o",
                                                                                            str(tmp_path / "m")]):  # fmt: skip
        result = CliRunner().invoke(main, [command[0], str(tmp_path / "photo.png"), *command[1:]])
        assert result.exit_code != 0 and "photo.png: an image file, not a video: `gin inpaint`" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "o.mp4").exists()
    for i in range(3):
        write_image(tmp_path / "frames" / f"{i:04d}.png", picture)
    for name in ("poster.png", "cover.png", "a.png", "b.png"):
        write_image(tmp_path / "frames" / name, picture)
    result = CliRunner().invoke(main, ["scratches", str(tmp_path / "frames"), "-o", str(tmp_path / "masks")])
    assert result.exit_code == 0, result.output
    assert "a.png, b.png, cover.png and 1 more: no frame number in the name, left out of the frames" in result.output
    assert len(list((tmp_path / "masks").iterdir())) == 3
    write_image(tmp_path / "masks" / "notes.png", picture)
    result = CliRunner().invoke(main, ["video", str(tmp_path / "frames"), "--masks", str(tmp_path / "masks"),
                                       "--fill", "classical", "-o", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "notes.png: no frame number in the name, left out of the masks" in result.output


def test_a_mask_video_shorter_than_the_input_is_refused_before_any_work(contract_model, tmp_path: Path) -> None:
    """A 3-frame mask video for a 6-frame clip stopped the run at frame 4, after three frames'
    work, its chunks left behind; where both files declare their frame counts, it is now a
    usage error before any frame is read."""
    source = make_video(tmp_path / "in.mp4", clip_frames(6), audio=False)
    masks = make_video(tmp_path / "masks.mp4", [np.repeat(hole()[..., None], 3, 2)] * 3, audio=False)
    out = tmp_path / "out.mp4"
    code, output = gin_video(contract_model, str(source), "--mask-video", str(masks), "-o", str(out))
    assert code == 2 and "has 3 frames" in output and "6" in output, output
    assert not out.exists() and not out.with_name("out.mp4.gin-chunks").exists()


class Interrupting(Inpainter):
    """Stops the run (like Ctrl-C) when asked to inpaint frame number ``stop_after`` + 1."""

    def __init__(self, model: Path, stop_after: int) -> None:
        super().__init__(model, provider="cpu", strategy="crop")
        self.calls, self.stop_after = 0, stop_after

    def inpaint_with_info(self, image, mask, strategy=None, fields=False):
        self.calls += 1
        if self.calls > self.stop_after:
            raise KeyboardInterrupt
        return super().inpaint_with_info(image, mask, strategy, fields)


def test_interrupted_video_resumes_from_finished_chunks(contract_model, source_video: Path, tmp_path: Path) -> None:
    write_image(tmp_path / "m.png", hole())
    out = tmp_path / "out.mkv"  # lossless ffv1: the frames themselves can be compared exactly
    opts = dict(mask=tmp_path / "m.png", chunk_frames=10, workers=1, codec="ffv1")
    with pytest.raises(KeyboardInterrupt):
        run_video(source_video, Interrupting(contract_model, 25), VideoOptions(output=out, **opts), progress=False)
    assert not out.exists()  # nothing that looks complete
    resumed = Interrupting(contract_model, 10**6)
    summary = run_video(source_video, resumed, VideoOptions(output=out, **opts), progress=False)
    assert summary.frames == N and summary.resumed == 20 and resumed.calls == 10  # only the last chunk redone
    fresh = tmp_path / "fresh.mkv"
    run_video(source_video, Inpainter(contract_model, provider="cpu", strategy="crop"),
                  VideoOptions(output=fresh, **opts), progress=False)  # fmt: skip
    (a, pts_a), (b, pts_b) = decoded(out), decoded(fresh)
    assert pts_a == pts_b
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert audio_packets(out) == audio_packets(source_video)


@pytest.mark.parametrize("chunks_per_encoder", [video_encode.CHUNKS_PER_ENCODER, 2])
def test_one_encoder_writes_consecutive_chunks(contract_model, source_video: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, chunks_per_encoder: int) -> None:  # fmt: skip
    """x264 writes its settings (an SEI message) into the first frame of the stream it encodes,
    so the joined output holds one copy per encoder opened: one for the whole run, however many
    chunks (an encoder per chunk raised a long video's peak memory at every chunk boundary)."""
    monkeypatch.setattr(video_encode, "CHUNKS_PER_ENCODER", chunks_per_encoder)
    write_image(tmp_path / "m.png", hole())
    out = tmp_path / "out.mp4"
    opts = VideoOptions(output=out, mask=tmp_path / "m.png", chunk_frames=7, workers=1)  # 30 frames: 5 chunks
    run_video(source_video, Inpainter(contract_model, provider="cpu", strategy="crop"), opts, progress=False)
    assert out.read_bytes().count(b"x264 - core") == -(-5 // chunks_per_encoder)
    (frames, pts), (_, source_pts) = decoded(out), decoded(source_video)
    assert len(frames) == N and pts == source_pts
    assert not (tmp_path / "out.mp4.gin-chunks").exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize(("suffix", "codec"), [(".mp4", "libx264"), (".mkv", "ffv1")])
def test_a_chunk_cut_short_is_refused_whether_its_container_counts_frames_or_not(
    tmp_path: Path, suffix: str, codec: str
) -> None:
    """A finished chunk is checked before it is kept: all its frames, from a key frame on. MP4
    keeps a frame count (read without the packets: reading them all grew a long video's peak
    memory chunk by chunk); Matroska keeps none, so its packets are counted."""
    from gincli.io.video import VideoError, VideoInfo
    from gincli.io.video_encode import _keep_chunk

    written = tmp_path / f"chunk.partial{suffix}"
    with av.open(str(written), "w") as container:
        stream = container.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            picture = np.full((48, 64, 3), 20 * i, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
    info = VideoInfo(64, 48, Fraction(24), Fraction(1, 24), 10, has_audio=False)
    with pytest.raises(VideoError, match="10 frames, 11 expected"):
        _keep_chunk(written, tmp_path / f"chunk{suffix}", 0, 11, info)
    assert written.exists() and not (tmp_path / f"chunk{suffix}").exists()
    assert _keep_chunk(written, tmp_path / f"chunk{suffix}", 0, 10, info) == 0
    assert (tmp_path / f"chunk{suffix}").exists() and not written.exists()


def test_corrupt_and_truncated_videos_fail_clearly_without_output(
    contract_model, source_video: Path, tmp_path: Path
) -> None:
    write_image(tmp_path / "m.png", hole())
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01not a video" * 100)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(source_video.read_bytes()[: source_video.stat().st_size // 2])
    for bad in (garbage, truncated):
        out = tmp_path / f"out_{bad.stem}.mp4"
        code, output = gin_video(contract_model, str(bad), "--mask", str(tmp_path / "m.png"), "-o", str(out))
        assert code == 1 and str(bad) in output and "Traceback" not in output
        assert "running" not in output  # found before the model loads: no engine announced
        assert not out.exists()


def test_usage_errors_exit_2_before_any_work(contract_model, source_video: Path, tmp_path: Path) -> None:
    write_image(tmp_path / "m.png", hole())
    existing = tmp_path / "done.mp4"
    existing.write_bytes(b"keep me")
    code, output = gin_video(contract_model, str(source_video), "--mask", str(tmp_path / "m.png"), "-o", str(existing))
    assert code == 2 and "--overwrite" in output and existing.read_bytes() == b"keep me"
    code, output = gin_video(contract_model, str(source_video), "-o", str(tmp_path / "x.mp4"))
    assert code == 2 and "--auto-mask" in output
    code, output = gin_video(
        contract_model, str(source_video), "--mask", str(tmp_path / "m.png"), "-o", str(source_video)
    )
    assert code == 2 and "is the input" in output
    code, output = gin_video(contract_model, str(source_video), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "a.mp4"),
                             "--codec", "ffv1")  # fmt: skip
    assert code == 2 and ".mkv" in output
    (tmp_path / "file.txt").write_text("not a folder")
    code, output = gin_video(contract_model, str(source_video), "--mask", str(tmp_path / "m.png"),
                             "-o", str(tmp_path / "file.txt" / "a.mp4"))  # fmt: skip
    assert code == 2 and "cannot write into" in output
    result = CliRunner().invoke(main, ["video", str(source_video), "-o", str(tmp_path / "b.mp4"),
                                       "--model", str(tmp_path / "missing.onnx")])  # fmt: skip
    assert result.exit_code == 2 and "--auto-mask" in result.output  # the usage error, before the model


def test_masks_and_frames_are_never_written_over(contract_model, tmp_path: Path) -> None:
    """Masks reviewed or edited by hand were lost to a second `gin scratches` into their folder,
    `gin scratches scans/ -o scans/` wrote its masks over the scans, and `gin video --masks
    DIR -o DIR` took the masks for finished frames (or, with --overwrite, replaced them). Now
    each is a usage error that leaves every file as it was; with --overwrite, gin scratches
    replaces the masks and names those its clip has no frame for."""
    video = make_video(tmp_path / "film.mp4", clip_frames(6), audio=False)
    masks = tmp_path / "masks"
    for number in range(1, 9):  # two more than the clip has frames
        write_image(masks / f"{number:06d}.png", hole())
    scans = frame_folder(tmp_path / "scans", clip_frames(3))
    before = {p: p.read_bytes() for folder in (masks, scans) for p in folder.iterdir()}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, " ".join(result.output.split())

    code, output = run("scratches", str(video), "-o", str(masks))
    assert code == 2 and "holds 8 numbered images already" in output and "--overwrite" in output
    code, output = run("scratches", str(scans), "-o", str(scans), "--overwrite")
    assert code == 2 and "is the input" in output
    for overwrite in ([], ["--overwrite"]):
        code, output = gin_video(contract_model, str(video), "--masks", str(masks), "-o", str(masks), *overwrite)
        assert code == 2 and "is the --masks source" in output
    assert {p: p.read_bytes() for p in before} == before
    code, output = run("scratches", str(video), "-o", str(masks), "--overwrite")
    assert code == 0 and "2 images from before remain (000007.png, 000008.png)" in output, output
    assert all(masks.joinpath(f"{n:06d}.png").read_bytes() != before[masks / f"{n:06d}.png"] for n in range(1, 7))


def test_temporal_smoothing_steadies_a_static_hole_and_resets_on_change() -> None:
    rng = np.random.default_rng(5)
    still = smooth_image(rng, H, W).astype(np.float32) / 255
    mask = (hole() > 0).astype(np.float32)
    frames = [np.clip(still + rng.normal(0, 0.01, still.shape), 0, 1) for _ in range(12)]
    fills = [np.clip(f + mask[..., None] * rng.normal(0, 0.05, f.shape), 0, 1) for f in frames]  # a shimmering fill
    smoother = FillSmoother(0.6)
    steadied = [smoother(f, r, mask) for f, r in zip(frames, fills, strict=True)]
    assert hole_flicker(steadied, [mask] * 12) < 0.6 * hole_flicker(fills, [mask] * 12)
    assert np.array_equal(steadied[0], fills[0])
    cut = 1.0 - frames[0]  # a different picture around the hole: no blending across a cut
    assert np.array_equal(smoother(cut, fills[0], mask), fills[0])


def test_video_temporal_option_changes_only_holes(
    contract_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(6)
    still = smooth_image(rng, H, W).astype(np.float32)
    grainy = [np.clip(still + rng.normal(0, 4, still.shape), 0, 255).astype(np.uint8) for _ in range(6)]
    src = frame_folder(tmp_path / "scans", grainy)
    write_image(tmp_path / "m.png", hole())
    # the option must reach the smoother (whose effect is tested above): keep the one the job makes
    smoothers: list[FillSmoother] = []
    original = FillSmoother.__init__

    def keep(self: FillSmoother, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        smoothers.append(self)

    monkeypatch.setattr(FillSmoother, "__init__", keep)
    code, output = gin_video(contract_model, str(src), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "out"),
                             "--temporal", "0.5")  # fmt: skip
    assert code == 0, output
    assert [s.strength for s in smoothers] == [0.5]
    assert smoothers[0].blended_frames == len(grainy) - 1  # every frame after the first, on this static shot
    for i, image in enumerate(grainy):
        result = read_image(tmp_path / "out" / f"{i + 1:06d}.png")
        assert np.array_equal(result[hole() == 0], image[hole() == 0])


def test_example_script_restores_a_film_keeping_audio(contract_model, tmp_path: Path) -> None:
    _, damaged, _ = damaged_clip(7)
    reel = make_video(tmp_path / "reel.mp4", damaged)
    out = tmp_path / "restored.mp4"
    script = Path(__file__).parents[1] / "examples" / "remove_scratches.py"
    done = subprocess.run([sys.executable, str(script), str(reel), str(out), "--model", str(contract_model)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (before, pts_in), (after, pts_out) = decoded(reel), decoded(out)
    assert pts_out == pts_in and audio_packets(out) == audio_packets(reel)
    assert any(np.abs(a.astype(int) - b.astype(int)).max() > 40 for a, b in zip(before, after, strict=True))
    # the picture it left alone is passed on as decoded: through RGB and back, it came out a level darker
    level = np.mean([np.median(a.astype(int) - b) for a, b in zip(after, before, strict=True)])
    assert abs(level) < 0.5, level


def test_out_of_order_timestamps_are_put_right_without_reordering_frames() -> None:
    from gincli.io.video import monotonic_timestamps

    labels = [1, 2, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12]  # what packed B-frames in AVI decode to
    out = list(monotonic_timestamps(enumerate(labels)))
    assert [frame for frame, _ in out] == list(range(len(labels)))  # the order a player shows is kept
    assert [pts for _, pts in out] == sorted(labels)
    assert [pts for _, pts in monotonic_timestamps(enumerate([0, 5, 5, 5, 9]))] == [0, 5, 6, 7, 9]


def test_mpeg4_with_b_frames_in_avi_inpaints_to_mp4(contract_model, tmp_path: Path) -> None:
    frames = clip_frames(24)
    src = tmp_path / "film.avi"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"bf": "2"}
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    video_with_hole(contract_model, src, tmp_path / "out.mp4")
    _, pts = decoded(tmp_path / "out.mp4")
    assert len(pts) == len(frames) and pts == sorted(pts)


@pytest.mark.parametrize("change", ["model re-exported to the same path", "fill method"])
def test_a_changed_model_file_or_fill_starts_the_video_over(contract_model, source_video: Path, tmp_path: Path,
                                                            change: str) -> None:  # fmt: skip
    import os
    import shutil

    model = tmp_path / "model.onnx"
    shutil.copy(contract_model, model)
    write_image(tmp_path / "m.png", hole())
    out = tmp_path / "out.mkv"
    opts = dict(mask=tmp_path / "m.png", chunk_frames=10, workers=1, codec="ffv1")
    with pytest.raises(KeyboardInterrupt):
        run_video(source_video, Interrupting(model, 25), VideoOptions(output=out, **opts), progress=False)
    again = Interrupting(model, 10**6)
    if change == "fill method":
        again.fill = "classical"
    else:
        os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 10**9))  # a new export
    warnings: list[str] = []
    summary = run_video(source_video, again, VideoOptions(output=out, **opts), progress=False,
                            warn=warnings.append)  # fmt: skip
    assert summary.resumed == 0 and again.calls == N  # every frame redone
    assert any("starting over" in w for w in warnings)


def test_a_mask_edited_in_place_makes_its_frames_again(contract_model, tmp_path: Path) -> None:
    """Inpaint, see a missed scratch, fix its mask, run again: the mask, edited in place, left
    its folder's times as they were, so an interrupted video output's chunks and a frames
    folder's frames were kept from the first run, the edit ignored. Each mask's own times now
    count, and a frames folder records the settings its frames were made with; the same
    settings again keep every frame."""
    import os

    scans = frame_folder(tmp_path / "scans", clip_frames(4))
    masks = tmp_path / "masks"
    for number in range(1, 5):
        write_image(masks / f"{number:06d}.png", hole())
    folder_opts = VideoOptions(output=tmp_path / "out", masks=masks, workers=1)
    video_opts = VideoOptions(output=tmp_path / "out.mkv", masks=masks, codec="ffv1", chunk_frames=2, workers=1)
    run_video(scans, Inpainter(fill="classical"), folder_opts, progress=False)
    assert run_video(scans, Inpainter(fill="classical"), folder_opts, progress=False).resumed == 4  # kept
    with pytest.raises(KeyboardInterrupt):  # two chunks of two frames finished, then stopped
        run_video(scans, Interrupting(contract_model, 3), video_opts, progress=False)
    moved = hole((5, 5, 15, 90))
    edited = masks / "000002.png"
    folder_time = masks.stat().st_mtime_ns
    edited.write_bytes(cv2.imencode(".png", moved)[1].tobytes())  # in place, as an editor saves
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 10**9))  # a coarse clock's tick
    assert masks.stat().st_mtime_ns == folder_time
    for inpainter, opts, note in ((Inpainter(fill="classical"), folder_opts, "making them again"),
                                  (Interrupting(contract_model, 10**6), video_opts, "starting over")):  # fmt: skip
        warnings: list[str] = []
        summary = run_video(scans, inpainter, opts, progress=False, warn=warnings.append)
        assert summary.resumed == 0 and any(note in w for w in warnings), warnings
    second, original = read_image(tmp_path / "out" / "000002.png"), clip_frames(4)[1]
    assert np.array_equal(second[moved == 0], original[moved == 0])  # the new mask's hole, not the old one's
    assert not np.array_equal(second[moved > 0], original[moved > 0])


def test_fill_methods_route_thin_holes_to_the_classical_fill(contract_model) -> None:
    """``classical`` fills everything by OpenCV: a narrow hole (the scratch) by Navier-Stokes at
    radius 1, a wide one (the square) by Telea at radius 5; ``auto`` the scratch by Navier-Stokes
    and the square by the network; ``network`` both by the network."""
    image = smooth_image(np.random.default_rng(3), 128, 160)
    mask = np.zeros((128, 160), np.uint8)
    mask[10:100, 40:42] = 255  # a 2 px scratch: thin
    mask[60:100, 90:130] = 255  # a 40 px square: wide
    scratch, square = np.zeros_like(mask), np.zeros_like(mask)
    scratch[10:100, 40:42], square[60:100, 90:130] = 1, 1
    # the two lie 48 px apart: each one's fill reads nothing of the other's
    narrow_ns = cv2.inpaint(image, scratch, 1, cv2.INPAINT_NS)
    wide_telea = cv2.inpaint(image, square, 5, cv2.INPAINT_TELEA)
    scratch, square = scratch > 0, square > 0
    calls: list[int] = []
    for fill in ("auto", "classical", "network"):
        inpainter = Inpainter(contract_model, provider="cpu", fill=fill)
        if fill != "classical":
            original = inpainter.batcher._run
            inpainter.batcher._run = lambda i, m, o=original: calls.append(len(i)) or o(i, m)
        out = inpainter.inpaint(image, mask)
        assert np.array_equal(out[mask == 0], image[mask == 0])
        assert np.array_equal(out[scratch], narrow_ns[scratch]) == (fill != "network")
        if fill == "classical":
            assert np.array_equal(out[square], wide_telea[square]) and inpainter.engine is None  # no network at all
        else:
            assert calls  # the network ran
            assert not np.array_equal(out[square], wide_telea[square])
        calls.clear()


def test_the_classical_fill_reads_no_model_and_starts_no_engine(tmp_path: Path) -> None:
    """``fill="classical"`` runs no network: a model that does not exist is never opened (reading
    the bundled one and probing the engines took a second of every `gin video` start), a mask
    with no hole gives the image back, and the resume fingerprint names no model."""
    from gincli.core.inpainter import NoHoleWarning

    image = smooth_image(np.random.default_rng(5), 64, 80)
    scratch = np.zeros((64, 80), np.uint8)
    scratch[5:60, 30:32] = 1
    inpainter = Inpainter(tmp_path / "no_such_model.onnx", fill="classical")
    out, used = inpainter.inpaint_with_info(image, scratch)
    assert inpainter.engine is None and used == "classical"
    assert np.array_equal(out[scratch > 0], cv2.inpaint(image, scratch, 1, cv2.INPAINT_NS)[scratch > 0])
    with pytest.warns(NoHoleWarning):
        unchanged, used = inpainter.inpaint_with_info(image, np.zeros_like(scratch))
    assert np.array_equal(unchanged, image) and used == "classical"
    assert inpainter.output_settings()["model"] is None
    # `gin video`: the same, and a note that the model given is not read (a typo there goes unseen)
    write_image(tmp_path / "mask.png", hole())
    scans = frame_folder(tmp_path / "scans", clip_frames(3))
    code, output = gin_video(tmp_path / "no_such_model.onnx", str(scans), "--mask", str(tmp_path / "mask.png"),
                             "--fill", "classical", "-o", str(tmp_path / "out"))  # fmt: skip
    assert code == 0 and "3 inpainted (classical 3)" in output, output
    assert "--model " + str(tmp_path / "no_such_model.onnx") + " is not read" in output


def test_a_12_px_speck_is_telea_s_in_a_film_and_the_network_s_in_a_photo(contract_model, tmp_path: Path) -> None:
    """The --thin-radius defaults: 8 px for `gin video` (film damage up to 16 px wide never
    wakes the network), 4 px for photos (`gin inpaint`, the API), where the network's fill of
    holes wider than 8 px measures better."""
    speck = hole((26, 42, 38, 54))  # 12 x 12 px: the widest disc inside has radius 6
    write_image(tmp_path / "speck.png", speck)
    frames = clip_frames(3)
    code, output = gin_video(contract_model, str(frame_folder(tmp_path / "scans", frames)), "--mask",
                             str(tmp_path / "speck.png"), "-o", str(tmp_path / "out"))  # fmt: skip
    assert code == 0 and "3 inpainted (classical 3)" in output, output
    _, used = Inpainter(contract_model, provider="cpu").inpaint_with_info(frames[0], speck)
    assert used != "classical"
    photo = CliRunner().invoke(main, ["inpaint", str(tmp_path / "scans" / "scan_0001.png"), "--masks",
                                      str(tmp_path / "speck.png"), "-o", str(tmp_path / "photo"), "--model",
                                      str(contract_model), "--provider", "cpu"])  # fmt: skip
    assert photo.exit_code == 0, photo.output
    result = read_image(tmp_path / "photo" / "scan_0001.png")
    telea = cv2.inpaint(frames[0], (speck > 0).astype(np.uint8), 5, cv2.INPAINT_TELEA)
    assert not np.array_equal(result[speck > 0], telea[speck > 0])  # the network's (the stand-in's cell means)


def test_a_narrow_hole_beside_a_wide_one_is_filled_from_valid_pixels_only() -> None:
    """A 2 px scratch 2 px from a magenta blot: the scratch is filled with the small radius, the
    blot with the large one, and the scratch's fill reads none of the blot's damage (the blot
    counts as unknown in the scratch's run too)."""
    from gincli.core.classical import classical_fill

    image = np.full((120, 120, 3), 120, np.uint8)
    mask = np.zeros((120, 120), np.uint8)
    mask[30:90, 30:70] = 1  # the blot
    mask[10:110, 71:73] = 1  # the scratch, one column of valid picture between
    image[mask > 0] = (255, 0, 255)
    filled = classical_fill(image, mask, mask > 0)
    assert np.abs(filled * 255 - 120).max() <= 4  # Telea rounds by a few levels; magenta read: far more


def test_thin_parts_go_to_telea_where_lines_cross_or_run_out_of_a_blot() -> None:
    import cv2

    from gincli.core.classical import FILM_THIN_RADIUS, classical_context, classical_fill, thin_holes

    mask = np.zeros((160, 160), np.uint8)
    cv2.line(mask, (20, 0), (60, 159), 1, thickness=6)  # two 6 px scratches that cross
    cv2.line(mask, (60, 0), (20, 159), 1, thickness=6)
    mask[20:60, 100:140] = 1  # a 40 px blot
    mask[60:120, 119:122] = 1  # a 3 px scratch running out of it
    thin = thin_holes(mask, FILM_THIN_RADIUS)  # film damage (photos' 4 px: the crossing is the network's)
    assert thin[:, :80][mask[:, :80] > 0].all()  # the crossing stays thin
    assert not thin[20:60, 100:140].any() and thin[62:120, 119:122].all()
    # the scratch is filled from valid pixels, never from the damage inside the blot
    image = np.full((160, 160, 3), 120, np.uint8)
    image[mask > 0] = (255, 0, 255)
    filled = classical_fill(image, classical_context(thin, mask), thin)
    assert np.abs(filled * 255 - 120).max() <= 4  # Telea rounds by a few levels; magenta leaking in: 21


@pytest.mark.parametrize(("codec", "decoder"), [("hevc", "hevc"), ("mpeg4", "mpeg4")])
def test_other_encoders_write_that_codec(contract_model, source_video: Path, tmp_path: Path, codec: str,
                                         decoder: str) -> None:  # fmt: skip
    out = tmp_path / "o.mp4"
    video_with_hole(contract_model, source_video, out, "--codec", codec)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == decoder
    assert len(decoded(out)[0]) == N


def test_crf_sets_quality_and_fps_sets_a_frames_folder_rate(contract_model, tmp_path: Path) -> None:
    frames = frame_folder(tmp_path / "scans", clip_frames(12, seed=4))
    write_image(tmp_path / "m.png", hole())
    sizes = {}
    for crf in ("4", "40"):
        out = tmp_path / f"crf{crf}.mp4"
        code, output = gin_video(contract_model, str(frames), "--mask", str(tmp_path / "m.png"), "-o", str(out),
                                 "--crf", crf, "--fps", "12")  # fmt: skip
        assert code == 0, output
        sizes[crf] = out.stat().st_size
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            assert stream.average_rate == 12 and stream.frames == 12
    assert sizes["4"] > 2 * sizes["40"]  # lower crf, better quality, more bytes


def test_preset_reaches_the_encoder_and_only_codecs_with_presets_take_one(contract_model, tmp_path: Path) -> None:
    """x264 writes its settings into the stream: subme 6 and 2 references are fast's (the default),
    subme 7 and 3 references medium's, subme 0 ultrafast's."""
    frames = frame_folder(tmp_path / "scans", clip_frames(4, seed=5))
    write_image(tmp_path / "m.png", hole())
    for preset, settings in (
        (None, (b" ref=2 ", b" subme=6 ")),
        ("medium", (b" ref=3 ", b" subme=7 ")),
        ("ultrafast", (b" subme=0 ",)),
    ):
        out = tmp_path / f"{preset}.mp4"
        code, output = gin_video(contract_model, str(frames), "--mask", str(tmp_path / "m.png"), "-o", str(out),
                                 *(["--preset", preset] if preset else []))  # fmt: skip
        assert code == 0, output
        stream = out.read_bytes()
        assert all(setting in stream for setting in settings), (preset, settings)
    code, output = gin_video(contract_model, str(frames), "--mask", str(tmp_path / "m.png"),
                             "-o", str(tmp_path / "a.mp4"), "--codec", "mpeg4", "--preset", "medium")  # fmt: skip
    assert code == 2 and "only h264 and hevc" in output, output


# an odd-sized 4:2:0 source is FFV1's (x264 takes no odd size in 4:2:0)
@pytest.mark.parametrize(("size", "pix_fmt", "source"), [((97, 65), "yuv444p", "in.mp4"),
                                                         ((97, 65), "yuv420p", "in.mkv"),
                                                         ((96, 64), "yuv422p10le", "in.mp4")])  # fmt: skip
def test_awkward_clips_odd_sizes_and_10_bit_4_2_2(contract_model, tmp_path: Path, size: tuple[int, int],
                                                   pix_fmt: str, source: str) -> None:  # fmt: skip
    width, height = size
    clip = tmp_path / source
    rng = np.random.default_rng(9)
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264" if source.endswith(".mp4") else "ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for image in pan_clip(smooth_image(rng, 160, 200), 6, width, height, rng):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    mask = np.zeros((height, width), np.uint8)
    mask[10:30, 20:50] = 255
    write_image(tmp_path / "m.png", mask)
    code, output = gin_video(
        contract_model, str(clip), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.mp4")
    )
    assert code == 0 and "Traceback" not in output, output
    frames, _ = decoded(tmp_path / "o.mp4")
    assert len(frames) == 6 and frames[0].shape == (height, width, 3)
    # warned where the odd size alone made the output 4:4:4: not for footage that is 4:4:4 already
    assert ("odd size" in output) == (width % 2 == 1 and pix_fmt != "yuv444p"), output
    code, output = gin_video(contract_model, str(clip), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "m4.mp4"),
                             "--codec", "mpeg4")  # fmt: skip
    assert (code, "cannot encode an odd size" in output) == ((1, True) if width % 2 else (0, False)), output
    assert not list(tmp_path.glob("*.gin-chunks")) and "Traceback" not in output


def test_video_jobs_keep_opencv_on_their_own_threads_and_give_its_pool_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gin video` and `gin scratches` already keep the cores busy with frames in flight on
    threads of their own: OpenCV's pool only competed with them, spinning while it waited (a
    tenth of the wall time at 720p). Its size is 1 while they run, and as it was after."""
    import gincli.jobs.video as video_jobs
    from gincli.jobs.video import detect_scratches

    seen: list[int] = []
    inpainter = Inpainter(fill="classical")
    fill = inpainter.inpaint_with_info
    monkeypatch.setattr(
        inpainter, "inpaint_with_info", lambda *a, **k: (seen.append(cv2.getNumThreads()), fill(*a, **k))[1]
    )
    detect = video_jobs.damage_masks

    def detect_watched(*args: object, **kwargs: object) -> Iterable[np.ndarray]:
        for mask in detect(*args, **kwargs):
            seen.append(cv2.getNumThreads())
            yield mask

    monkeypatch.setattr(video_jobs, "damage_masks", detect_watched)
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        write_image(tmp_path / "mask.png", hole())
        scans = frame_folder(tmp_path / "scans", clip_frames(4))
        run_video(scans, inpainter, VideoOptions(output=tmp_path / "out", mask=tmp_path / "mask.png"), False)
        assert seen == [1] * 4 and cv2.getNumThreads() == 2
        assert detect_scratches(scans, tmp_path / "found", progress=False) == 4
        assert seen == [1] * 8 and cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


# unspecified (BT.601 to FFmpeg), BT.709, and BT.601 in full range
@pytest.mark.parametrize(("matrix", "colour_range"), [(2, 0), (1, 1), (5, 2)])
def test_the_picture_outside_the_hole_comes_out_as_it_came_in_with_its_colour_tags(
    contract_model, tmp_path: Path, matrix: int, colour_range: int
) -> None:
    """Encoded losslessly, every sample outside the hole is the input's, bit for bit, and the
    colour tags are kept: every pixel went through RGB and back, about a level of 255 darker in
    luma (FFmpeg's fast conversion to RGB; see gincli/io/video_colour.py), and a BT.709 clip
    was written as BT.601, tagged as nothing (3.2 levels darker, its chroma shifted)."""

    def planes(path: Path) -> tuple[list[np.ndarray], tuple[int, ...]]:
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            tags = (context.colorspace, context.color_range, context.color_primaries, context.color_trc)
            return [f.to_ndarray() for f in container.decode(video=0)], tags

    frames = [i420_planes(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), H, W) for image in clip_frames(6, seed=3)]
    source = tmp_path / "in.mp4"
    write_lossless_clip(source, frames, "yuv420p", matrix, colour_range)
    write_image(tmp_path / "mask.png", hole())
    opts = VideoOptions(output=tmp_path / "out.mp4", mask=tmp_path / "mask.png", crf=0)  # lossless
    run_video(source, Inpainter(contract_model, provider="cpu", fill="classical"), opts, progress=False)
    (before, tags_in), (after, tags_out) = planes(source), planes(tmp_path / "out.mp4")
    assert tags_out == tags_in and tags_in[:2] == (matrix, colour_range)
    in_hole = hole() > 0
    # a chroma sample (U then V, each H / 2 x W / 2, below the luma) covers 2 x 2 pixels
    in_chroma = np.tile(in_hole.reshape(H // 2, 2, W // 2, 2).any(axis=(1, 3)).reshape(H // 4, W), (2, 1))
    for was, now in zip(before, after, strict=True):
        assert np.array_equal(now[:H][~in_hole], was[:H][~in_hole])
        assert np.array_equal(now[H:][~in_chroma], was[H:][~in_chroma])
        for filled, samples in ((now[:H][in_hole], was[:H][in_hole]), (now[H:][in_chroma], was[H:][in_chroma])):
            assert np.abs(filled.astype(int) - samples).mean() > 1  # the hole was filled, luma and chroma


def test_full_range_samples_are_never_passed_on_under_a_limited_range_tag() -> None:
    """JPEG's J formats hold full-range samples whatever their stream's tag says: the output,
    tagged with the input's colour, must say so, or its samples, kept as decoded, would be
    shown with their blacks and whites stretched past the screen's."""
    from types import SimpleNamespace

    from gincli.io.video_colour import decoded_planes

    untagged = SimpleNamespace(colorspace=5, color_range=0, color_primaries=5, color_trc=6, pix_fmt="yuvj420p")
    assert Colour.of(untagged).range == 2
    assert Colour.of(SimpleNamespace(**{**vars(untagged), "pix_fmt": "yuv420p"})).range == 0
    frame = av.VideoFrame(16, 8, "yuvj420p")
    assert decoded_planes(frame, Colour(5, 1)) is None
    assert [p.shape for p in decoded_planes(frame, Colour(5, 2))] == [(8, 16), (4, 8), (4, 8)]
    assert [p.shape for p in decoded_planes(av.VideoFrame(16, 8, "yuv420p"), Colour(5, 1))] == [(8, 16), (4, 8), (4, 8)]
