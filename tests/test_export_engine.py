"""Export to ONNX and the ONNX Runtime engine: parity with PyTorch, metadata, errors, providers."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner

from export.onnx_export import InpaintingGraph
from gincli.cli.main import main
from gincli.core.engine import Engine, EngineError, ProviderUnavailable
from gincli.core.inpainter import Inpainter
from gincli.io.images import write_image
from tests.conftest import tiny_config


def random_tiles(batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((batch, 3, 256, 256), dtype=np.float32), (rng.random((batch, 1, 256, 256)) < 0.3).astype(
        np.float32
    )


@pytest.mark.parametrize("batch", [1, 3])
def test_onnx_runtime_equals_pytorch(exported, batch: int) -> None:
    _, model, generator = exported
    images, masks = random_tiles(batch)
    got = Engine(model, provider="cpu").run(images, masks)
    with torch.no_grad():
        want = InpaintingGraph(generator)(torch.from_numpy(images), torch.from_numpy(masks)).numpy()
    fill = want[np.broadcast_to(masks > 0, want.shape)]  # a real fill, not clamped to 0 or 1, is compared
    assert fill.std() > 0.02 and 0 < fill.min() and fill.max() < 1
    assert np.abs(got - want).max() <= 1e-4
    # outside the hole the output is the input, exactly; inside it is in [0, 1]
    assert np.array_equal(got * (1 - masks), images * (1 - masks))
    assert got.min() >= 0.0 and got.max() <= 1.0


def test_metadata_round_trips(exported) -> None:
    checkpoint, model, _ = exported
    info = Engine(model, provider="cpu").info
    import hashlib

    assert info.ngf == 8 and info.step == 42 and info.precision == "fp32"
    assert info.source_sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert "1 = hole" in info.input_convention and info.version


def test_export_of_a_non_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.pth"
    bad.write_text("hello")
    result = CliRunner().invoke(main, ["export", str(bad)])
    assert result.exit_code == 1 and "notes.pth" in result.output and "not a PyTorch checkpoint" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.glob("*.onnx"))


def test_corrupt_onnx_file_is_a_clear_error(exported, tmp_path: Path) -> None:
    _, model, _ = exported
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(model.read_bytes()[:5000])
    with pytest.raises(EngineError, match=r"broken\.onnx: not a usable ONNX model"):
        Engine(broken, provider="cpu")


def test_export_of_a_cut_short_graph_is_a_clear_error(exported, image_folder: Path, tmp_path: Path) -> None:
    """As a checkpoint to export again, and to quantise as it is (--int8 read its header
    unguarded: a traceback ending in the header reader's ValueError)."""
    _, model, _ = exported
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(model.read_bytes()[:5000])
    for extra in ([], ["--int8", "--calibration", str(image_folder)]):
        result = CliRunner().invoke(main, ["export", str(broken), "-o", str(tmp_path / "out.onnx"), *extra])
        assert result.exit_code == 1 and "broken.onnx: not an ONNX model" in result.output, result.output
        assert result.exc_info is None or result.exc_info[0] is SystemExit
        assert not (tmp_path / "out.onnx").exists()


def test_model_with_wrong_input_shapes_is_refused(tmp_path: Path) -> None:
    x = onnx.helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, ["N", 3, 128, 128])
    m = onnx.helper.make_tensor_value_info("mask", onnx.TensorProto.FLOAT, ["N", 1, 128, 128])
    y = onnx.helper.make_tensor_value_info("inpainted", onnx.TensorProto.FLOAT, ["N", 3, 128, 128])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Add", ["image", "mask"], ["inpainted"])], "g", [x, m], [y])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, tmp_path / "small.onnx")
    with pytest.raises(EngineError, match=r"small\.onnx: not a gin inpainting model.*image \[N, 3, 256, 256\]"):
        Engine(tmp_path / "small.onnx", provider="cpu")


def _gpu_usable(name: str) -> bool:
    from gincli.core.engine import _provider_problem

    return _provider_problem(name) is None


def test_auto_takes_the_first_backend_this_machine_has_and_says_so(exported) -> None:
    from gincli.core.engine import BACKENDS, _provider_problem

    expected = next(name for name in BACKENDS if _provider_problem(name) is None)
    lines: list[str] = []
    engine = Engine(exported[1], report=lines.append)
    assert engine.provider == expected
    for skipped in BACKENDS[: BACKENDS.index(expected)]:
        assert any(f"{skipped} provider skipped" in line for line in lines)
    assert f"on {expected}" in lines[-1]


@pytest.mark.parametrize("provider", ["cuda", "tensorrt"])
def test_explicit_gpu_provider_fails_where_it_cannot_run(exported, provider: str) -> None:
    if _gpu_usable(provider):  # a GPU machine: the provider must run, and say so
        assert Engine(exported[1], provider=provider).provider == provider
        return
    with pytest.raises(ProviderUnavailable, match=f"provider {provider} cannot run here"):
        Engine(exported[1], provider=provider)


def test_openvino_engine_matches_onnx_runtime_and_keeps_valid_pixels(exported) -> None:
    images, masks = random_tiles(2)
    want = Engine(exported[1], provider="cpu").run(images, masks)
    fp32 = Engine(exported[1], provider="openvino", precision="fp32")
    assert fp32.provider == "openvino" and fp32.precision == "fp32"
    assert not fp32.loaded  # compiled on the first batch
    got = fp32.run(images, masks)
    assert np.abs(got - want).max() <= 1e-4
    assert np.array_equal(got * (1 - masks), images * (1 - masks))
    assert fp32.loaded
    # bf16 (emulated where the CPU lacks it): close to fp32, valid pixels still exact
    bf16 = Engine(exported[1], provider="openvino", precision="bf16")
    assert bf16.precision == "bf16"
    half = bf16.run(images, masks)
    assert np.abs(half - want).max() <= 5e-2
    assert np.array_equal(half * (1 - masks), images * (1 - masks))


def test_model_returning_nan_or_the_wrong_output_shape_is_refused(tmp_path: Path) -> None:
    x = onnx.helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, ["N", 3, 256, 256])
    m = onnx.helper.make_tensor_value_info("mask", onnx.TensorProto.FLOAT, ["N", 1, 256, 256])
    one = onnx.helper.make_tensor_value_info("inpainted", onnx.TensorProto.FLOAT, ["N", 1, 256, 256])
    grey = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["mask"], ["inpainted"])], "g", [x, m], [one])
    onnx.save(onnx.helper.make_model(grey, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8),
              tmp_path / "grey.onnx")  # fmt: skip
    with pytest.raises(EngineError, match=r"grey\.onnx: not a gin inpainting model: outputs are"):
        Engine(tmp_path / "grey.onnx", provider="cpu")
    y = onnx.helper.make_tensor_value_info("inpainted", onnx.TensorProto.FLOAT, ["N", 3, 256, 256])
    nan = onnx.helper.make_graph([onnx.helper.make_node("Log", ["image"], ["neg"]),
                                  onnx.helper.make_node("Sqrt", ["neg"], ["inpainted"])], "g", [x, m], [y])  # fmt: skip
    onnx.save(onnx.helper.make_model(nan, opset_imports=[onnx.helper.make_opsetid("", 17)], ir_version=8),
              tmp_path / "nan.onnx")  # fmt: skip
    images, masks = random_tiles(1)
    with pytest.raises(EngineError, match=r"nan\.onnx: the model returned NaN"):
        Engine(tmp_path / "nan.onnx", provider="cpu").run(images, masks)
    # `gin inpaint` on a folder stops at the first such batch with the model's fault, not one failure per image
    photos = tmp_path / "photos"
    for i in range(3):
        write_image(photos / f"{i}.png", np.full((64, 64, 3), 100 + i, np.uint8))
    hole = np.zeros((64, 64), np.uint8)
    hole[16:48, 16:48] = 255
    write_image(tmp_path / "hole.png", hole)
    result = CliRunner().invoke(main, ["inpaint", str(photos), "--masks", str(tmp_path / "hole.png"), "-o",
                                       str(tmp_path / "out"), "--model", str(tmp_path / "nan.onnx"),
                                       "--provider", "cpu", "--fill", "network"])  # fmt: skip
    assert result.exit_code == 2 and "nan.onnx: the model returned NaN" in result.output
    assert "failed" not in result.output and not list((tmp_path / "out").glob("*.png"))


def test_inpainter_api_on_uint8_images(exported) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    mask = np.zeros((256, 256), np.uint8)
    mask[100:150, 60:200] = 255
    out = Inpainter(exported[1], provider="cpu").inpaint(image, mask)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])
    assert not np.array_equal(out[mask > 0], image[mask > 0])


def test_inpainter_without_a_bundled_model_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("gincli.core.inpainter.DEFAULT_MODEL", tmp_path / "absent.onnx")
    with pytest.raises(EngineError, match="gin export"):
        Inpainter()


def test_inference_never_imports_torch(exported) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = sys.modules["onnx"] = None  # any import of either now raises ImportError
        import numpy as np
        import gincli, gincli.cli.main
        from gincli.core.inpainter import Inpainter
        image = np.full((256, 256, 3), 128, np.uint8)
        mask = np.zeros((256, 256), np.uint8); mask[10:50, 10:50] = 255
        out = Inpainter({str(exported[1])!r}, provider="cpu").inpaint(image, mask)
        assert out.shape == image.shape
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_int8_export_needs_calibration_and_runs(exported, image_folder: Path, tmp_path: Path) -> None:
    checkpoint, fp32_graph, _ = exported
    missing = CliRunner().invoke(main, ["export", str(checkpoint), "--int8"])
    assert missing.exit_code == 2 and "--calibration" in missing.output
    (tmp_path / "none").mkdir()
    empty = CliRunner().invoke(main, ["export", str(fp32_graph), "--int8", "--calibration", str(tmp_path / "none")])
    assert empty.exit_code == 2 and "no images in it" in empty.output and "Traceback" not in empty.output
    before = fp32_graph.read_bytes()
    for extra in (["--int8", "--calibration", str(image_folder), "-o", str(fp32_graph)], ["--fp16"], []):
        over = CliRunner().invoke(main, ["export", str(fp32_graph), *extra])  # the graph's own name
        assert over.exit_code == 2 and "CHECKPOINT itself" in over.output, extra
    from export.quantize import ExportQuantizationError, quantize_model

    with pytest.raises(ExportQuantizationError, match="over the fp32 graph"):  # the API refuses it too
        quantize_model(fp32_graph, fp32_graph, image_folder)
    assert fp32_graph.read_bytes() == before
    write_image(tmp_path / "broken" / "a.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "broken" / "a.png").write_bytes(b"\x89PNG cut short")
    broken = CliRunner().invoke(main, ["export", str(fp32_graph), "--int8", "--calibration", str(tmp_path / "broken"),
                                       "-o", str(tmp_path / "b.onnx")])  # fmt: skip
    assert broken.exit_code == 1 and "a.png" in broken.output and "Traceback" not in broken.output
    assert not (tmp_path / "b.onnx").exists()
    out = tmp_path / "q.onnx"
    # from the shipped fp32 graph: quantised as it is, no re-export
    result = CliRunner().invoke(main, ["export", str(fp32_graph), "--int8", "--calibration", str(image_folder),
                                       "--calibration-samples", "4", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PSNR against the fp32 graph" in result.output and "verified" not in result.output
    close = re.search(r"PSNR against the fp32 graph on calibration images ([\d.]+) dB", result.output)
    assert close and float(close.group(1)) >= 40, result.output  # 62.8 dB measured; a fill of its own is far off
    assert f"gin export: quantising to int8, calibrated on 4 samples from {image_folder}" in result.output
    engine = Engine(out, provider="cpu")
    assert engine.info.precision == "int8" and engine.info.ngf == 8
    model = onnx.load(str(out))
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)
    images, masks = random_tiles(1)
    got = engine.run(images, masks)
    assert np.array_equal(got * (1 - masks), images * (1 - masks))


def test_exported_graph_gives_back_its_weights_and_re_exports_as_fp16(exported, tmp_path: Path) -> None:
    """One re-export covers both: weights read back out of a graph (what --init-from uses too)
    and the fp16 graph (float32 inputs and outputs, close to the fp32 model)."""
    from train.onnx_weights import generator_state_from_onnx

    _, model, generator = exported
    state, info = generator_state_from_onnx(model)
    assert info["step"] == 42
    want = generator.state_dict()
    assert list(state) == list(want)
    for key, value in want.items():
        assert torch.equal(state[key], value), key
    result = CliRunner().invoke(main, ["export", str(model), "--fp16", "-o", str(tmp_path / "half.onnx")])
    assert result.exit_code == 0, result.output
    assert "gin export: converting the fp32 graph to fp16 ...\ngin export: checking the graph in ONNX Runtime" in (
        result.output
    )  # each step said as it starts
    engine = Engine(tmp_path / "half.onnx", provider="cpu")
    assert engine.info.precision == "fp16" and engine.info.step == 42
    assert [i.type for i in engine.session.get_inputs()] == ["tensor(float)", "tensor(float)"]
    images, masks = random_tiles(2)
    with torch.no_grad():
        expected = InpaintingGraph(generator)(torch.from_numpy(images), torch.from_numpy(masks)).numpy()
    assert np.abs(Engine(model, provider="cpu").run(images, masks) - expected).max() <= 1e-5
    assert np.abs(engine.run(images, masks) - expected).max() <= 1e-2
    # the graph itself, float16 inside: a mask value just under 0.5 is no hole, valid pixels are the input's bits
    masks[:, :, :8] = 0.4999
    got = engine.session.run(None, {"image": images, "mask": masks})[0]
    valid = np.broadcast_to(masks < 0.5, got.shape)
    assert np.array_equal(got[valid], images[valid])


def test_init_from_an_exported_onnx_model(exported, image_folder: Path, tmp_path: Path) -> None:
    from train.trainer import Trainer

    _, model, generator = exported
    trainer = Trainer(tiny_config(image_folder, tmp_path / "run", init_from=str(model)), progress=False)
    assert trainer.step == 0
    for key, value in generator.state_dict().items():
        assert torch.equal(trainer.generator.state_dict()[key], value), key


def test_weights_cannot_be_read_back_from_an_int8_or_foreign_graph(tmp_path: Path) -> None:
    from gincli.core.model_contract import metadata_keys
    from train.checkpoint import CheckpointError, load_generator

    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["image"], ["inpainted"])], "other",
        [onnx.helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, [1, 3, 256, 256])],
        [onnx.helper.make_tensor_value_info("inpainted", onnx.TensorProto.FLOAT, [1, 3, 256, 256])],
    )  # fmt: skip
    foreign = onnx.helper.make_model(graph)
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(CheckpointError, match=r"foreign\.onnx: holds no generator weights"):
        load_generator(tmp_path / "foreign.onnx")
    onnx.helper.set_model_props(foreign, metadata_keys(8, "", None, "int8", "x", "0", "white"))
    onnx.save(foreign, str(tmp_path / "q.onnx"))
    with pytest.raises(CheckpointError, match=r"q\.onnx: an int8 graph"):
        load_generator(tmp_path / "q.onnx")


def test_a_dropped_inpainter_frees_its_engine_and_thread_at_once(exported) -> None:
    import gc
    import weakref

    from gincli.core import batching

    inpainter = Inpainter(exported[1], provider="cpu", fill="network")  # a tile must reach the engine
    image = np.zeros((40, 40, 3), np.uint8)
    mask = np.zeros((40, 40), np.uint8)
    mask[10:20, 10:20] = 255
    inpainter.inpaint(image, mask)
    engine = weakref.ref(inpainter.engine)
    thread = inpainter.batcher._thread
    assert thread is not None and thread.is_alive()
    gc.disable()  # no reference cycle may hold the session until the next collection
    try:
        del inpainter
        thread.join(timeout=10 * batching.IDLE_CHECK_S)
        assert not thread.is_alive()
        assert engine() is None  # the session and its memory arena are gone
    finally:
        gc.enable()


def test_a_zero_one_mask_means_one_is_a_hole_and_no_hole_is_reported(exported) -> None:
    from gincli.core.inpainter import NoHoleWarning

    inpainter = Inpainter(exported[1], provider="cpu")
    image = np.full((64, 64, 3), 200, np.uint8)
    mask01 = np.zeros((64, 64), np.uint8)
    mask01[20:40, 20:40] = 1  # cv2.inpaint's convention
    out = inpainter.inpaint(image, mask01)
    assert not np.array_equal(out[20:40, 20:40], image[20:40, 20:40])
    assert np.array_equal(out[mask01 == 0], image[mask01 == 0])
    with pytest.warns(NoHoleWarning, match="no hole"):
        assert np.array_equal(inpainter.inpaint(image, np.zeros((64, 64), np.uint8)), image)


def test_skipped_backends_are_said_only_at_debug_level(exported, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from gincli.core.engine import BACKENDS, _provider_problem

    with caplog.at_level(logging.INFO, logger="gin"):
        Engine(exported[1])
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not any("skipped" in line for line in info) and any("running" in line for line in info)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="gin"):
        engine = Engine(exported[1])
    if BACKENDS.index(engine.provider) > 0:  # something was passed over on this machine: said at debug
        assert any("skipped" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert _provider_problem(engine.provider) is None
