"""The bad-input battery: one `gin inpaint` run over a folder of everything that goes wrong in
real collections, and a run killed with SIGKILL then started again.

What must hold for every case: one line naming the file and the reason, the run goes on with
the other files, exit code 1 at the end, no input or mask modified (checksums), no partial
output left behind. And every command's numbers out of range: a usage error naming the option, no
traceback. (Other batteries: decompression bombs, models that are not ours, resume
over truncated outputs, symlink loops and checkpoints that hold code each have their own test
beside the feature.)
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gincli.cli.main import main
from gincli.io.images import read_image, write_image
from tests.conftest import smooth_image

H, W = 48, 64


def hole(height: int = H, width: int = W) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4 : height // 2, width // 4 : width // 2] = 255
    return mask


def checksums(*folders: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


def png_header_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def build_battery(root: Path) -> tuple[Path, Path, dict[str, str]]:
    """(inputs, masks, {file name: what the run must say about it})."""
    rng = np.random.default_rng(21)
    inputs, masks = root / "in", root / "masks"
    inputs.mkdir()
    masks.mkdir()
    expected: dict[str, str] = {}

    def photo(name: str, mask: np.ndarray | None = None) -> Path:
        path = inputs / name
        write_image(path, smooth_image(rng, H, W))
        if mask is not None:
            write_image(masks / f"{Path(name).stem}.png", mask)
        return path

    photo("good.png", hole())
    photo("with space é.png", hole())  # spaces and non-ASCII in a name are just a name
    (inputs / "zero.png").write_bytes(b"")
    expected["zero.png"] = "empty file"
    good_jpeg = root / "tmp.jpg"
    write_image(good_jpeg, smooth_image(rng, H, W))
    (inputs / "cut.jpg").write_bytes(good_jpeg.read_bytes()[:200])
    expected["cut.jpg"] = "not a decodable image"
    (inputs / "cut.png").write_bytes((inputs / "good.png").read_bytes()[:100])
    expected["cut.png"] = "not a decodable image"
    (inputs / "notes.png").write_text("this is text, not a picture\n")
    expected["notes.png"] = "not a decodable image"
    (inputs / "claims_huge.png").write_bytes(png_header_claiming(60_000, 60_000))
    expected["claims_huge.png"] = "over the limit"
    for name in ("zero", "cut", "notes", "claims_huge"):
        write_image(masks / f"{name}.png", hole())
    Image.fromarray(smooth_image(rng, H, W)).convert("CMYK").save(inputs / "cmyk.jpg", quality=95)
    write_image(masks / "cmyk.png", hole())
    Image.fromarray(smooth_image(rng, H, W)).convert("P").save(inputs / "palette.png")
    write_image(masks / "palette.png", hole())
    write_image(inputs / "deep.tiff", smooth_image(rng, H, W).astype(np.uint16) * 257)
    write_image(masks / "deep.png", hole())
    photo("other_size.png", hole(H // 2, W // 2))
    expected["other_size.png"] = "resized"
    photo("all_white.png", np.full((H, W), 255, np.uint8))
    expected["all_white.png"] = "covers the whole picture"
    photo("all_black.png", np.zeros((H, W), np.uint8))
    expected["all_black.png"] = "has no hole"
    photo("text_mask.png")
    (masks / "text_mask.png").write_text("not a mask")
    expected["text_mask.png"] = "mask"
    photo("no_mask.png")
    expected["no_mask.png"] = "no mask in"
    # several pages or frames: the first alone was inpainted and written back under the name
    cv2.imwritemulti(str(inputs / "pages.tiff"), [smooth_image(rng, H, W) for _ in range(3)])
    expected["pages.tiff"] = "holds 3 pages"
    frames = [Image.fromarray(smooth_image(rng, H, W)) for _ in range(2)]
    frames[0].save(inputs / "anim.png", save_all=True, append_images=frames[1:])
    expected["anim.png"] = "holds 2 pages"
    for name in ("pages", "anim"):
        write_image(masks / f"{name}.png", hole())
    return inputs, masks, expected


def test_every_bad_input_gets_one_line_and_the_run_goes_on(contract_model, tmp_path: Path) -> None:
    inputs, masks, expected = build_battery(tmp_path)
    before = checksums(inputs, masks)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["inpaint", str(inputs), "--masks", str(masks), "-o", str(out),
                                       "--model", str(contract_model)])  # fmt: skip
    output = result.output
    assert result.exit_code == 1, output  # some files failed
    assert "Traceback" not in output
    for name, reason in expected.items():
        lines = [line for line in output.splitlines() if name in line and reason in line]
        assert lines, f"no line names {name} with {reason!r}:\n{output}"
    failed = {
        "zero.png",
        "cut.jpg",
        "cut.png",
        "notes.png",
        "claims_huge.png",
        "text_mask.png",
        "pages.tiff",
        "anim.png",
    }
    written = {p.name for p in out.iterdir()}
    assert written == {
        "good.png", "with space é.png", "cmyk.jpg", "palette.png", "deep.tiff", "other_size.png",
        "all_white.png", "all_black.png",
    }  # fmt: skip  # every readable image with a mask; nothing partial, nothing for the failures
    assert not written & failed
    assert read_image(out / "deep.tiff").dtype == np.uint16  # bit depth kept
    for name, mode in (("palette.png", "P"), ("cmyk.jpg", "CMYK")):
        with Image.open(out / name) as kept:
            assert kept.mode == mode  # written back in its own mode (their own tests: test_inpaint.py)
    assert checksums(inputs, masks) == before  # no input and no mask touched


def test_a_run_killed_mid_way_and_started_again_equals_an_uninterrupted_one(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    inputs = tmp_path / "in"
    for i in range(24):
        write_image(
            inputs / f"{i:02d}.png", smooth_image(rng, 300, 340)
        )  # a few tiles each: the kill lands after 3 or 4 of 24
    write_image(tmp_path / "hole.png", hole(300, 340))
    command = [sys.executable, "-c", "from gincli.cli.main import main; main()", "inpaint", str(inputs), "--masks", str(tmp_path / "hole.png"),
               "--model", str(contract_model), "--strategy", "sliding", "--fill", "network", "--workers", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    subprocess.run([*command, "-o", str(tmp_path / "whole")], check=True, capture_output=True, env=env)
    victim = subprocess.Popen([*command, "-o", str(tmp_path / "killed")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    killed = tmp_path / "killed"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(killed.glob("[0-9]*.png"))) < 3:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done_before = len(list(killed.glob("[0-9]*.png")))
    assert 0 < done_before < 24, "the kill should land mid-run"
    # had the kill landed inside a write, this is what the dead process would have left
    (killed / f".23.partial-{victim.pid}.png").write_bytes(b"\x89PNG half")
    subprocess.run([*command, "-o", str(killed)], check=True, capture_output=True, env=env)
    whole = checksums(tmp_path / "whole")
    again = checksums(killed)
    assert {p.name: h for p, h in again.items()} == {p.name: h for p, h in whole.items()}  # byte for byte, no leftovers


def ctrl_c(*args: object, **kwargs: object) -> None:
    """Stands in for a command's work: raises as Ctrl-C does."""
    raise KeyboardInterrupt


def test_ctrl_c_drops_the_queued_images_keeps_the_finished_and_says_how_to_go_on(
    contract_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C ran every image already queued (twice the workers: 12 s of photos) before Click
    said "Aborted!", status 1. Now the queued ones are dropped, what runs finishes, and one line
    says what was kept, status 130."""
    import gincli.cli.video as video_cli
    import gincli.jobs.batch as batch

    rng = np.random.default_rng(23)
    for i in range(8):
        write_image(tmp_path / "in" / f"{i}.png", smooth_image(rng, 24, 24))
    real, started = batch.process, []

    def process(job: batch.Job, *args: object) -> str:
        started.append(job.source.path.name)
        if len(started) == 2:
            raise KeyboardInterrupt  # as Ctrl-C reaches the run
        time.sleep(0.3)  # still running when the run stops
        return real(job, *args)

    monkeypatch.setattr(batch, "process", process)
    command = ["inpaint", str(tmp_path / "in"), "--auto-mask", "rect", "--model", str(contract_model), "--workers", "1",
               "-o", str(tmp_path / "out")]  # fmt: skip
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 130, result.output
    assert "stopping: the images already running are finished first" in result.output
    assert "gin inpaint: interrupted: the finished images are kept; the same command again skips them" in result.output
    assert len(started) <= 3  # the first, the interrupted one, and one the worker may have begun: 4 before
    kept = sorted(p.name for p in (tmp_path / "out").glob("[0-9].png"))
    assert kept == sorted(name for i, name in enumerate(started) if i != 1)  # what ran was finished
    monkeypatch.setattr(batch, "process", real)
    again = CliRunner().invoke(main, command)
    assert again.exit_code == 0 and f"done {8 - len(kept)}" in again.output, again.output
    assert f"skipped {len(kept)}" in again.output, again.output

    monkeypatch.setattr(video_cli, "run_video", ctrl_c)
    write_image(tmp_path / "m.png", hole(24, 24))
    for output, kept_in in (("o.mp4", "o.mp4.gin-chunks"), ("frames", "frames")):
        result = CliRunner().invoke(main, ["video", str(tmp_path / "in"), "--mask", str(tmp_path / "m.png"), "--fill",
                                           "classical", "-o", str(tmp_path / output)])  # fmt: skip
        assert result.exit_code == 130 and f"kept in {tmp_path / kept_in}; the same command again" in result.output


@pytest.mark.parametrize("command", ["eval", "export"])
def test_ctrl_c_in_eval_or_export_says_nothing_was_written(
    command: str, contract_model, image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both write only at the end (a report; a verified graph): Ctrl-C says so, status 130, no "Aborted!"."""
    import export.onnx_export
    import gincli.jobs.evaluate

    if command == "eval":
        monkeypatch.setattr(gincli.jobs.evaluate, "evaluate", ctrl_c)
        args = ["eval", str(image_folder), "--model", str(contract_model), "--no-perceptual", "-o", str(tmp_path / "r")]
    else:
        monkeypatch.setattr(export.onnx_export, "export_checkpoint", ctrl_c)
        (tmp_path / "run.pth").write_bytes(b"")
        args = ["export", str(tmp_path / "run.pth"), "-o", str(tmp_path / "r.onnx")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 130, result.output
    assert f"gin {command}: interrupted: no" in result.output and "Aborted" not in result.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.onnx").exists()


NUMBERS_OUT_OF_RANGE = [("--thin-radius", "-1"), ("--threads", "0"), ("--dilate", "-1"), ("--workers", "0")]


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [("inpaint", "--batch-size", "0")]
    + [(command, *bad) for command in ("inpaint", "video") for bad in NUMBERS_OUT_OF_RANGE]
    + [("scratches", "--line-width", "0"), ("scratches", "--line-contrast", "-0.1"), ("video", "--dust-contrast", "0"),
       ("scratches", "--grow", "-1"), ("scratches", "--dust-max-area", "2"),
       ("train", "--batch-size", "0"), ("train", "--log-every", "0"), ("train", "--checkpoint-every", "0"),
       ("train", "--warmup-steps", "-5"), ("train", "--lr-g", "-1"), ("train", "--w-edge", "-1"),
       ("inpaint", "--seed", "-1"), ("eval", "--seed", "-1"), ("eval", "--size", "0"), ("eval", "--masks-per-image", "0"),
       ("export", "--calibration-samples", "0"), ("train", "--seed", "-1")],
)  # fmt: skip
def test_numbers_out_of_range_are_usage_errors(command: str, option: str, value: str, tmp_path: Path) -> None:
    (tmp_path / "run.pth").write_bytes(b"")  # what gin export reads: a file that exists
    source = {"train": ["--data", str(tmp_path)], "export": [str(tmp_path / "run.pth")]}.get(command, [str(tmp_path)])
    result = CliRunner().invoke(main, [command, *source, option, value, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output, result.output
