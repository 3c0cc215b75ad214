"""DPX film scans: read as FFmpeg reads them, written back over their own bytes."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from gincli.cli.main import main
from gincli.io.dpx import dpx_layout, read_dpx, write_dpx
from gincli.io.images import read_image, write_image
from tests.conftest import smooth_image

H, W = 30, 44


def ffmpeg_dpx(picture: np.ndarray, pix_fmt: str) -> bytes:
    """A DPX file as FFmpeg's encoder writes one (its byte order follows ``pix_fmt``)."""
    out = io.BytesIO()
    with av.open(out, "w", format="image2pipe") as container:
        stream = container.add_stream("dpx", rate=24)
        stream.width, stream.height, stream.pix_fmt = picture.shape[1], picture.shape[0], pix_fmt
        container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format=pix_fmt)))
        container.mux(stream.encode(None))
    return out.getvalue()


def ffmpeg_reads(data: bytes, pix_fmt: str) -> np.ndarray:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0)).to_ndarray(format=pix_fmt)


KINDS = {  # FFmpeg's pixel format -> (the sample range, the format FFmpeg decodes it to in 8 or 16 bits)
    "rgb24": (256, "rgb24"),
    "rgb48le": (65536, "rgb48le"),
    "rgb48be": (65536, "rgb48le"),
    "gbrp10le": (1024, "rgb48le"),
    "gbrp10be": (1024, "rgb48le"),
    "gbrp12le": (4096, "rgb48le"),
    "gbrp12be": (4096, "rgb48le"),
}


@pytest.mark.parametrize("pix_fmt", list(KINDS))
def test_dpx_reads_as_ffmpeg_reads_and_writes_back_byte_for_byte(pix_fmt: str) -> None:
    """8, 10 (three samples to a 32-bit word), 12 and 16 bits, either byte order: the picture
    is what FFmpeg decodes (10-bit samples over 16 bits, v << 6 | v >> 4, as swscale spreads
    them); written back unchanged, the file is the same bytes; an edited pixel is what
    FFmpeg then reads."""
    top, wide_as = KINDS[pix_fmt]
    picture = np.random.default_rng(1).integers(0, top, (H, W, 3)).astype(np.uint8 if top == 256 else np.uint16)
    data = ffmpeg_dpx(picture, pix_fmt)
    read = read_dpx(data)
    assert np.array_equal(read, ffmpeg_reads(data, wide_as))
    assert write_dpx(read, data) == data
    edited = read.copy()
    edited[7, 9] = (10, 20, 30) if read.dtype == np.uint8 else (1000, 33000, 65535)
    again = ffmpeg_reads(write_dpx(edited, data), wide_as)
    if pix_fmt.startswith("gbrp"):  # to the nearest 10- or 12-bit step, spread again
        bits = int(pix_fmt[4:6])
        steps = [round(int(v) * (2**bits - 1) / 65535) for v in edited[7, 9]]
        assert [int(v) for v in again[7, 9]] == [step << (16 - bits) | step >> (2 * bits - 16) for step in steps]
    else:
        assert np.array_equal(again, edited)


def test_gin_inpaint_writes_a_dpx_back_with_its_header_and_samples_outside_the_hole(tmp_path: Path) -> None:
    """A scanner's 10-bit big-endian DPX: the output has the input's header byte for byte (time
    code, edge code, scanner: OpenCV reads no DPX, and no other writer keeps them) and its
    samples outside the hole; a DPX of another kind (RGBA) is one line naming its kind; a
    folder of scans becomes a video that starts at the first scan's time code, or through
    `gin video`, a folder of DPX scans again."""
    picture = smooth_image(np.random.default_rng(2), H, W).astype(np.uint16) * 4
    scans = tmp_path / "scans"
    scans.mkdir()
    for number in (1, 2):
        scan = bytearray(ffmpeg_dpx(picture, "gbrp10be"))
        scan[1920:1924] = bytes([0x01, 0x02, 0x03, 0x03 + number])  # its SMPTE time code, BCD: 01:02:03:04, :05
        (scans / f"reel_{number:04d}.dpx").write_bytes(bytes(scan))
    hole = np.zeros((H, W), np.uint8)
    hole[10:20, 15:30] = 255
    write_image(tmp_path / "hole.png", hole)
    result = CliRunner().invoke(main, ["inpaint", str(scans), "--masks", str(tmp_path / "hole.png"), "-o",
                                       str(tmp_path / "out"), "--fill", "classical"])  # fmt: skip
    assert result.exit_code == 0, result.output
    source, written = (scans / "reel_0001.dpx").read_bytes(), (tmp_path / "out" / "reel_0001.dpx").read_bytes()
    layout = dpx_layout(source)
    assert layout.order == ">" and len(written) == len(source) and written[: layout.offset] == source[: layout.offset]
    before, after = read_dpx(source), read_image(tmp_path / "out" / "reel_0001.dpx")
    assert np.array_equal(after[hole == 0], before[hole == 0]) and not np.array_equal(after[hole > 0], before[hole > 0])
    video = CliRunner().invoke(main, ["video", str(scans), "--mask", str(tmp_path / "hole.png"), "-o",
                                      str(tmp_path / "reel.mov"), "--fill", "classical"])  # fmt: skip
    assert video.exit_code == 0 and "2 frames" in video.output, video.output
    with av.open(str(tmp_path / "reel.mov")) as reel:  # the first scan's time code starts the video (its tmcd track)
        assert {v for s in reel.streams for k, v in s.metadata.items() if k.lower() == "timecode"} == {"01:02:03:04"}
    video = CliRunner().invoke(main, ["video", str(scans), "--mask", str(tmp_path / "hole.png"), "-o",
                                      str(tmp_path / "restored"), "--fill", "classical"])  # fmt: skip
    assert video.exit_code == 0, video.output
    restored = (tmp_path / "restored" / "reel_0002.dpx").read_bytes()  # DPX scans out, of the same names
    assert len(restored) == len(source) and restored[: layout.offset] == source[: layout.offset]
    assert np.array_equal(read_dpx(restored), after)
    (scans / "reel_0003.dpx").write_bytes(ffmpeg_dpx(np.zeros((H, W, 4), np.uint8), "rgba"))
    result = CliRunner().invoke(main, ["inpaint", str(scans / "reel_0003.dpx"), "--masks", str(tmp_path / "hole.png"),
                                       "-o", str(tmp_path / "rgba")])  # fmt: skip
    assert result.exit_code == 1 and "reel_0003.dpx: a DPX gin cannot take" in " ".join(result.output.split())
