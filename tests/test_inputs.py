"""Issue 6: bad inputs, faults and large batches: a clear error, nothing lost, never a traceback.

One test per row of the input matrix. Behaviour of the process (exit codes, stderr lines, no
traceback) is checked through the real CLI in a subprocess; each bad input is put between two
good ones to show that the batch goes on.
"""
from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from conftest import ROOT, assert_no_traceback, run_cli
from vinread.cli import ExitCode
from vinread.correct import MIN_CONFIDENCE
from vinread.images import MAX_PIXELS, MAX_SIDE, ImageReadError, decode_image, load_image

SHIPPED = Path(os.environ.get("VINREAD_MODEL") or ROOT / "models" / "vinread.tflite")
"""The shipped model (``$VINREAD_MODEL`` overrides it, as it does for the CLI)."""


def _shipped_problem() -> str | None:
    """Why the shipped model cannot be used here, or None."""
    from vinread.model import GlyphModel, ModelLoadError

    if not SHIPPED.is_file():
        return "models/vinread.tflite is not built"
    try:
        GlyphModel(SHIPPED)
    except ModelLoadError as exc:
        return f"the shipped model does not load: {exc}"
    return None


_PROBLEM = _shipped_problem()
needs_shipped = pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")


# --------------------------------------------------------------------------- helpers

def glyph_image(char: str = "7") -> np.ndarray:
    img = np.full((64, 48), 255, np.uint8)
    cv2.putText(img, char, (8, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 5)
    return img


def write(path: Path, img: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix, img)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims width x height (a decompression bomb when large)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF marker claims width x height."""
    ok, buf = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    data = bytearray(buf.tobytes())
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def blank(h=120, w=360) -> np.ndarray:
    return np.full((h, w, 3), 255, np.uint8)


def rows(proc) -> list[dict]:
    return [json.loads(ln) for ln in proc.stdout.splitlines()]


def stderr_lines(proc) -> list[str]:
    return proc.stderr.strip().splitlines() if proc.stderr.strip() else []


@pytest.fixture()
def goods(tmp_path):
    """Two good inputs (blank pages: read, no VIN) to put around a bad one."""
    return write(tmp_path / "good1.png", blank()), write(tmp_path / "good2.jpg", blank())


def check_bad_between_goods(model, goods, bad, message, *, code=ExitCode.UNREADABLE, shown=None):
    """Run ``vinread --json good1 BAD good2``; the bad one gets one stderr line and an error object,
    the good ones are still read; then the text form, which prints ``-<TAB>error<TAB>PATH``."""
    shown = str(bad) if shown is None else shown
    p = run_cli("--json", "--model", model, goods[0], bad, goods[1])
    assert_no_traceback(p)
    assert p.returncode == code, p.stderr
    out = rows(p)
    assert [r["file"] for r in out] == [str(goods[0]), shown, str(goods[1])]
    assert out[0]["status"] == out[2]["status"] == "not_found"     # read, no VIN
    assert out[1]["status"] == "error" and out[1]["error"]["code"] == "unreadable"
    assert message in out[1]["error"]["message"]
    err = stderr_lines(p)
    assert len(err) == 1 and err[0] == f"vinread: {shown}: {out[1]['error']['message']}"
    t = run_cli("--model", model, goods[0], bad, goods[1])
    assert t.returncode == code and t.stderr == p.stderr
    assert t.stdout.splitlines()[1] == f"-\terror\t{shown}"
    return out[1]["error"]


# --------------------------------------------------------------------------- the input matrix

def test_missing_path(tiny_model, goods, tmp_path):
    check_bad_between_goods(tiny_model, goods, tmp_path / "no such.jpg", "no such file or directory")


def test_directory_without_images(tiny_model, goods, tmp_path):
    d = tmp_path / "empty dir"
    (d / "sub").mkdir(parents=True)
    write(d / "sub" / "inside.png", blank())            # sub-folders are not walked
    write(d / ".hidden.png", blank())                    # hidden files are skipped
    (d / "notes.txt").write_text("not an image")         # non-image suffixes are skipped
    check_bad_between_goods(tiny_model, goods, d, "no image files in directory")


def test_directory_skips_hidden_subfolders_and_non_images(tiny_model, tmp_path):
    d = tmp_path / "photos"
    write(d / "b.png", blank())
    write(d / "A.JPG", blank())
    write(d / ".hidden.png", blank())
    (d / ".git").mkdir()
    (d / "sub.png").mkdir()                              # a folder with an image suffix
    write(d / "sub.png" / "x.png", blank())
    (d / "readme.txt").write_text("hello")
    (d / "data.json").write_text("{}")
    p = run_cli("--json", "--model", tiny_model, d)
    assert_no_traceback(p)
    assert p.returncode == ExitCode.NOT_FOUND and p.stderr == ""
    assert [r["file"] for r in rows(p)] == [str(d / "A.JPG"), str(d / "b.png")]


def test_empty_file(tiny_model, goods, tmp_path):
    bad = tmp_path / "empty.jpg"
    bad.write_bytes(b"")
    check_bad_between_goods(tiny_model, goods, bad, "empty file")


@pytest.mark.parametrize("suffix,fmt", [(".png", "PNG"), (".jpg", "JPEG")])
def test_truncated_image(tiny_model, goods, tmp_path, suffix, fmt):
    rng = np.random.default_rng(0)
    ok, buf = cv2.imencode(suffix, rng.integers(0, 255, (200, 300, 3), np.uint8))
    bad = tmp_path / f"truncated{suffix}"
    bad.write_bytes(buf.tobytes()[: len(buf) // 2])
    check_bad_between_goods(tiny_model, goods, bad, f"corrupt or truncated {fmt} image")


def test_random_bytes_with_an_image_suffix(tiny_model, goods, tmp_path):
    bad = tmp_path / "random.png"
    bad.write_bytes(np.random.default_rng(1).bytes(5000))
    check_bad_between_goods(tiny_model, goods, bad, "not an image")


def test_text_file(tiny_model, goods, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("VIN 1HGCM82633A004352, but as text, not as a picture\n")
    check_bad_between_goods(tiny_model, goods, bad, "not an image")


@pytest.mark.parametrize("size", [(1, 1), (1, 40), (40, 1)])
def test_one_pixel_images(tiny_model, goods, tmp_path, size):
    bad = write(tmp_path / "tiny.png", np.zeros(size + (3,), np.uint8))
    check_bad_between_goods(tiny_model, goods, bad, f"image too small: {size[1]}x{size[0]} pixels")


def test_zero_pixel_image(tiny_model, goods, tmp_path):
    bad = tmp_path / "zero.png"
    bad.write_bytes(png_claiming(0, 0))
    check_bad_between_goods(tiny_model, goods, bad, "image too small: 0x0 pixels")


@pytest.mark.parametrize("kind", ["png", "jpg"])
def test_decompression_bomb_is_refused_before_decoding(tiny_model, goods, tmp_path, kind):
    bad = tmp_path / f"bomb.{kind}"
    bad.write_bytes(png_claiming(100_000, 100_000) if kind == "png" else jpeg_claiming(60_000, 60_000))
    before = time.monotonic()
    err = check_bad_between_goods(tiny_model, goods, bad, "image too large")
    assert f"{MAX_PIXELS:,}" in err["message"]
    if kind == "png":
        assert err["message"] == f"image too large: 100000x100000 pixels, the limit is {MAX_PIXELS:,}"
    assert time.monotonic() - before < 60
    # in process: refused from the header alone, without allocating (a 10 GP image is 30 GB)
    with pytest.raises(ImageReadError, match="too large"):
        decode_image(bad.read_bytes())


def test_pixel_limit_is_documented():
    readme = (ROOT / "README.md").read_text()
    assert f"{MAX_PIXELS // 1_000_000} megapixels" in readme
    assert f"{MAX_SIDE}" in readme


def _formats(base_bgr: np.ndarray) -> dict[str, bytes]:
    """The same picture as 16-bit, RGBA, palette, grayscale and CMYK files."""
    rgb = Image.fromarray(cv2.cvtColor(base_bgr, cv2.COLOR_BGR2RGB))
    out = {}
    ok, b16 = cv2.imencode(".png", base_bgr.astype(np.uint16) * 257)
    out["16-bit.png"] = b16.tobytes()
    ok, b16g = cv2.imencode(".png", cv2.cvtColor(base_bgr, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257)
    out["16-bit-gray.png"] = b16g.tobytes()
    for name, mode, fmt in [("rgba.png", "RGBA", "PNG"), ("palette.png", "P", "PNG"),
                            ("gray.png", "L", "PNG"), ("gray.jpg", "L", "JPEG"),
                            ("cmyk.jpg", "CMYK", "JPEG"), ("cmyk.tif", "CMYK", "TIFF"),
                            ("gray-alpha.png", "LA", "PNG")]:
        buf = io.BytesIO()
        rgb.convert(mode).save(buf, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        out[name] = buf.getvalue()
    # transparent background, dark glyph: must come out dark on white, not black on black
    bgra = np.zeros(base_bgr.shape[:2] + (4,), np.uint8)
    bgra[..., 3] = 255 - cv2.cvtColor(base_bgr, cv2.COLOR_BGR2GRAY)
    ok, bt = cv2.imencode(".png", bgra)
    out["transparent.png"] = bt.tobytes()
    return out


def test_image_formats_are_read_not_refused(tmp_path):
    base = cv2.cvtColor(glyph_image("K"), cv2.COLOR_GRAY2BGR)
    for name, data in _formats(base).items():
        got = decode_image(data).image
        assert got.dtype == np.uint8 and got.shape == base.shape, name
        diff = np.abs(cv2.cvtColor(got, cv2.COLOR_BGR2GRAY).astype(int) - base[..., 0].astype(int))
        assert diff.mean() < 12, f"{name}: mean difference {diff.mean():.1f}"
        assert decode_image(data, cv2.IMREAD_UNCHANGED).image.shape[:2] == base.shape[:2], name


def test_image_formats_through_the_cli(tiny_model, tmp_path):
    base = cv2.cvtColor(glyph_image("K"), cv2.COLOR_GRAY2BGR)
    d = tmp_path / "formats"
    d.mkdir()
    for name, data in _formats(base).items():
        (d / name).write_bytes(data)
    n = len(list(d.iterdir()))
    p = run_cli("--single", "--json", "--model", tiny_model, d)
    assert_no_traceback(p)
    assert p.returncode == ExitCode.OK and p.stderr == "", p.stderr
    out = rows(p)
    assert len(out) == n and all(r["error"] is None and r["char"] for r in out)
    v = run_cli("--json", "--model", tiny_model, d)
    assert v.returncode == ExitCode.NOT_FOUND and v.stderr == ""
    assert [r["status"] for r in rows(v)] == ["not_found"] * n


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_is_applied(fmt):
    rng = np.random.default_rng(2)
    upright = rng.integers(0, 255, (30, 50, 3), np.uint8)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        buf = io.BytesIO()
        Image.fromarray(upright).save(buf, fmt, exif=exif, **({"quality": 100} if fmt == "JPEG" else {}))
        want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
        for flags in (cv2.IMREAD_COLOR, cv2.IMREAD_UNCHANGED):
            got = decode_image(buf.getvalue(), flags)
            assert got.image.shape[:2] == want.shape[:2], (orientation, flags)
            assert got.size == (want.shape[1], want.shape[0])
        diff = np.abs(cv2.cvtColor(decode_image(buf.getvalue()).image, cv2.COLOR_BGR2RGB).astype(int) - want)
        assert diff.mean() < 4, orientation


def test_phone_photo_orientation_gives_the_same_reading(tiny_model, tmp_path):
    """A photo stored sideways with EXIF orientation 6 reads exactly as the upright one."""
    from train.scenes import render_scene

    scene = render_scene("engraved", 1)
    rgb = cv2.cvtColor(scene.image, cv2.COLOR_BGR2RGB)
    upright = tmp_path / "upright.png"
    Image.fromarray(rgb).save(upright)
    sideways = tmp_path / "phone photo.png"
    exif = Image.Exif()
    exif[0x0112] = 6                                     # "rotate 90 degrees clockwise to view"
    Image.fromarray(np.rot90(rgb, 1)).save(sideways, exif=exif)
    model = ("--model", tiny_model) if _PROBLEM else ()   # the shipped model when it loads
    p = run_cli("--json", *model, upright, sideways)
    assert_no_traceback(p)
    a, b = rows(p)
    assert a.pop("file") == str(upright) and b.pop("file") == str(sideways)
    assert a == b
    if not _PROBLEM:
        assert a["vin"] is not None


def test_paths_with_spaces_and_non_ascii(tiny_model, tmp_path):
    d = tmp_path / "fotos del coche ü"
    a = write(d / "Fahrzeug-Ident Nr ☃ ü.png", blank())
    b = write(d / "日本語 ファイル.jpg", blank())
    p = run_cli("--json", "--model", tiny_model, a, d)
    assert_no_traceback(p)
    assert p.returncode == ExitCode.NOT_FOUND and p.stderr == ""
    assert [r["file"] for r in rows(p)] == [str(a), str(a), str(b)]
    t = run_cli("--model", tiny_model, b)
    assert t.stdout == f"-\tnot-found\t{b}\n"


def test_file_name_that_is_not_utf8(tiny_model, tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9 \xff.png"
    ok, buf = cv2.imencode(".png", blank())
    with open(raw, "wb") as f:
        f.write(buf.tobytes())
    p = subprocess.run([sys.executable, "-m", "vinread", "--model", str(tiny_model), raw],
                       capture_output=True, timeout=120)
    assert b"Traceback" not in p.stderr and p.returncode == ExitCode.NOT_FOUND
    assert p.stdout == b"-\tnot-found\t" + raw + b"\n"          # the name's own bytes
    j = subprocess.run([sys.executable, "-m", "vinread", "--json", "--model", str(tiny_model), raw],
                       capture_output=True, timeout=120)
    assert os.fsencode(json.loads(j.stdout)["file"]) == raw      # valid JSON, name escaped


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading; "
                           "test_unreadable_file_in_process simulates it instead")
def test_unreadable_file(tiny_model, goods, tmp_path):
    bad = write(tmp_path / "secret.png", blank())
    bad.chmod(0)
    try:
        check_bad_between_goods(tiny_model, goods, bad, "permission denied")
    finally:
        bad.chmod(0o644)


def test_unreadable_file_in_process(tiny_model, goods, tmp_path, monkeypatch):
    """The real CLI code in this process, with ``open`` failing as for a file root cannot read."""
    from click.testing import CliRunner

    from vinread import images
    from vinread.cli import cli

    bad = write(tmp_path / "secret.png", blank())
    real_open = images._open

    def fake_open(path, mode="rb"):
        if Path(path) == bad:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode)

    monkeypatch.setattr(images, "_open", fake_open)
    monkeypatch.setattr(images, "QUIET_NATIVE", False)
    result = CliRunner().invoke(cli, ["--json", "--model", str(tiny_model), str(goods[0]), str(bad),
                                      str(goods[1])])
    assert result.exit_code == ExitCode.UNREADABLE, result.output
    out = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert [r["status"] for r in out] == ["not_found", "error", "not_found"]
    assert out[1]["error"] == {"code": "unreadable", "message": "permission denied"}
    assert result.stderr == f"vinread: {bad}: permission denied\n"


def test_special_file_is_refused_without_blocking(tiny_model, goods, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)                                      # opening it would wait for a writer
    check_bad_between_goods(tiny_model, goods, fifo, "not a regular file")


# --------------------------------------------------------------------------- the model file

@pytest.fixture(scope="module")
def wrong_shape_model(tmp_path_factory) -> Path:
    """A valid .tflite file whose input is 32x32 instead of 28x28."""
    tf = pytest.importorskip("tensorflow")
    inp = tf.keras.Input((32, 32, 1), batch_size=1)
    x = tf.keras.layers.Flatten()(inp)
    model = tf.keras.Model(inp, [tf.keras.layers.Dense(33, activation="softmax")(x),
                                 tf.keras.layers.Dense(1, activation="sigmoid")(x)])
    out = tmp_path_factory.mktemp("wrong") / "wrong.tflite"
    out.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return out


@pytest.mark.parametrize("case", ["missing", "truncated", "wrong-shape"])
def test_model_problems_exit_4_naming_the_file(tmp_path, tiny_model, wrong_shape_model, case, goods):
    model = {"missing": tmp_path / "no model.tflite", "truncated": tmp_path / "cut.tflite",
             "wrong-shape": wrong_shape_model}[case]
    if case == "truncated":
        model.write_bytes(tiny_model.read_bytes()[:2000])
    for mode in ((), ("--single",), ("--json",)):
        p = run_cli(*mode, "--model", model, *goods)
        assert_no_traceback(p)
        assert p.returncode == ExitCode.MODEL
        err = stderr_lines(p)
        assert len(err) == 1 and str(model) in err[0] and err[0].startswith("vinread: cannot load the model")
        assert p.stdout == ""


# --------------------------------------------------------------------------- images without a VIN

def _landscape(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = 480, 720
    low = cv2.resize(rng.random((6, 9)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tex = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.5)
    sky = np.linspace(1, 0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    g = np.clip(0.5 * low + 0.3 * tex + 0.3 * sky, 0, 1)
    return np.stack([g * 200, g * 180 + 30 * sky, g * 120], -1).astype(np.uint8)


def _font(size: int):
    from PIL import ImageFont

    from train.fonts import font_paths

    mono = [p for p in font_paths() if "Mono" in Path(p).name and "Oblique" not in p]
    if not mono:
        pytest.skip("no monospaced TrueType font on this machine")
    return ImageFont.truetype(mono[0], size)


def _page_of_text(seed: int) -> np.ndarray:
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    words = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
             "incididunt ut labore et dolore magna aliqua. Invoice total 118.40 paid 2024").split()
    im = Image.new("L", (900, 700), 255)
    draw = ImageDraw.Draw(im)
    font = _font(20)
    for y in range(30, 670, 30):
        draw.text((30, y), " ".join(rng.choice(words, 8)), font=font, fill=0)
    return cv2.cvtColor(np.asarray(im), cv2.COLOR_GRAY2BGR)


@needs_shipped
@pytest.mark.parametrize("kind", ["blank", "landscape"])
def test_image_without_a_vin_is_not_found(tmp_path, kind):
    img = blank(600, 800) if kind == "blank" else _landscape(0)
    path = write(tmp_path / f"{kind}.jpg", img)
    p = run_cli(path)
    assert_no_traceback(p)
    assert p.returncode == ExitCode.NOT_FOUND and p.stdout == f"-\tnot-found\t{path}\n"


@needs_shipped
def test_page_of_other_text_is_not_found(tmp_path):
    path = write(tmp_path / "page.png", _page_of_text(0))
    p = run_cli("--json", path)
    assert_no_traceback(p)
    (r,) = rows(p)
    assert r["vin"] is None and p.returncode == ExitCode.NOT_FOUND
    # the withheld reading is named, and --min-confidence 0 reports it after all
    withheld = [w for w in r["warnings"] if w.startswith("best reading ")]
    if withheld:
        vin = withheld[0].split()[2]
        q = run_cli("--json", "--min-confidence", "0", path)
        assert rows(q)[0]["vin"] == vin and rows(q)[0]["confidence"] < MIN_CONFIDENCE


@needs_shipped
def test_two_vins_report_the_best_and_warn(tmp_path):
    from PIL import ImageDraw

    vins = ("1M8GDM9AXKP042788", "1HGCM82633A004352")
    im = Image.new("L", (1100, 420), 255)
    draw = ImageDraw.Draw(im)
    font = _font(44)
    draw.text((40, 60), vins[0], font=font, fill=0)
    draw.text((40, 280), vins[1], font=font, fill=0)
    path = tmp_path / "two.png"
    im.save(path)
    p = run_cli("--json", path)
    assert_no_traceback(p)
    (r,) = rows(p)
    if r["vin"] not in vins:
        pytest.skip(f"the shipped model does not read the rendered VINs (read {r['vin']})")
    other = vins[1 - vins.index(r["vin"])]
    assert r["status"] == "valid" and p.returncode == ExitCode.OK
    assert f"another VIN is also in the image: {other}" in r["warnings"]


# --------------------------------------------------------------------------- large batches

def _batch_dir(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "batch"
    rng = np.random.default_rng(3)
    for i in range(n):
        img = np.full((90, 300, 3), 255, np.uint8)
        cv2.putText(img, "".join(rng.choice(list("ABC123"), 6)), (10, 60), cv2.FONT_HERSHEY_SIMPLEX,
                    1.5, (0, 0, 0), 3)
        write(d / f"img{i:03d}.png", img)
    return d


def test_json_lines_are_streamed_and_flushed_one_per_input(tiny_model, tmp_path):
    d = _batch_dir(tmp_path, 6)
    (d / "zz-broken.png").write_bytes(b"\x89PNG broken")
    proc = subprocess.Popen([sys.executable, "-m", "vinread", "--json", "--model", str(tiny_model), d],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default)
    try:
        first = proc.stdout.readline()      # arrives while the process still runs the batch
        assert json.loads(first)["file"] == str(d / "img000.png")
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    lines = [first] + rest.splitlines(keepends=True)
    assert len(lines) == 7 and all(ln.endswith("\n") for ln in lines)
    assert [json.loads(ln)["file"] for ln in lines] == [str(p) for p in sorted(d.iterdir())]
    assert proc.returncode == ExitCode.UNREADABLE and "Traceback" not in err


def test_progress_only_when_stderr_is_a_terminal(tiny_model, tmp_path):
    d = _batch_dir(tmp_path, 3)
    piped = run_cli("--model", tiny_model, d)
    assert piped.stderr == "" and "\r" not in piped.stdout
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "vinread", "--model", str(tiny_model), d],
                                stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        out, _ = proc.communicate(timeout=120)
        tty = b""
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
    finally:
        os.close(master)
    assert proc.returncode == ExitCode.NOT_FOUND
    assert len(out.splitlines()) == 3 and "\r" not in out and "[" not in out
    text = tty.decode()
    for i in (1, 2, 3):
        assert f"\r[{i}/3] img{i - 1:03d}.png\x1b[K" in text
    assert text.endswith("\r\x1b[K")                      # the bar is cleared at the end


def _sigint_default():
    """Children of a background job start with SIGINT ignored; a user's terminal does not."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly_with_130(tiny_model, tmp_path):
    d = _batch_dir(tmp_path, 40)
    proc = subprocess.Popen([sys.executable, "-m", "vinread", "--json", "--model", str(tiny_model), d],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default)
    try:
        first = proc.stdout.readline()                   # the batch is under way
        assert first.endswith("\n")
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert err == "vinread: interrupted\n"
    lines = [first] + rest.splitlines(keepends=True)
    assert 1 <= len(lines) < 40
    assert all(ln.endswith("\n") and json.loads(ln)["file"] for ln in lines)   # no half line


def test_ctrl_c_while_single_batches_run(tiny_model, tmp_path):
    d = _batch_dir(tmp_path, 3)
    proc = subprocess.Popen([sys.executable, "-m", "vinread", "--single", "--model", str(tiny_model),
                             *[d] * 1000], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default)
    try:
        first = proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED and err == "vinread: interrupted\n", err
    assert all(ln.endswith("\n") for ln in [first] + rest.splitlines(keepends=True))


def test_broken_pipe_is_quiet(tiny_model, tmp_path):
    d = _batch_dir(tmp_path, 3)
    cmd = f"{sys.executable} -m vinread --single --model '{tiny_model}' {' '.join([str(d)] * 200)} | head -1"
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert len(p.stdout.splitlines()) == 1 and p.stderr == "", p.stderr


# --------------------------------------------------------------------------- bounded resources

def test_large_jpeg_is_decoded_reduced(tmp_path):
    img = np.full((3000, 4000, 3), 200, np.uint8)          # 12 MP
    cv2.putText(img, "REDUCED", (400, 1500), cv2.FONT_HERSHEY_SIMPLEX, 20, (0, 0, 0), 40)
    path = write(tmp_path / "phone.jpg", img)
    got = load_image(path)
    assert got.image.shape == (1500, 2000, 3) and got.scale == 0.5 and got.size == (4000, 3000)
    wide = write(tmp_path / "wide.png", np.full((100, 7000, 3), 200, np.uint8))
    got = load_image(wide)
    assert max(got.image.shape) == MAX_SIDE and got.size == (7000, 100)
    assert load_image(wide, max_side=None).image.shape == (100, 7000, 3)


def test_boxes_are_in_original_pixels(tiny_model, tmp_path, monkeypatch):
    """The CLI reads a reduced image but reports boxes in the original image's pixels."""
    from click.testing import CliRunner

    from vinread import pipeline
    from vinread.cli import cli

    seen = {}

    def fake_read(self, result, image):
        seen["shape"] = image.shape
        result.vin, result.status, result.valid = "1HGCM82633A004352", "valid", True
        result.boxes = [[100, 50, 10, 20]]

    monkeypatch.setattr(pipeline.Reader, "_read", fake_read)
    path = write(tmp_path / "big.jpg", np.full((3000, 4000, 3), 200, np.uint8))
    result = CliRunner().invoke(cli, ["--json", "--model", str(tiny_model), str(path)])
    assert seen["shape"] == (1500, 2000, 3)
    assert json.loads(result.stdout)["boxes"] == [[200, 100, 20, 40]]
    assert json.loads(result.stdout)["file"] == str(path)


def test_an_exception_in_the_pipeline_is_one_error_not_a_traceback(tiny_model, goods, tmp_path,
                                                                   monkeypatch):
    from click.testing import CliRunner

    from vinread import pipeline
    from vinread.cli import cli

    real = pipeline.Reader._read
    boom = write(tmp_path / "boom.png", blank(100, 200))

    def flaky(self, result, image):
        if image.shape[:2] == (100, 200):
            raise cv2.error("OpenCV(5.0) some assertion\nsecond line")
        return real(self, result, image)

    monkeypatch.setattr(pipeline.Reader, "_read", flaky)
    result = CliRunner().invoke(cli, ["--json", "--model", str(tiny_model), str(goods[0]), str(boom),
                                      str(goods[1])])
    out = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert [r["status"] for r in out] == ["not_found", "error", "not_found"]
    assert out[1]["error"]["code"] == "internal" and "\n" not in out[1]["error"]["message"]
    assert result.exit_code == ExitCode.UNREADABLE
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_single_mode_goes_through_the_same_checks(tiny_model, tmp_path):
    """``--single`` batches meet every bad input with the same one-line error and go on."""
    d = tmp_path / "single"
    good = write(d / "good.png", glyph_image("7"))
    empty_dir = d / "no images"
    empty_dir.mkdir()
    bad = {
        d / "missing.png": "no such file or directory",
        empty_dir: "no image files in directory",
        d / "empty.png": "empty file",
        d / "trunc.png": "corrupt or truncated PNG image",
        d / "random.jpg": "not an image",
        d / "one.png": "image too small: 1x1 pixels",
        d / "zero.png": "image too small: 0x0 pixels",
        d / "bomb.png": "image too large: 100000x100000 pixels",
        d / "fifo.png": "not a regular file",
    }
    (d / "empty.png").write_bytes(b"")
    (d / "trunc.png").write_bytes(write(d / "full.png", glyph_image("4")).read_bytes()[:200])
    (d / "random.jpg").write_bytes(np.random.default_rng(5).bytes(3000))
    write(d / "one.png", np.zeros((1, 1), np.uint8))
    (d / "zero.png").write_bytes(png_claiming(0, 0))
    (d / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    os.mkfifo(d / "fifo.png")
    args = [good]
    for path in bad:
        args += [path, good]
    p = run_cli("--single", "--json", "--model", tiny_model, *args)
    assert_no_traceback(p)
    assert p.returncode == ExitCode.UNREADABLE
    out = rows(p)
    assert [r["file"] for r in out] == [str(a) for a in args]
    assert all(r["error"] is None and r["char"] for r in out[::2])          # every good one read
    err = stderr_lines(p)
    assert len(err) == len(bad)
    for row, line, (path, message) in zip(out[1::2], err, bad.items()):
        assert row["error"]["code"] == "unreadable" and message in row["error"]["message"], row
        assert line == f"vinread: {path}: {row['error']['message']}"
    t = run_cli("--single", "--model", tiny_model, *args)
    assert t.returncode == ExitCode.UNREADABLE and t.stderr == p.stderr
    assert len(t.stdout.splitlines()) == len(bad) + 1                        # the good ones


def test_even_exposure_spreads_dim_photos_only():
    """A dim photo's grey levels are spread over the scale (at most MAX_EXPOSURE_GAIN times,
    alike in every channel); a well-exposed photo and non-uint8 arrays come back as they are."""
    from vinread.images import MAX_EXPOSURE_GAIN, even_exposure

    rng = np.random.default_rng(0)
    full = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    assert even_exposure(full) is full
    floats = full.astype(np.float32) / 255 * 0.2
    assert even_exposure(floats) is floats
    dim = (full * 0.3).astype(np.uint8)                       # 0..76
    out = even_exposure(dim)
    assert out.shape == dim.shape and out.dtype == np.uint8
    assert out.min() <= 3 and out.max() >= 250
    order = np.argsort(dim.ravel(), kind="stable")           # a monotone map of the levels
    assert np.all(np.diff(out.ravel()[order].astype(int)) >= 0)
    assert len({int(v) for c in range(3) for v in out[:, :, c][dim[:, :, c] == 40]}) == 1
    flat = (100 + full // 16).astype(np.uint8)                # 16 levels: the gain is capped
    spread = even_exposure(flat).astype(int)
    assert spread.max() - spread.min() <= 16 * MAX_EXPOSURE_GAIN + 1
    assert abs(spread.mean() - 127.5) < abs(flat.mean() - 127.5) + 5   # centred, not clipped
    bgra = np.dstack([dim, np.full(dim.shape[:2], 7, np.uint8)])
    assert np.array_equal(even_exposure(bgra)[:, :, 3], bgra[:, :, 3])
