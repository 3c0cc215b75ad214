"""`gin inpaint` and the any-size API: masks, strategies, formats, resume, bad input, sharding."""

from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gincli.cli.main import main
from gincli.core.classical import network_input
from gincli.core.inpainter import Inpainter
from gincli.core.model_contract import TILE
from gincli.core.strategies import STRATEGY_NAMES, self_ensemble
from gincli.core.tiling import hole_boxes, tile_polyphase, untile_polyphase, window_starts
from gincli.io.discovery import Source, discover, in_shard
from gincli.io.images import encode_grey_alpha_png, read_image, write_image
from gincli.masks.scratches import damage_masks
from tests.conftest import smooth_image
from tests.contract_model import write_passthrough_model


@pytest.fixture(scope="module")
def inpainter(contract_model) -> Inpainter:
    return Inpainter(
        contract_model, provider="cpu", fill="network"
    )  # tiling and strategies: any model with the contract


def rect_mask(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    top, left, bottom, right = box
    mask[top:bottom, left:right] = 255
    return mask


def save(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, rgb)
    return path


def gin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["inpaint", *args])
    return result.exit_code, result.output


def gin_masks(model: Path, inputs: str, masks: str, out: str, *extra: str) -> tuple[int, str]:
    """`gin inpaint INPUTS --masks MASKS -o OUT --model <stand-in model> EXTRA...`."""
    return gin(inputs, "--masks", masks, "-o", out, "--model", str(model), *extra)


# ---------------------------------------------------------------------------- tiling math
def test_polyphase_split_and_merge_are_exact_inverses() -> None:
    image = np.random.default_rng(0).random((512, 768, 3)).astype(np.float32)
    tiles = tile_polyphase(image)
    assert tiles.shape == (6, 256, 256, 3)
    assert np.array_equal(tiles[1], image[0::2, 1::3])  # tile (a=0, b=1) takes every 2nd row, every 3rd column
    assert np.array_equal(untile_polyphase(tiles, (2, 3)), image)
    mask = (np.random.default_rng(1).random((256, 512)) > 0.5).astype(np.float32)
    assert np.array_equal(untile_polyphase(tile_polyphase(mask), (1, 2)), mask)


def test_windows_cover_every_pixel_with_overlap() -> None:
    for length in (256, 300, 700, 1025):
        starts = window_starts(length, 256, 64)
        assert starts[0] == 0 and starts[-1] + 256 == max(length, 256)
        assert all(b - a <= 192 for a, b in itertools.pairwise(starts))


def test_hole_boxes_merge_neighbours_and_keep_distant_holes_apart() -> None:
    mask = np.zeros((400, 400), np.float32)
    mask[10:20, 10:20] = 1
    mask[30:40, 30:40] = 1  # within 2 x margin of the first
    mask[300:310, 300:310] = 1
    boxes = hole_boxes(mask, margin=16)
    assert len(boxes) == 2
    assert all(mask[b.top : b.bottom, b.left : b.right].sum() > 0 for b in boxes)


# ------------------------------------------------------------------------- any-size API
@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
@pytest.mark.parametrize("size", [(37, 301), (700, 260), (256, 256)])
def test_every_strategy_keeps_valid_pixels_and_fills_holes(
    inpainter: Inpainter, strategy: str, size: tuple[int, int]
) -> None:
    h, w = size
    image = smooth_image(np.random.default_rng(h), h, w)
    mask = rect_mask(h, w, (h // 4, w // 5, h // 4 + max(3, h // 5), w // 5 + max(3, w // 6)))
    out, used = inpainter.inpaint_with_info(image, mask, strategy)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert not np.array_equal(out[mask > 0], image[mask > 0])
    assert strategy == "auto" or used == strategy


def test_ensemble_runs_five_views_and_undoes_each(contract_model) -> None:
    # an engine stand-in that commutes with rotations and flips but not with their omission:
    # the ensemble of it must equal it exactly, which fails if any view is not transformed back
    rng = np.random.default_rng(0)
    tiles = rng.random((2, 256, 256, 3), dtype=np.float32)
    masks = (rng.random((2, 256, 256)) < 0.3).astype(np.float32)
    seen: list[int] = []

    def equivariant(images: np.ndarray, holes: np.ndarray) -> np.ndarray:
        seen.append(len(images))
        return images * (1 - holes[..., None]) + 0.5 * holes[..., None]

    np.testing.assert_allclose(self_ensemble(equivariant)(tiles, masks), equivariant(tiles, masks), atol=1e-6)
    assert seen[0] == 10  # 5 views of 2 tiles in one engine call
    # and through the Inpainter: five views per tile reach the engine
    calls: list[int] = []
    ensembled = Inpainter(contract_model, provider="cpu", ensemble=True)
    original = ensembled.batcher._run
    ensembled.batcher._run = lambda images, holes: calls.append(len(images)) or original(images, holes)
    image = smooth_image(np.random.default_rng(0), 256, 256)
    out = ensembled.inpaint(image, rect_mask(256, 256, (50, 50, 120, 120)), strategy="resize")
    assert sum(calls) == 5 and out.shape == image.shape


# ------------------------------------------------------------------------------ the CLI
def test_a_float_image_on_the_0_to_255_scale_is_refused_not_filled_white() -> None:
    rng = np.random.default_rng(4)
    picture = smooth_image(rng, 40, 50)  # uint8
    mask = rect_mask(40, 50, (10, 10, 20, 30))
    classical = Inpainter(fill="classical")
    with pytest.raises(ValueError, match="divide it by 255"):
        classical.inpaint(picture.astype(np.float32), mask)  # a uint8 picture cast to float
    filled = classical.inpaint(picture.astype(np.float32) / 255, mask)
    assert filled[mask > 0].max() < 0.99  # the picture's own values, not white
    overshoot = np.clip(picture.astype(np.float32) / 255 * 1.05, 0, 1.05)  # a little past 1: clipped, as ever
    assert classical.inpaint(overshoot, mask).shape == picture.shape
    with pytest.raises(ValueError, match="divide it by 255"):  # the detector reads frames the same way
        list(damage_masks([picture.astype(np.float32)] * 3))


def test_the_api_takes_arrays_as_scripts_hold_them(contract_model: Path) -> None:
    """NaN is how float data often marks what is missing: inside the hole it is never read (the
    network's arithmetic carried it into the whole fill), outside it is refused by count. A grey
    image with a channel axis, nested lists (int64 masks: 0/255 read as 8-bit), int64 images, an
    empty image and a mask of the wrong size (checked before any no-hole warning) are taken or
    refused by name."""
    import warnings

    picture = smooth_image(np.random.default_rng(5), 48, 64).astype(np.float32) / 255
    mask = rect_mask(48, 64, (10, 10, 30, 40))
    inpainter = Inpainter(contract_model, provider="cpu", fill="network")
    clean = inpainter.inpaint(picture, mask)
    marked = np.where(mask[..., None] > 0, np.nan, picture).astype(np.float32)
    assert np.array_equal(inpainter.inpaint(marked, mask), clean)
    marked[0, 0, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite values at 1 pixels outside the hole"):
        inpainter.inpaint(marked, mask)
    grey = picture[..., :1]
    out = inpainter.inpaint(grey, mask)
    assert out.shape == grey.shape and np.array_equal(out[..., 0], inpainter.inpaint(grey[..., 0], mask))
    assert np.array_equal(inpainter.inpaint(picture.tolist(), mask.tolist()), clean)  # float64, and int64 0/255
    with pytest.raises(ValueError, match=r"int64: .* convert it"):  # by int64's range, 0-255 is black
        inpainter.inpaint((picture * 255).astype(np.int64), mask)
    with pytest.raises(ValueError, match="empty"):
        inpainter.inpaint(np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32))
    with warnings.catch_warnings(), pytest.raises(ValueError, match="mask is 64 x 5 but the image is 64 x 48"):
        warnings.simplefilter("error")
        inpainter.inpaint(picture, mask[:5])


@pytest.mark.parametrize(
    ("setting", "says"),
    [({"fill": "bogus"}, "unknown fill method"), ({"strategy": "bogus"}, "unknown strategy"),
     ({"thin_radius": -1}, "0 or more"), ({"threads": 0}, "1 or more"), ({"texture": 2.0}, "between 0")],
)  # fmt: skip
def test_inpainter_settings_are_checked_when_it_is_made(setting: dict, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Inpainter(**{"fill": "classical", **setting})


def test_mask_matching_for_each_naming_layout(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("plain", "suffixed", "lama"):
        save(tmp_path / "in" / f"{name}.png", smooth_image(rng, 64, 80))
    save(tmp_path / "m" / "plain.png", rect_mask(64, 80, (5, 5, 20, 20)))
    save(tmp_path / "m" / "suffixed_mask.png", rect_mask(64, 80, (5, 5, 20, 20)))
    save(tmp_path / "m" / "lama_mask001.png", rect_mask(64, 80, (5, 5, 20, 20)))
    save(tmp_path / "m" / "lama_mask002.png", rect_mask(64, 80, (30, 30, 50, 60)))
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "m"), str(tmp_path / "out"))
    assert code == 0, output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "lama_mask001.png",
        "lama_mask002.png",
        "plain.png",
        "suffixed.png",
    ]
    first, second = read_image(tmp_path / "out" / "lama_mask001.png"), read_image(tmp_path / "out" / "lama_mask002.png")
    assert not np.array_equal(first, second)  # each output used its own mask


def test_single_mask_file_recursive_tree_mirrored_and_missing_masks(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    save(tmp_path / "in" / "a.jpg", smooth_image(rng, 40, 50))
    save(tmp_path / "in" / "deep" / "b.png", smooth_image(rng, 40, 50))
    save(tmp_path / "hole.png", rect_mask(40, 50, (10, 10, 20, 30)))
    code, output = gin_masks(
        contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"), "-r"
    )
    assert code == 0, output
    assert (tmp_path / "out" / "a.jpg").is_file() and (tmp_path / "out" / "deep" / "b.png").is_file()
    # --mask, as gin video spells one mask file, works here too
    one = tmp_path / "in" / "a.jpg"
    code, output = gin(
        str(one), "--mask", str(tmp_path / "hole.png"), "-o", str(tmp_path / "o1"), "--model", str(contract_model)
    )
    assert code == 0 and (tmp_path / "o1" / "a.jpg").is_file(), output
    # a mask folder without a match: skipped with a warning, or a failure with --strict
    (tmp_path / "empty").mkdir()
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "empty"), str(tmp_path / "o2"))
    assert code == 0 and "skipping" in output and "a.jpg" in output
    code, output = gin_masks(
        contract_model, str(tmp_path / "in"), str(tmp_path / "empty"), str(tmp_path / "o3"), "--strict"
    )
    assert code == 1 and "failed" in output


def test_formats_bit_depth_alpha_grey_and_exif_round_trip(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    base = smooth_image(rng, 60, 90)
    inputs = tmp_path / "in"
    save(inputs / "deep16.png", (base.astype(np.uint16) * 257))
    save(inputs / "alpha.png", np.dstack([base, np.full(base.shape[:2], 77, np.uint8)]))
    save(inputs / "grey.png", base[..., 1])
    # a JPEG stored sideways with EXIF orientation 6 (rotate 90 clockwise to view)
    Image.fromarray(np.ascontiguousarray(np.rot90(base, 1))).save(
        inputs / "exif.jpg", exif=_exif_orientation(6), quality=95
    )
    mask = rect_mask(60, 90, (20, 30, 40, 60))
    save(tmp_path / "hole.png", mask)
    code, output = gin_masks(contract_model, str(inputs), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert code == 0, output
    out = {p.name: read_image(p) for p in (tmp_path / "out").iterdir()}
    assert out["deep16.png"].dtype == np.uint16 and out["deep16.png"].shape == (60, 90, 3)
    assert np.array_equal(out["deep16.png"][mask == 0], base.astype(np.uint16)[mask == 0] * 257)
    assert out["alpha.png"].shape == (60, 90, 4) and (out["alpha.png"][..., 3] == 77).all()
    assert out["grey.png"].ndim == 2 and np.array_equal(out["grey.png"][mask == 0], base[..., 1][mask == 0])
    assert out["exif.jpg"].shape == (60, 90, 3)  # upright: the mask (90 wide) applied without a resize warning
    assert "resized" not in output


def _exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def test_skip_existing_resume_and_overwrite(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for name in ("a", "b"):
        save(tmp_path / "in" / f"{name}.png", smooth_image(rng, 50, 50))
    save(tmp_path / "hole.png", rect_mask(50, 50, (10, 10, 30, 30)))
    args = (contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert gin_masks(*args)[0] == 0
    save(tmp_path / "out" / "a.png", np.zeros((5, 5), np.uint8))  # a complete image: counts as done
    sentinel = (tmp_path / "out" / "a.png").read_bytes()
    (tmp_path / "out" / "b.png").unlink()  # as if interrupted before b
    code, output = gin_masks(*args)
    assert code == 0 and "done 1" in output and "skipped 1" in output
    assert (tmp_path / "out" / "a.png").read_bytes() == sentinel
    assert gin_masks(*args, "--overwrite")[0] == 0
    assert (tmp_path / "out" / "a.png").read_bytes() != sentinel
    # left by another tool or cut short: not done, so redone
    complete = (tmp_path / "out" / "b.png").read_bytes()
    (tmp_path / "out" / "a.png").write_bytes(b"")
    (tmp_path / "out" / "b.png").write_bytes(complete[: len(complete) // 2])
    code, output = gin_masks(*args)
    assert code == 0 and "done 2" in output and output.count("empty or truncated: redoing it") == 2
    assert (tmp_path / "out" / "b.png").read_bytes() == complete


def test_output_equal_to_input_is_refused(contract_model, tmp_path: Path) -> None:
    save(tmp_path / "a.png", smooth_image(np.random.default_rng(0), 40, 40))
    save(tmp_path / "m" / "a.png", rect_mask(40, 40, (5, 5, 10, 10)))
    before = (tmp_path / "a.png").read_bytes()
    code, output = gin_masks(contract_model, str(tmp_path / "a.png"), str(tmp_path / "m"), str(tmp_path))
    assert code == 2 and "would overwrite its input" in output
    assert (tmp_path / "a.png").read_bytes() == before


def test_a_failed_write_leaves_no_final_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gincli.io.atomic as atomic

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError):
        write_image(tmp_path / "x.png", np.zeros((8, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


def test_bad_inputs_are_named_and_the_run_goes_on(contract_model, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    save(inputs / "good.png", smooth_image(np.random.default_rng(4), 40, 40))
    ok_png = (inputs / "good.png").read_bytes()
    (inputs / "zero.png").write_bytes(b"")
    (inputs / "truncated.png").write_bytes(ok_png[: len(ok_png) // 3])
    (inputs / "text.jpg").write_text("this is not a picture")
    (inputs / "huge.png").write_bytes(_png_header_only(200_000, 200_000))
    masks = tmp_path / "m"
    for name in ("good", "zero", "truncated", "text", "huge"):
        save(masks / f"{name}.png", rect_mask(40, 40, (5, 5, 15, 15)))
    (masks / "good.png").write_bytes(b"garbage")  # the good image's mask is unreadable
    save(inputs / "fine.png", smooth_image(np.random.default_rng(5), 40, 40))
    save(masks / "fine.png", rect_mask(40, 40, (5, 5, 15, 15)))
    code, output = gin_masks(contract_model, str(inputs), str(masks), str(tmp_path / "out"))
    assert code == 1 and "Traceback" not in output
    assert "done 1" in output and "failed 5" in output
    for name, reason in [("zero.png", "empty file"), ("truncated.png", ""), ("text.jpg", "not a decodable image"),
                         ("huge.png", ""), ("good.png", "mask")]:  # fmt: skip
        line = next((x for x in output.splitlines() if x.startswith("  failed") and name in x), None)
        assert line is not None and reason in line, output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fine.png"]
    assert gin_masks(contract_model, str(inputs), str(masks), str(tmp_path / "o2"), "--fail-fast")[0] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere/"], "no such file or folder"),
        (["IN", "--auto-mask", "rect", "--masks", "M"], "exactly one mask source"),
        (["IN", "--shard", "4/3"], "--shard"),
        (["IN", "--model", "missing.onnx"], "no such model file"),
        (["IN", "--provider", "cuda"], "provider cuda cannot run here"),
        (["film.mp4"], "a video: `gin video` fills videos"),  # was "not a decodable image"
    ],
)
def test_usage_errors_exit_2_with_a_message(contract_model, tmp_path: Path, args: list[str], message: str) -> None:
    save(tmp_path / "IN" / "a.png", smooth_image(np.random.default_rng(0), 30, 30))
    (tmp_path / "M").mkdir()
    (tmp_path / "film.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    args = [str(tmp_path / a) if a in ("IN", "M", "nowhere/", "missing.onnx", "film.mp4") else a for a in args]
    extra = [] if "--model" in args else ["--model", str(contract_model)]
    extra += [] if any(a in args for a in ("--auto-mask", "--masks")) else ["--auto-mask", "rect"]
    code, output = gin(*args, *extra, "-o", str(tmp_path / "out"))
    assert code == 2 and message in output and "Traceback" not in output


def test_usage_errors_come_before_the_model_loads(tmp_path: Path) -> None:
    save(tmp_path / "IN" / "a.png", smooth_image(np.random.default_rng(0), 30, 30))
    (tmp_path / "file.txt").write_text("not a folder")
    no_model = ["--model", str(tmp_path / "missing.onnx")]  # reported only if the usage checks pass
    code, output = gin(str(tmp_path / "IN"), "--masks", str(tmp_path / "nomasks"), *no_model, "-o", str(tmp_path / "o"))
    assert code == 2 and "--masks" in output and "no such model" not in output
    code, output = gin(str(tmp_path / "IN"), "--auto-mask", "rect", *no_model, "-o", str(tmp_path / "file.txt" / "o"))
    assert code == 2 and "cannot write into" in output and "no such model" not in output
    assert "Traceback" not in output


def test_auto_masks_are_reproducible_and_written_beside_outputs(contract_model, tmp_path: Path) -> None:
    save(tmp_path / "in" / "a.png", smooth_image(np.random.default_rng(6), 100, 120))
    for run in ("r1", "r2"):
        code, output = gin(
            str(tmp_path / "in"),
            "--auto-mask",
            "freeform",
            "--seed",
            "7",
            "-o",
            str(tmp_path / run),
            "--model",
            str(contract_model),
            "--concat",
        )
        assert code == 0, output
    names = sorted(p.name for p in (tmp_path / "r1").iterdir())
    assert names == ["a.png", "a_automask.png", "a_concat.png", "a_masked.png"]
    for name in names:
        assert (tmp_path / "r1" / name).read_bytes() == (tmp_path / "r2" / name).read_bytes()


def test_mask_of_another_size_is_resized_with_a_warning(contract_model, tmp_path: Path) -> None:
    save(tmp_path / "a.png", smooth_image(np.random.default_rng(0), 64, 64))
    save(tmp_path / "m.png", rect_mask(32, 32, (4, 4, 12, 12)))
    code, output = gin_masks(contract_model, str(tmp_path / "a.png"), str(tmp_path / "m.png"), str(tmp_path / "out"))
    assert code == 0 and "resized (nearest neighbour)" in output


@pytest.mark.parametrize("layer", ["opaque RGBA", "strokes on a transparent white layer", "grey + alpha"])
def test_a_mask_with_an_alpha_channel_is_read_as_it_shows(tmp_path: Path, layer: str) -> None:
    """An opaque RGBA mask (what image editors export) holes only where it is white, and a
    stroke painted on a transparent layer only where it is painted: the transparent pixels'
    colour (white here) is no hole. Taking any channel, alpha included, made the whole image
    a hole in the first two."""
    image = smooth_image(np.random.default_rng(3), 48, 64)
    save(tmp_path / "in" / "a.png", image)
    stroke = rect_mask(48, 64, (10, 20, 18, 40)) > 0
    if layer == "grey + alpha":
        pixels = np.dstack([np.full((48, 64), 200, np.uint8), np.where(stroke, 255, 0).astype(np.uint8)])
        Image.fromarray(pixels, "LA").save(tmp_path / "mask.png")
    else:
        colour = np.where(stroke, 255, 0 if layer == "opaque RGBA" else 255).astype(np.uint8)
        opacity = np.where(stroke, 255, 255 if layer == "opaque RGBA" else 0).astype(np.uint8)
        Image.fromarray(np.dstack([colour] * 3 + [opacity]), "RGBA").save(tmp_path / "mask.png")
    code, output = gin(str(tmp_path / "in"), "--masks", str(tmp_path / "mask.png"), "-o", str(tmp_path / "out"),
                       "--fill", "classical")  # fmt: skip
    assert code == 0, output
    changed = np.any(read_image(tmp_path / "out" / "a.png") != image, axis=2)
    assert changed.any() and not changed[~stroke].any()


def test_a_mask_that_holes_most_of_the_picture_gets_a_hint_to_invert_it(tmp_path: Path) -> None:
    """Masks drawn the other way round (black holes on white) hole nearly everything, and the
    run filled the photo from a few pixels without a word: now it names the share and the
    flag that turns it round, both ways; a mask of a normal size gets no note."""
    save(tmp_path / "in" / "a.png", smooth_image(np.random.default_rng(4), 40, 40))
    save(tmp_path / "inverted.png", 255 - rect_mask(40, 40, (10, 10, 20, 20)))
    save(tmp_path / "plain.png", rect_mask(40, 40, (10, 10, 20, 20)))

    def note(mask: str, *extra: str) -> str:
        code, output = gin(str(tmp_path / "in"), "--masks", str(tmp_path / mask), "-o", str(tmp_path / "out"),
                           "--fill", "classical", "--overwrite", *extra)  # fmt: skip
        assert code == 0, output
        return " ".join(output.split())

    assert "makes 94% of the picture a hole (white marks holes)" in note("inverted.png")
    assert "add --invert-mask" in note("inverted.png")
    assert "drop --invert-mask" in note("plain.png", "--invert-mask")
    assert "of the picture a hole" not in note("plain.png") + note("inverted.png", "--invert-mask")


def test_shards_partition_the_inputs_exactly(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"img{i:02d}.png").write_bytes(b"x")
    sources = discover([str(tmp_path)], recursive=False)
    shards = [{s.rel for s in sources if in_shard(s, (k, 4))} for k in range(1, 5)]
    assert set().union(*shards) == {s.rel for s in sources}
    assert sum(len(s) for s in shards) == len(sources)
    assert all(shards)  # 40 files over 4 shards: none empty
    assert in_shard(Source(tmp_path / "a.png", sources[0].rel), None)


def test_glob_patterns_select_files(tmp_path: Path) -> None:
    for name in ("a.png", "b.png", "c.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((4, 4, 3), np.uint8))
    assert [s.rel.name for s in discover([str(tmp_path / "*.png")], recursive=False)] == ["a.png", "b.png"]


def test_inpaint_paths_is_the_pipeline_for_scripts(contract_model, tmp_path: Path) -> None:
    from gincli.jobs.batch import inpaint_paths

    save(tmp_path / "in" / "a.png", smooth_image(np.random.default_rng(0), 48, 64))
    (tmp_path / "in" / "bad.png").write_bytes(b"nope")
    summary = inpaint_paths(
        [tmp_path / "in"], tmp_path / "out", model=contract_model, provider="cpu", auto_mask="rect", dilate=2
    )
    assert summary.done == 1 and [Path(p).name for p, _ in summary.failed] == ["bad.png"]
    assert (tmp_path / "out" / "a.png").is_file() and summary.exit_code == 1


@pytest.mark.parametrize("hole_fill", ["white", "telea"])
def test_the_network_gets_its_hole_filled_as_its_model_says(hole_fill: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    image = smooth_image(rng, TILE, TILE)
    mask = np.zeros((TILE, TILE), np.uint8)
    mask[90:170, 60:200] = 1
    damaged = image.copy()
    damaged[mask > 0] = 0
    model = write_passthrough_model(tmp_path / "m.onnx", hole_fill)  # returns what it is fed
    got = Inpainter(model, provider="cpu", fill="network", strategy="resize").inpaint(damaged, mask)
    hole = mask > 0
    if hole_fill == "white":  # white, as the graph puts it too: what the hole held never reaches the network
        assert (got[hole] == 255).all()
    else:
        telea = cv2.inpaint(damaged, mask, 5, cv2.INPAINT_TELEA)
        assert np.abs(got[hole].astype(int) - telea[hole]).max() <= 1
    assert np.array_equal(got[~hole], damaged[~hole])


def test_network_input_whitens_or_telea_fills_the_hole_only() -> None:
    """`telea` models read Telea's fill, a narrow hole's at radius 2 (what they were trained on,
    not the Navier-Stokes fill gin's own classical route gives narrow holes)."""
    image = smooth_image(np.random.default_rng(2), 64, 64)
    mask = np.zeros((64, 64), np.float32)
    mask[20:40, 10:30] = 1
    mask[5:60, 50:52] = 1  # a 2 px scratch, 20 px from the square
    hole = mask > 0
    unit = image.astype(np.float32) / 255
    white, telea = (network_input(unit, mask, fill) for fill in ("white", "telea"))
    assert np.all(white[hole] == 1.0) and np.array_equal(white[~hole], unit[~hole])
    square, scratch = hole.copy(), hole.copy()
    square[:, 40:], scratch[:, :40] = False, False
    narrow = cv2.inpaint(image, scratch.astype(np.uint8), 2, cv2.INPAINT_TELEA)
    expected = cv2.inpaint(narrow, square.astype(np.uint8), 5, cv2.INPAINT_TELEA).astype(np.float32) / 255
    assert np.allclose(telea[hole], expected[hole], atol=1e-6) and np.array_equal(telea[~hole], unit[~hole])


def test_tiles_from_concurrent_images_share_engine_batches() -> None:
    import threading
    import time

    from gincli.core.batching import TileBatcher

    sizes: list[int] = []

    def slow_run(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        sizes.append(len(images))
        time.sleep(0.2)  # while the first batch runs, the other requests queue up
        return images + masks

    batcher = TileBatcher(slow_run, batch_size=4)
    results: dict[int, np.ndarray] = {}

    def request(i: int) -> None:
        results[i] = batcher.run(np.full((1, 3, 2, 2), i, np.float32), np.ones((1, 1, 2, 2), np.float32))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
        time.sleep(0.02)
    for t in threads:
        t.join()
    assert sizes[0] == 1 and max(sizes) == 4 and sum(sizes) == 5  # four waiting requests ran as one batch
    assert all(np.all(results[i] == i + 1) for i in range(5))  # each caller got its own tiles back


def test_mask_from_alpha_fills_transparent_pixels_and_makes_them_opaque(contract_model, tmp_path: Path) -> None:
    rgb = smooth_image(np.random.default_rng(8), 48, 48)
    alpha = np.full((48, 48), 255, np.uint8)
    alpha[10:30, 12:20] = 0  # the transparent part is the hole
    save(tmp_path / "in" / "a.png", np.dstack([rgb, alpha]))
    code, output = gin(
        str(tmp_path / "in"), "--mask-from-alpha", "-o", str(tmp_path / "out"), "--model", str(contract_model)
    )
    assert code == 0, output
    out = read_image(tmp_path / "out" / "a.png")
    assert (out[..., 3] == 255).all()  # the filled pixels are visible now
    assert np.array_equal(out[alpha > 0], np.dstack([rgb, alpha])[alpha > 0])
    assert not np.array_equal(out[alpha == 0][:, :3], rgb[alpha == 0])
    code, output = gin(str(tmp_path / "in"), "--mask-from-alpha", "--keep-alpha", "-o", str(tmp_path / "kept"),
                       "--model", str(contract_model))  # fmt: skip
    assert code == 0 and np.array_equal(read_image(tmp_path / "kept" / "a.png")[..., 3], alpha)


def _png_depth_and_colour_type(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:26]
    return head[24], head[25]


@pytest.mark.parametrize("depth", [8, 16])
def test_grey_and_alpha_pngs_stay_grey_and_alpha(contract_model, tmp_path: Path, depth: int) -> None:
    """A grey + alpha PNG (colour type 4) came back RGBA, its hole filled in colour (channels up
    to 17 levels apart on a grey picture): now grey + alpha in and out, at its depth, the pixels
    and the alpha outside the hole as they were; with --mask-from-alpha the filled pixels
    become opaque and the file stays grey + alpha. Read back by OpenCV (as RGBA) and Pillow."""
    grey = smooth_image(np.random.default_rng(5), 40, 56)[..., 1]
    alpha = np.full((40, 56), 255, np.uint8)
    alpha[:, :6] = 90
    alpha[12:28, 20:36] = 0  # the transparent part: --mask-from-alpha's hole
    pixels = np.dstack([grey, alpha]).astype(np.uint16) * 257 if depth == 16 else np.dstack([grey, alpha])
    source = tmp_path / "in" / "a.png"
    source.parent.mkdir()
    source.write_bytes(encode_grey_alpha_png(pixels))
    assert _png_depth_and_colour_type(source) == (depth, 4)
    assert np.array_equal(read_image(source), pixels)
    save(tmp_path / "hole.png", rect_mask(40, 56, (5, 30, 20, 50)))
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert code == 0, output
    out = tmp_path / "out" / "a.png"
    assert _png_depth_and_colour_type(out) == (depth, 4)
    decoded = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)  # B, G, R, A
    assert decoded.dtype == pixels.dtype and decoded.shape == (40, 56, 4)
    hole = rect_mask(40, 56, (5, 30, 20, 50)) > 0
    assert np.array_equal(decoded[..., [0, 3]][~hole], pixels[~hole]) and np.array_equal(
        decoded[..., 3], pixels[..., 1]
    )
    assert not np.array_equal(decoded[..., 0][hole], pixels[..., 0][hole])
    if depth == 8:
        assert Image.open(out).mode == "LA"
    code, output = gin(str(tmp_path / "in"), "--mask-from-alpha", "-o", str(tmp_path / "opaque"),
                       "--model", str(contract_model))  # fmt: skip
    assert code == 0, output
    filled = read_image(tmp_path / "opaque" / "a.png")
    assert filled.shape == (40, 56, 2) and (filled[..., 1][alpha == 0] == pixels.max()).all()


@pytest.mark.parametrize(("channels", "depth", "kind"), [(2, 8, 2), (2, 16, 2), (4, 8, 2), (4, 16, 2), (4, 8, 1)])
def test_a_tiffs_alpha_comes_through_as_stored_and_named_as_such(
    tmp_path: Path, channels: int, depth: int, kind: int
) -> None:
    """OpenCV reads a grey + alpha TIFF as grey alone (gin wrote it back without its alpha), and
    an 8-bit RGBA one premultiplied by its alpha (colour 200 under alpha 30 read as 24, and
    written back so, outside the holes too): now the alpha comes through and the colour as
    stored (a grey + alpha TIFF as an RGBA one, which OpenCV writes), and the output names its
    fourth channel alpha (ExtraSamples 2; OpenCV wrote none, and libtiff warned), or
    premultiplied alpha (1) where the input's colour is stored so (``kind``: ExtraSamples)."""
    import tifffile

    picture = smooth_image(np.random.default_rng(7), 40, 56)
    alpha = np.full((40, 56), 255, np.uint8)
    alpha[:, 40:] = 30
    colour = picture[..., 2] if channels == 2 else picture
    if kind == 1:  # associated: the colour stored premultiplied
        colour = (colour.astype(np.uint16) * alpha[..., None] // 255).astype(np.uint8)
    pixels = np.dstack([colour, alpha])
    pixels = pixels.astype(np.uint16) * 257 if depth == 16 else pixels
    source = tmp_path / "in" / "a.tif"
    source.parent.mkdir()
    tifffile.imwrite(source, pixels, photometric="minisblack" if channels == 2 else "rgb", extrasamples=[kind])
    save(tmp_path / "hole.png", rect_mask(40, 56, (5, 10, 20, 30)))
    code, output = gin(str(tmp_path / "in"), "--masks", str(tmp_path / "hole.png"), "-o", str(tmp_path / "out"),
                       "--fill", "classical")  # fmt: skip
    assert code == 0, output
    written = tmp_path / "out" / "a.tif"
    with tifffile.TiffFile(written) as tiff:
        assert tiff.pages[0].samplesperpixel == 4 and tuple(tiff.pages[0].extrasamples) == (kind,)
    # read back as stored: by Pillow where straight 8-bit (OpenCV premultiplies it), else by OpenCV (Pillow has
    # no 16-bit RGBA and divides premultiplied colour out; the LZW OpenCV writes is not tifffile's)
    straight_8_bit = depth == 8 and kind == 2
    out = np.asarray(Image.open(written)) if straight_8_bit else cv2.imread(str(written), -1)[..., [2, 1, 0, 3]]
    assert out.dtype == pixels.dtype and np.array_equal(out[..., 3], pixels[..., -1])
    hole = rect_mask(40, 56, (5, 10, 20, 30)) > 0
    colour = np.repeat(pixels[..., :1], 3, axis=2) if channels == 2 else pixels[..., :3]
    assert np.array_equal(out[..., :3][~hole], colour[~hole]) and not np.array_equal(out[..., :3], colour)


def test_a_tiffs_premultiplied_colour_becomes_straight_in_a_png(tmp_path: Path) -> None:
    """PNG's alpha is straight: a TIFF's colour stored premultiplied by its alpha (associated
    alpha) is divided back out for a PNG output, or it shows darker where the picture is
    semi-transparent (a third of the level under alpha 85)."""
    import tifffile

    picture = smooth_image(np.random.default_rng(9), 30, 40)
    alpha = np.full((30, 40), 255, np.uint8)
    alpha[:, 20:] = 85
    stored = (picture.astype(np.uint16) * alpha[..., None] // 255).astype(np.uint8)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "a.tif", np.dstack([stored, alpha]), photometric="rgb", extrasamples=[1])
    save(tmp_path / "hole.png", rect_mask(30, 40, (2, 2, 8, 8)))
    code, output = gin(str(tmp_path / "in"), "--masks", str(tmp_path / "hole.png"), "-o", str(tmp_path / "out"),
                       "--fill", "classical", "--format", "png")  # fmt: skip
    assert code == 0, output
    out = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    want = np.clip(np.round(stored * 255.0 / alpha[..., None]), 0, 255)
    outside = rect_mask(30, 40, (2, 2, 8, 8)) == 0
    assert np.abs(out[..., :3][outside] - want[outside]).max() <= 0.5 and np.array_equal(out[..., 3], alpha)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_the_grey_and_alpha_png_writer_round_trips_through_opencv_and_pillow(dtype: type) -> None:
    pixels = np.random.default_rng(6).integers(0, np.iinfo(dtype).max + 1, (33, 47, 2), dtype=dtype)
    encoded = encode_grey_alpha_png(pixels)
    decoded = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(decoded[..., [0, 3]], pixels) and np.array_equal(decoded[..., 1], pixels[..., 0])
    if dtype == np.uint8:
        import io

        assert np.array_equal(np.asarray(Image.open(io.BytesIO(encoded))), pixels)


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("out_format", ["jpg", "png", "webp", "tiff"])
def test_exif_colour_profile_and_xmp_are_kept(contract_model, tmp_path: Path, out_format: str) -> None:
    base = smooth_image(np.random.default_rng(12), 60, 90)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 clockwise to view
    exif[0x0132] = "2024:05:01 10:20:30"  # DateTime
    exif[0x010F] = "Test Camera Co"  # Make
    icc = _srgb_profile()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.fromarray(np.ascontiguousarray(np.rot90(base, 1))).save(
        tmp_path / "photo.jpg", exif=exif.tobytes(), icc_profile=icc, xmp=xmp, quality=95
    )
    save(tmp_path / "hole.png", rect_mask(60, 90, (20, 30, 40, 60)))
    code, output = gin_masks(contract_model, str(tmp_path / "photo.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "out"),
                             "--format", out_format)  # fmt: skip
    assert code == 0 and "re-encoded" not in output, output
    with Image.open(tmp_path / "out" / f"photo.{out_format}") as out:
        assert out.info.get("icc_profile") == icc
        kept = out.getexif()
        assert kept[0x0132] == "2024:05:01 10:20:30" and kept[0x010F] == "Test Camera Co"
        if out_format == "jpg":  # JPEG to JPEG keeps the stored blocks, so the stored orientation too
            assert out.size == (60, 90) and kept[0x0112] == 6
        else:  # pixels are written upright: no second turn in viewers
            assert out.size == (90, 60) and kept.get(0x0112, 1) == 1
        xmp_kept = out.info.get("xmp") or out.info.get("XML:com.adobe.xmp", "").encode() or kept.get(700, b"")
        assert b"adobe:ns:meta" in xmp_kept


@pytest.mark.parametrize("out_format", ["tiff", "jpg"])
def test_a_tiff_keeps_its_camera_data_profile_and_xmp(contract_model, tmp_path: Path, out_format: str) -> None:
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    tags = ImageFileDirectory_v2()
    tags[0x010F] = "Scan Co"  # Make
    tags[0x8769] = {0x9003: "1952:07:14 09:00:00"}  # DateTimeOriginal, in the EXIF sub-directory
    tags[0x8825] = {1: "N"}  # GPS latitude reference, in the GPS sub-directory
    tags[700] = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'  # XMP
    icc = _srgb_profile()
    (tmp_path / "in").mkdir()
    Image.fromarray(smooth_image(np.random.default_rng(20), 40, 60)).save(
        tmp_path / "in" / "scan.tiff", tiffinfo=tags, icc_profile=icc
    )
    save(tmp_path / "hole.png", rect_mask(40, 60, (10, 10, 20, 30)))
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"),
                             "--format", out_format)  # fmt: skip
    assert code == 0, output
    with Image.open(tmp_path / "out" / f"scan.{out_format}") as out:
        assert out.size == (60, 40) and out.info.get("icc_profile") == icc
        kept = out.getexif()
        assert kept[0x010F] == "Scan Co"
        assert kept.get_ifd(0x8769)[0x9003] == "1952:07:14 09:00:00" and kept.get_ifd(0x8825)[1] == "N"
        assert b"adobe:ns:meta" in (out.info.get("xmp") or kept.get(700, b""))


def test_invert_and_dilate_shape_the_hole(contract_model, tmp_path: Path) -> None:
    from gincli.io.discovery import Source
    from gincli.jobs.batch import BatchOptions, Job, load_mask

    mask_path = save(tmp_path / "m.png", rect_mask(40, 40, (10, 10, 20, 20)))
    job = Job(Source(tmp_path / "a.png", Path("a.png")), mask_path, tmp_path / "out.png")
    image = np.zeros((40, 40, 3), np.uint8)
    plain = load_mask(job, image, BatchOptions(output=tmp_path), print)
    assert plain.sum() == 100
    assert load_mask(job, image, BatchOptions(output=tmp_path, invert_mask=True), print).sum() == 1600 - 100
    grown = load_mask(job, image, BatchOptions(output=tmp_path, dilate=2), print)
    assert grown[8:22, 10:20].all() and grown.sum() > plain.sum() and grown[0, 0] == 0


def test_auto_picks_the_strategy_with_fewest_tiles(contract_model) -> None:
    from gincli.core.strategies import STRATEGIES

    inpainter = Inpainter(contract_model, provider="cpu", fill="network")
    small = smooth_image(np.random.default_rng(1), 200, 240)
    assert inpainter.inpaint_with_info(small, rect_mask(200, 240, (20, 20, 60, 60)))[1] == "resize"
    big = smooth_image(np.random.default_rng(2), 600, 800)
    one_blemish = rect_mask(600, 800, (300, 400, 320, 420))
    assert STRATEGIES["crop"].tiles(one_blemish) == 1 < STRATEGIES["polyphase"].tiles(one_blemish)
    assert inpainter.inpaint_with_info(big, one_blemish)[1] == "crop"
    scattered = np.zeros((600, 800), np.uint8)
    scattered[::40, ::40] = 255  # dots all over: crop's merged window would be shrunk from the whole frame
    assert inpainter.inpaint_with_info(big, scattered)[1] == "polyphase"


@pytest.mark.parametrize("overwrite", [False, True])
def test_output_into_the_masks_folder_never_touches_a_mask(contract_model, tmp_path: Path, overwrite: bool) -> None:
    save(tmp_path / "in" / "good.png", smooth_image(np.random.default_rng(0), 40, 40))
    save(tmp_path / "m" / "good.png", rect_mask(40, 40, (5, 5, 10, 10)))
    before = (tmp_path / "m" / "good.png").read_bytes()
    args = [str(tmp_path / "in"), str(tmp_path / "m"), str(tmp_path / "m")]
    code, output = gin_masks(contract_model, *args, *(["--overwrite"] if overwrite else []))
    assert code == 2 and "would overwrite an input image or mask" in output
    assert (tmp_path / "m" / "good.png").read_bytes() == before


def _flat_grey_png(side: int) -> bytes:
    """A valid side x side 8-bit grey PNG, built without compressing side * side bytes: after a
    full flush deflate forgets its history, so equal runs of rows compress to equal bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"\x00" + b"\x80" * side
    runs, rest = divmod(side, 1000)
    block = rows * 1000
    packer = zlib.compressobj(9)
    head = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)  # zlib header + one run
    repeat = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)  # every further run
    tail = packer.compress(rows * rest) + packer.flush()
    checksum = 1
    for _ in range(runs):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(rows * rest, checksum)
    body = head + repeat * (runs - 1) + tail[:-4] + struct.pack(">I", checksum)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from gincli.io.images import ImageReadError, read_image

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_flat_grey_png(30_000))
    assert bomb.stat().st_size < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageReadError, match=r"bomb\.png: 30000 x 30000 pixels is over the limit of 250,000,000"):
        read_image(bomb)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB: nothing was decoded
    monkeypatch.setenv("GIN_MAX_PIXELS", str(100))
    small = tmp_path / "small.png"
    save(small, np.zeros((20, 20), np.uint8))
    with pytest.raises(ImageReadError, match="over the limit of 100"):
        read_image(small)


def test_symlinked_folders_are_followed_once_and_loops_end(contract_model, tmp_path: Path) -> None:
    album = tmp_path / "album"
    save(album / "a.png", smooth_image(np.random.default_rng(13), 40, 40))
    root = tmp_path / "library"
    (root / "sub").mkdir(parents=True)
    (root / "linked").symlink_to(album, target_is_directory=True)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)  # a loop back to the top
    save(tmp_path / "hole.png", rect_mask(40, 40, (10, 10, 20, 20)))
    code, output = gin_masks(contract_model, str(root), str(tmp_path / "hole.png"), str(tmp_path / "out"), "-r")
    assert code == 0 and "done 1" in output, output
    assert (tmp_path / "out" / "linked" / "a.png").is_file()


def test_hidden_files_and_folders_are_left_out_of_a_folders_images(contract_model, tmp_path: Path) -> None:
    """A folder copied from a Mac to a USB drive has an AppleDouble twin beside each file
    (``._a.png``: metadata, no picture), which failed as a broken image and, in a frames folder,
    was a second frame 1; a ``.thumbnails`` cache was inpainted with the photos."""
    picture = smooth_image(np.random.default_rng(13), 40, 40)
    save(tmp_path / "in" / "a.png", picture)
    (tmp_path / "in" / "._a.png").write_bytes(b"\0\5\26\7" + bytes(60))  # AppleDouble's magic number
    save(tmp_path / "in" / ".thumbnails" / "a.png", picture[:8, :8])
    save(tmp_path / "hole.png", rect_mask(40, 40, (10, 10, 20, 20)))
    code, output = gin_masks(
        contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"), "-r"
    )
    assert code == 0 and "done 1 (" in output and "failed 0" in output, output
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["a.png"]
    frames = tmp_path / "frames"
    for name in ("000001.png", "000002.png"):
        save(frames / name, picture)
    (frames / "._000001.png").write_bytes(b"\0\5\26\7" + bytes(60))
    result = CliRunner().invoke(main, ["scratches", str(frames), "-o", str(tmp_path / "masks")])
    assert result.exit_code == 0 and "wrote 2 masks" in result.output, result.output
    assert "no frame number" not in result.output


def test_empty_folders_and_masks_without_or_with_only_hole_are_reported(contract_model, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, output = gin_masks(contract_model, str(tmp_path / "empty"), str(tmp_path / "empty"), str(tmp_path / "o"))
    assert code == 2 and "no images" in output and "-r" in output
    save(tmp_path / "in" / "a.png", smooth_image(np.random.default_rng(14), 30, 30))
    for name, value in (("black.png", 0), ("white.png", 255)):
        save(tmp_path / name, np.full((30, 30), value, np.uint8))
        code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / name), str(tmp_path / name[:-4]))
        assert code == 0, output
        assert ("has no hole" in output) == (value == 0) and ("covers the whole picture" in output) == (value == 255)


def test_format_quality_workers_and_threads_options(contract_model, tmp_path: Path) -> None:
    rng = np.random.default_rng(15)
    for i in range(3):
        save(tmp_path / "in" / f"p{i}.png", smooth_image(rng, 80, 96))
    save(tmp_path / "hole.png", rect_mask(80, 96, (20, 20, 50, 60)))
    run = lambda out, *extra: gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"),  # noqa: E731
                                        str(tmp_path / out), *extra)  # fmt: skip
    assert run("q90", "--format", "jpg", "--quality", "90")[0] == 0
    assert run("q20", "--format", "jpg", "--quality", "20")[0] == 0
    for i in range(3):
        assert (tmp_path / "q90" / f"p{i}.jpg").read_bytes()[:2] == b"\xff\xd8"  # JPEG, by its bytes
        assert (tmp_path / "q90" / f"p{i}.jpg").stat().st_size > (tmp_path / "q20" / f"p{i}.jpg").stat().st_size
    assert run("webp", "--format", "webp")[0] == 0
    assert (tmp_path / "webp" / "p0.webp").read_bytes()[8:12] == b"WEBP"
    # how the work is spread changes nothing in the result
    assert run("one", "--workers", "1", "--threads", "1")[0] == 0
    assert run("four", "--workers", "4")[0] == 0
    for i in range(3):
        one, four = read_image(tmp_path / "one" / f"p{i}.png"), read_image(tmp_path / "four" / f"p{i}.png")
        assert np.abs(one.astype(int) - four.astype(int)).max() <= 1


def test_ensemble_option_runs_five_views_per_tile(
    contract_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gincli.core.engine import Engine

    tiles_run: list[int] = []
    original = Engine.run

    def counting(self: Engine, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        tiles_run.append(len(images))
        return original(self, images, masks)

    monkeypatch.setattr(Engine, "run", counting)
    save(tmp_path / "in" / "a.png", smooth_image(np.random.default_rng(16), 64, 64))
    mask = save(tmp_path / "hole.png", rect_mask(64, 64, (16, 16, 48, 40)))
    counts = {}
    for name, extra in (("plain", []), ("ens", ["--ensemble"])):
        tiles_run.clear()
        code, output = gin_masks(contract_model, str(tmp_path / "in"), str(mask), str(tmp_path / name), "--fill", "network",
                                 *extra)  # fmt: skip
        assert code == 0, output
        counts[name] = sum(tiles_run)
    assert counts["plain"] == 1 and counts["ens"] == 5


@pytest.mark.parametrize("subsampling", [0, 1, 2])  # PIL: 4:4:4, 4:2:2, 4:2:0
def test_jpeg_to_jpeg_reencodes_only_the_blocks_a_hole_touches(
    contract_model, tmp_path: Path, subsampling: int
) -> None:
    from gincli.io.jpeg_blocks import touched_blocks

    rgb = smooth_image(np.random.default_rng(17), 96, 128)
    exif = Image.Exif()
    exif[0x0132] = "2024:05:01 10:20:30"
    Image.fromarray(rgb).save(tmp_path / "p.jpg", quality=80, subsampling=subsampling, exif=exif.tobytes())
    mask = rect_mask(96, 128, (37, 45, 58, 70))
    save(tmp_path / "hole.png", mask)
    code, output = gin_masks(contract_model, str(tmp_path / "p.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "out"),
                             "--fill", "network")  # fmt: skip
    assert code == 0 and "re-encoded" not in output, output
    before, after = read_image(tmp_path / "p.jpg"), read_image(tmp_path / "out" / "p.jpg")
    # the blocks a hole touches, as pixels: chroma blocks are 16 px where chroma is subsampled, plus
    # the one-pixel seam a decoder's chroma upsampling reads across
    block = {0: (8, 8), 1: (8, 16), 2: (16, 16)}[subsampling]
    grid = (-(-96 // block[0]), -(-128 // block[1]))
    changed = np.kron(touched_blocks(mask > 0, *block, grid), np.ones(block, bool))[:96, :128]
    near = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert np.array_equal(before[~near], after[~near])  # bit for bit away from the re-encoded blocks
    assert not np.array_equal(before[mask > 0], after[mask > 0])  # the hole was filled
    with Image.open(tmp_path / "out" / "p.jpg") as out:
        assert out.getexif()[0x0132] == "2024:05:01 10:20:30"
    # --quality applies to the re-encoded blocks only: coarser there, the rest still bit for bit
    code, output = gin_masks(contract_model, str(tmp_path / "p.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "q"),
                             "--fill", "network", "--quality", "20")  # fmt: skip
    assert code == 0 and "re-encoded" not in output, output
    coarse = read_image(tmp_path / "q" / "p.jpg")
    assert np.array_equal(before[~near], coarse[~near])
    fill = after[mask > 0].astype(int)  # at the input's own quality (80)
    assert np.abs(coarse[mask > 0] - fill).mean() > 0.5  # quality 20 loses more inside the blocks


@pytest.mark.parametrize("orientation", [6, 8])  # the camera turned right or left
def test_a_jpeg_stored_sideways_keeps_its_blocks_and_orientation(
    contract_model, tmp_path: Path, orientation: int
) -> None:
    from gincli.io.jpeg_blocks import touched_blocks

    upright = smooth_image(np.random.default_rng(19), 96, 128)
    # stored as the camera wrote it: PIL's transpose is what a viewer undoes for this tag
    turn = Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270
    Image.fromarray(upright).transpose(turn).save(tmp_path / "p.jpg", quality=85, subsampling=2,
                                                  exif=_exif_orientation(orientation))  # fmt: skip
    before = read_image(tmp_path / "p.jpg")
    assert before.shape == (96, 128, 3)
    mask = rect_mask(96, 128, (37, 45, 58, 70))  # drawn on the upright picture, off-centre
    save(tmp_path / "hole.png", mask)
    code, output = gin_masks(contract_model, str(tmp_path / "p.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "out"),
                             "--fill", "network")  # fmt: skip
    assert code == 0 and "re-encoded" not in output, output
    after = read_image(tmp_path / "out" / "p.jpg")
    changed = np.kron(touched_blocks(mask > 0, 16, 16, (6, 8)), np.ones((16, 16), bool))
    near = cv2.dilate(changed.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert np.array_equal(before[~near], after[~near])
    assert not np.array_equal(before[mask > 0], after[mask > 0])
    with Image.open(tmp_path / "out" / "p.jpg") as out:
        assert out.getexif()[0x0112] == orientation and out.size == (96, 128)  # still stored sideways


def test_a_cmyk_jpeg_stays_cmyk(contract_model, tmp_path: Path) -> None:
    rgb = smooth_image(np.random.default_rng(22), 64, 96)
    exif = Image.Exif()
    exif[0x010F] = "Print Shop"
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "print.jpg", quality=90, exif=exif.tobytes())
    mask = rect_mask(64, 96, (21, 30, 40, 52))
    save(tmp_path / "hole.png", mask)
    code, output = gin_masks(contract_model, str(tmp_path / "print.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "out"),
                             "--fill", "network")  # fmt: skip
    assert code == 0 and "re-encoded whole, in CMYK" in output and "written as RGB" not in output, output
    with Image.open(tmp_path / "out" / "print.jpg") as out:
        assert out.mode == "CMYK" and out.getexif()[0x010F] == "Print Shop"
    before, after = read_image(tmp_path / "print.jpg"), read_image(tmp_path / "out" / "print.jpg")
    assert np.abs(before[mask == 0].astype(int) - after[mask == 0]).mean() < 2  # one more generation only
    # the inks read back as the fill itself: the same run written as PNG, within JPEG's loss
    code, output = gin_masks(contract_model, str(tmp_path / "print.jpg"), str(tmp_path / "hole.png"), str(tmp_path / "png"),
                             "--fill", "network", "--format", "png")  # fmt: skip
    assert code == 0 and "CMYK JPEG, written as RGB" in output
    fill = read_image(tmp_path / "png" / "print.png")[mask > 0].astype(int)
    assert np.abs(after[mask > 0] - fill).mean() < 4


def test_tiff_orientation_is_applied_like_jpeg(contract_model, tmp_path: Path) -> None:
    stored = np.zeros((20, 30), np.uint16)
    stored[:5, :5] = 60000  # top-left as stored; orientation 6 shows it top-right
    (tmp_path / "in").mkdir()
    Image.fromarray(stored).save(tmp_path / "in" / "scan.tif", tiffinfo={274: 6})
    upright = read_image(tmp_path / "in" / "scan.tif")
    assert upright.shape == (30, 20) and (upright[:5, 15:] == 60000).all()
    save(tmp_path / "hole.png", rect_mask(30, 20, (10, 5, 20, 15)))  # drawn on the upright picture
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert code == 0 and "resized" not in output, output
    assert read_image(tmp_path / "out" / "scan.tif").shape == (30, 20)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_tiff_read_with_its_alpha_is_turned_upright_as_opencv_turns_one(tmp_path: Path, orientation: int) -> None:
    """TIFFs whose alpha OpenCV misreads are decoded by FFmpeg, which leaves them as stored:
    turned by their orientation tag, they come out as OpenCV turns the same picture in grey."""
    import tifffile

    marked = np.zeros((20, 30, 4), np.uint8)
    marked[..., 3] = 255
    marked[:5, :5] = 100  # a corner, half transparent
    grey = np.where(marked[..., 3] == 100, 60000, 0).astype(np.uint16)
    tag = [(274, 3, 1, orientation, False)]
    tifffile.imwrite(tmp_path / "rgba.tif", marked, photometric="rgb", extrasamples=[2], extratags=tag)
    tifffile.imwrite(tmp_path / "grey.tif", grey, photometric="minisblack", extratags=tag)
    assert np.array_equal(read_image(tmp_path / "rgba.tif")[..., 3] == 100, read_image(tmp_path / "grey.tif") == 60000)


def test_a_palette_png_is_written_back_with_its_own_palette(contract_model, tmp_path: Path) -> None:
    source = Image.fromarray(smooth_image(np.random.default_rng(21), 40, 50)).quantize(colors=16)
    (tmp_path / "in").mkdir()
    source.save(tmp_path / "in" / "map.png")
    mask = rect_mask(40, 50, (10, 10, 25, 30))
    save(tmp_path / "hole.png", mask)
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert code == 0 and "written as RGB" not in output, output
    with Image.open(tmp_path / "out" / "map.png") as out:
        assert out.mode == "P" and out.getpalette() == source.getpalette()
        before, after = np.asarray(source.convert("RGB")), np.asarray(out.convert("RGB"))
    assert np.array_equal(before[mask == 0], after[mask == 0])  # same colours outside the hole
    palette = {tuple(c) for c in np.asarray(source.getpalette(), np.uint8).reshape(-1, 3)}
    assert {tuple(c) for c in after[mask > 0]} <= palette  # the fill drawn from the palette
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "jpg"),
                             "--format", "jpg")  # fmt: skip
    assert code == 0 and "palette PNG, written as RGB" in output


def test_png_text_chunks_are_kept(contract_model, tmp_path: Path) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Title", "Harbour, 1952")
    info.add_text("Description", "scanned from the negative", zip=True)
    info.add_itxt("Author", "Zoë Ångström")
    (tmp_path / "in").mkdir()
    Image.fromarray(smooth_image(np.random.default_rng(18), 40, 50)).save(tmp_path / "in" / "a.png", pnginfo=info)
    save(tmp_path / "hole.png", rect_mask(40, 50, (10, 10, 20, 30)))
    code, output = gin_masks(contract_model, str(tmp_path / "in"), str(tmp_path / "hole.png"), str(tmp_path / "out"))
    assert code == 0, output
    with Image.open(tmp_path / "out" / "a.png") as out:
        out.load()
        assert out.text == {"Title": "Harbour, 1952", "Description": "scanned from the negative",
                            "Author": "Zoë Ångström"}  # fmt: skip


def test_classical_fill_of_16_bit_and_float_images_agrees_with_8_bit() -> None:
    from gincli.core.classical import classical_fill

    image = smooth_image(np.random.default_rng(8), 120, 160)
    hole = np.zeros((120, 160), np.uint8)
    hole[40:90, 50:100] = 1  # a square and a scratch: Telea marches 25 px into the square
    hole[:, 130:133] = 1
    at = hole > 0
    eight = classical_fill(image, hole, at) * 255
    for deep in (image.astype(np.uint16) * 257, image.astype(np.float32) / 255):
        levels = classical_fill(deep, hole, at) * 255
        # 8-bit Telea rounds every pixel it fills, and later pixels read the rounded ones
        assert np.abs(levels - eight).mean() < 1.5 and np.abs(levels - eight).max() < 10


def test_classical_fill_of_a_band_skips_the_deep_core_and_gives_the_same_values() -> None:
    from gincli.core.classical import classical_fill, hole_depth

    image = smooth_image(np.random.default_rng(9), 240, 320)
    hole = np.zeros((240, 320), np.uint8)
    hole[40:200, 60:220] = 1  # 160 px square: pixels up to 80 px deep
    distance = cv2.distanceTransform(hole, cv2.DIST_L2, 3)
    band = (hole > 0) & (distance < 16)
    whole = cv2.inpaint(image, hole, 5, cv2.INPAINT_TELEA)[band] / np.float32(255)
    assert np.array_equal(classical_fill(image, hole, band, deepest=16), whole)
    # the depths of a mask with another hole beside it (as the inpainter passes its whole mask's)
    other = hole.copy()
    other[40:200, 222:300] = 1  # 2 px of valid picture between the two holes
    assert np.array_equal(classical_fill(image, hole, band, 16, hole_depth(other)), whole)


def test_classical_fill_of_film_damage_runs_on_boxes_and_equals_the_whole_frame_fill(monkeypatch) -> None:
    """Three scratches (two crossing, one on the frame's edge), a dozen specks spread over the
    frame (two 3 px apart) and a blot far from them all: the values OpenCV's two runs give on
    the whole frame (Navier-Stokes radius 1 for the narrow holes, then Telea radius 5 for the
    blot), from boxes a fraction of the frame's size."""
    from gincli.core import classical

    rng = np.random.default_rng(12)
    image = smooth_image(rng, 360, 640)
    image = np.clip(image.astype(np.int16) + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)
    narrow = np.zeros((360, 640), np.uint8)
    cv2.line(narrow, (100, 0), (120, 359), 1, thickness=3)
    cv2.line(narrow, (130, 0), (95, 359), 1, thickness=2)
    narrow[:, 638:] = 1
    for y, x in zip(rng.integers(10, 350, 12), rng.integers(200, 620, 12), strict=True):
        cv2.circle(narrow, (int(x), int(y)), int(rng.integers(1, 4)), 1, -1)
    narrow[300:303, 400:403] = narrow[300:303, 406:409] = 1
    wide = np.zeros_like(narrow)
    wide[20:80, 300:380] = 1
    narrow[wide > 0] = 0
    hole = narrow | wide
    first = cv2.inpaint(image, narrow, 1, cv2.INPAINT_NS)
    want = cv2.inpaint(first, wide, 5, cv2.INPAINT_TELEA)[hole > 0] / np.float32(255)
    boxes = []
    diffuse = classical._diffuse

    def recorded(box: np.ndarray, runs: list) -> np.ndarray:
        boxes.append(box.shape[0] * box.shape[1])
        return diffuse(box, runs)

    monkeypatch.setattr(classical, "_diffuse", recorded)
    got = classical.classical_fill(image, hole, hole > 0)
    assert np.array_equal(got, want)
    assert len(boxes) > 5 and sum(boxes) < image.shape[0] * image.shape[1] / 3, boxes


def test_openvino_compiles_the_model_only_when_a_hole_needs_the_network(contract_model) -> None:
    image = smooth_image(np.random.default_rng(4), 128, 160)
    scratch = np.zeros((128, 160), np.uint8)
    scratch[10:100, 40:42] = 255
    inpainter = Inpainter(contract_model, provider="openvino", fill="auto")
    inpainter.inpaint(image, scratch)  # thin only: the classical fill
    assert not inpainter.engine.loaded  # about 140 MB and 0.6 s saved for the bundled model
    square = scratch.copy()
    square[60:100, 90:130] = 255
    inpainter.inpaint(image, square)
    assert inpainter.engine.loaded


def test_a_tiffs_pages_are_counted_without_its_previews_and_masks() -> None:
    """A camera's or scanner's TIFF may carry a reduced-resolution preview or a transparency
    mask as further directories (NewSubfileType bits 0 and 2): one picture, not several pages.
    A chain that loops back is counted once."""
    import struct

    from gincli.io.tiff_tags import full_size_pages

    def tiff(kinds: list[int], loop: bool = False) -> bytes:
        data = bytearray(b"II*\x00" + struct.pack("<I", 8))
        for index, kind in enumerate(kinds):
            at = len(data)
            follows = at + 18 if index + 1 < len(kinds) else (8 if loop else 0)
            data += struct.pack("<HHHII", 1, 254, 4, 1, kind) + struct.pack("<I", follows)
        return bytes(data)

    assert full_size_pages(tiff([0])) == 1
    assert full_size_pages(tiff([0, 1, 4, 0, 2])) == 3  # a preview and a mask left out; 2 (a page of many) counts
    assert full_size_pages(tiff([0, 0], loop=True)) == 2
    assert full_size_pages(b"not a tiff") == 0
