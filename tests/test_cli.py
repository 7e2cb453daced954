import json
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import ROOT, assert_no_traceback, run_cli
from vinread import __version__
from vinread.cli import ExitCode


def write_glyph(path, char="7"):
    img = np.full((64, 48), 255, np.uint8)
    cv2.putText(img, char, (8, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 5)
    cv2.imwrite(str(path), img)
    return path


def test_exit_code_values_are_the_documented_ones():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130]
    readme = (ROOT / "README.md").read_text()
    for code in ExitCode:
        assert re.search(rf"\|\s*{int(code)}\s*\|", readme), f"exit code {int(code)} not in README"


def test_version_and_help():
    p = run_cli("--version")
    assert p.returncode == 0 and __version__ in p.stdout
    p = run_cli("--help")
    assert p.returncode == 0 and "--single" in p.stdout and "Examples" in p.stdout


@pytest.mark.parametrize("args", [(), ("--no-such-option", "x.jpg"), ("--low-confidence", "2", "x.jpg")])
def test_usage_errors_exit_2(args):
    p = run_cli(*args)
    assert p.returncode == ExitCode.USAGE
    assert p.stdout == ""
    assert_no_traceback(p)


def test_missing_model_exits_4_naming_the_file(tmp_path):
    img = write_glyph(tmp_path / "a.png")
    missing = tmp_path / "nope.tflite"
    p = run_cli("--model", missing, img)
    assert p.returncode == ExitCode.MODEL
    assert str(missing) in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert_no_traceback(p)


@pytest.mark.parametrize("content", [b"", b"not a model at all", None])
def test_broken_model_exits_4(tmp_path, tiny_model, content):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(tiny_model.read_bytes()[:1000] if content is None else content)
    p = run_cli("--single", "--model", bad, write_glyph(tmp_path / "a.png"))
    assert p.returncode == ExitCode.MODEL and str(bad) in p.stderr
    assert_no_traceback(p)


def test_single_format_to_the_byte(tmp_path, tiny_model):
    d = tmp_path / "images"
    d.mkdir()
    for name, ch in [("z.png", "Z"), ("a.png", "A"), ("m.jpg", "M")]:
        write_glyph(d / name, ch)
    (d / ".hidden.png").write_bytes(b"x")
    (d / "notes.txt").write_text("skip me")
    (d / "sub").mkdir()
    p = run_cli("--single", "--model", tiny_model, d)
    assert p.returncode == ExitCode.OK, p.stderr
    lines = p.stdout.splitlines()
    assert [ln.split(", ", 1)[1] for ln in lines] == [str(d / n) for n in ("a.png", "m.jpg", "z.png")]
    for ln in lines:
        assert re.fullmatch(r"\d{3}, .+", ln)
        code = int(ln[:3])
        assert chr(code) in "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    assert p.stdout.endswith("\n") and "\r" not in p.stdout


def test_single_json_shape_and_batch_goes_on(tmp_path, tiny_model):
    good = write_glyph(tmp_path / "g.png")
    missing = tmp_path / "missing.png"
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    p = run_cli("--single", "--json", "--model", tiny_model, missing, good, junk)
    assert p.returncode == ExitCode.UNREADABLE
    rows = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert [r["file"] for r in rows] == [str(missing), str(good), str(junk)]
    ok = rows[1]
    assert set(ok) >= {"file", "char", "ascii", "confidence", "alternatives", "error"}
    assert ok["error"] is None and ord(ok["char"]) == ok["ascii"] and 0 <= ok["confidence"] <= 1
    assert all(set(a) == {"char", "p"} for a in ok["alternatives"])
    assert rows[0]["error"]["code"] == "unreadable" and rows[2]["error"]["code"] == "unreadable"
    assert len(p.stderr.strip().splitlines()) == 2
    assert_no_traceback(p)


def test_blank_single_image_is_not_found(tmp_path, tiny_model):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((40, 40), 255, np.uint8))
    p = run_cli("--single", "--model", tiny_model, blank, write_glyph(tmp_path / "g.png"))
    assert p.returncode == ExitCode.NOT_FOUND
    assert len(p.stdout.splitlines()) == 1 and "blank.png" in p.stderr


@pytest.mark.parametrize("value", ["two", "0"])
def test_bad_thread_count_exits_4_in_one_line(tmp_path, tiny_model, value):
    p = run_cli("--single", "--model", tiny_model, write_glyph(tmp_path / "a.png"),
                env={"VINREAD_THREADS": value})
    assert p.returncode == ExitCode.MODEL
    assert "VINREAD_THREADS" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert_no_traceback(p)


def test_thread_count_comes_from_the_environment_or_the_cores(monkeypatch):
    from vinread.model import MAX_THREADS, default_threads

    monkeypatch.setenv("VINREAD_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.delenv("VINREAD_THREADS")
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert default_threads() == MAX_THREADS
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_threads() == 1


def _pipe(data: bytes, *args):
    return subprocess.run([sys.executable, "-m", "vinread", *map(str, args)], input=data,
                          capture_output=True, timeout=120)


def test_an_image_piped_into_standard_input_is_read_as_dash():
    truth = json.loads((ROOT / "samples" / "sticker.json").read_text())
    data = (ROOT / "samples" / truth["file"]).read_bytes()
    p = _pipe(data, "-")
    assert p.returncode == 0
    assert p.stdout.decode() == f"{truth['vin']}\tvalid\t-\n"
    # in a batch, the second '-' finds standard input spent: one error, the others still read
    plate = json.loads((ROOT / "samples" / "plate.json").read_text())
    p = _pipe(data, "--json", "-", ROOT / "samples" / plate["file"], "-")
    assert p.returncode == 3
    rows = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [r["vin"] for r in rows] == [truth["vin"], plate["vin"], None]
    assert rows[2]["error"]["message"] == "nothing on standard input"
    assert p.stderr.decode().strip().splitlines()[-1] == "vinread: -: nothing on standard input"


def test_nothing_piped_in_is_a_one_line_error():
    p = _pipe(b"", "-")
    assert p.returncode == 3 and p.stdout.decode() == "-\terror\t-\n"
    assert p.stderr.decode().strip() == "vinread: -: nothing on standard input"
    p = _pipe(b"not an image", "--single", "-")
    assert p.returncode == 3 and "Traceback" not in p.stderr.decode()


def test_time_limit_option(tmp_path):
    truth = json.loads((ROOT / "samples" / "plate.json").read_text())
    photo = tmp_path / "turned.png"
    cv2.imwrite(str(photo), cv2.rotate(cv2.imread(str(ROOT / "samples" / truth["file"])), cv2.ROTATE_90_CLOCKWISE))
    p = run_cli("--json", "--time-limit", "0", photo)
    assert_no_traceback(p)
    row = json.loads(p.stdout)
    assert "search stopped at the 0 s time limit: the photo was not searched in full" in row["warnings"]
    assert p.returncode == (ExitCode.OK if row["valid"] else ExitCode.NOT_FOUND)
    bad = run_cli("--time-limit", "-1", photo)
    assert bad.returncode == ExitCode.USAGE and bad.stdout == ""
    assert "--time-limit" in bad.stderr and "Traceback" not in bad.stderr
