"""Fuzzing: hundreds of corrupted and random image files thrown at the reader and the CLI.

Seeded mutations (truncation, bit flips, overwritten, inserted, deleted and spliced spans,
header fields set to wild sizes, random bytes behind a real signature) of small valid images in
every supported format. The pipeline (in-process :class:`vinread.Reader`) must answer each with
a result or an :class:`ImageReadError`, never another exception, and in bounded time; the CLI,
in a few batched subprocesses, must print one whole JSON line per input and no traceback.
"""
from __future__ import annotations

import hashlib
import json
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

from conftest import ROOT
from vinread.cli import ExitCode
from vinread.images import ImageReadError, decode_image

N_CASES = 520
SEED = 20260601
PER_CASE_S = 60
"""A case taking longer than this counts as a hang."""
SUFFIXES = (".png", ".jpg", ".bmp", ".webp", ".tif", ".gif", ".ppm", ".pgm", ".jp2")


def _bases() -> list[tuple[str, bytes]]:
    """Small valid images (text on a light background) in every format, gray and colour."""
    out = []
    for i, suffix in enumerate(SUFFIXES):
        img = np.full((72, 240, 3), 235, np.uint8)
        cv2.putText(img, "1HG" + "CM8"[i % 3] + "2633", (6, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.2,
                    (20, 20, 20), 3)
        if suffix == ".pgm":
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if suffix == ".gif":
            from PIL import Image
            import io

            buf = io.BytesIO()
            Image.fromarray(img[:, :, ::-1]).save(buf, "GIF")
            out.append((suffix, buf.getvalue()))
            continue
        ok, buf = cv2.imencode(suffix, img)
        assert ok, suffix
        out.append((suffix, buf.tobytes()))
    return out


def _png_with_size(w: int, h: int) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _mutate(rng: np.random.Generator, data: bytes, other: bytes) -> tuple[str, bytes]:
    d = bytearray(data)
    n = len(d)
    op = int(rng.integers(11))
    if op == 0:
        return "truncate", bytes(d[: int(rng.integers(0, n))])
    if op == 1:
        for _ in range(int(rng.integers(1, 24))):
            d[int(rng.integers(n))] ^= 1 << int(rng.integers(8))
        return "bitflip", bytes(d)
    if op == 2:
        for _ in range(int(rng.integers(1, 6))):
            d[int(rng.integers(min(n, 64)))] = int(rng.integers(256))
        return "header", bytes(d)
    if op == 3:
        i = int(rng.integers(n))
        span = rng.bytes(int(rng.integers(1, 256)))
        d[i:i + len(span)] = span
        return "overwrite", bytes(d[:n])
    if op == 4:
        i = int(rng.integers(n))
        return "insert", bytes(d[:i]) + rng.bytes(int(rng.integers(1, 512))) + bytes(d[i:])
    if op == 5:
        i = int(rng.integers(n))
        return "delete", bytes(d[:i]) + bytes(d[i + int(rng.integers(1, 512)):])
    if op == 6:
        i, j = sorted(int(v) for v in rng.integers(0, n, 2))
        return "duplicate", bytes(d[:j]) + bytes(d[i:j]) + bytes(d[j:])
    if op == 7:
        return "splice", bytes(d[: int(rng.integers(n))]) + other[int(rng.integers(len(other))):]
    if op == 8:
        return "random", data[:4] + rng.bytes(int(rng.integers(0, 4096)))
    if op == 9:
        w, h = (int(v) for v in rng.choice([0, 1, 2, 3, 7, 65535, 100_000, 2**31 - 1], 2))
        return "png-size", _png_with_size(w, h)
    # a JPEG/other file with 16-bit size fields rewritten near the start
    for _ in range(2):
        i = int(rng.integers(min(n - 2, 200)))
        d[i:i + 2] = struct.pack(">H", int(rng.choice([0, 1, 0xFFFF, int(rng.integers(65536))])))
    return "size-field", bytes(d)


def cases(n: int = N_CASES, seed: int = SEED) -> list[tuple[str, bytes]]:
    """``n`` (file name, bytes) pairs: corrupted variants of valid images and random files."""
    rng = np.random.default_rng(seed)
    bases = _bases()
    out = []
    for k in range(n):
        suffix, data = bases[k % len(bases)]
        other = bases[int(rng.integers(len(bases)))][1]
        if k % 130 == 129:     # now and then random pixels in a valid file: a real, VIN-less photo
            h, w = (int(v) for v in rng.integers(2, 90, 2))
            ok, buf = cv2.imencode(".png", rng.integers(0, 256, (h, w, 3), np.uint8))
            name, blob = "noise", buf.tobytes()
            suffix = ".png"
        else:
            name, blob = _mutate(rng, data, other)
        out.append((f"case{k:03d}-{name}{suffix}", blob))
    return out


@pytest.fixture(scope="module")
def model_path(tiny_model) -> Path:
    """The tiny untrained model: the fuzz is about code paths, and it keeps the file under a minute
    (the shipped model's search reads far more candidate lines on noise-like images)."""
    return tiny_model


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    for name, blob in cases():
        (d / name).write_bytes(blob)
    return d


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def test_cases_are_many_distinct_and_some_decode():
    cs = cases()
    assert len(cs) >= 500
    assert len({hashlib.sha256(b).hexdigest() for _, b in cs}) > 480
    decoded = 0
    for _, blob in cs:
        try:
            decode_image(blob)
            decoded += 1
        except ImageReadError:
            pass
    assert 50 < decoded < len(cs) - 50            # both paths are exercised


def test_fuzz_cli_and_reader(model_path, fuzz_dir):
    """The CLI (3 batched processes, run while the in-process Reader works through the same files
    on the other core) and the Reader answer every case; nothing raises, hangs or tracebacks."""
    from vinread import Reader

    names = sorted(p.name for p in fuzz_dir.iterdir())
    half = len(names) // 2
    procs = [subprocess.Popen([sys.executable, "-m", "vinread", "--json", "--model", str(model_path),
                               *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args in ([str(fuzz_dir / n) for n in names[:half]],
                          [str(fuzz_dir / n) for n in names[half:]],
                          ["--single", str(fuzz_dir)])]
    try:
        reader = Reader(model_path)
        old = signal.signal(signal.SIGALRM, _alarm)
        slow, answered = [], 0
        try:
            for name in names:
                blob = (fuzz_dir / name).read_bytes()
                start = time.monotonic()
                signal.alarm(PER_CASE_S)
                try:
                    try:
                        img = decode_image(blob)
                    except ImageReadError as exc:
                        assert str(exc) and "\n" not in str(exc)
                    else:
                        res = reader.read_vin(img.image)
                        assert res.status in ("valid", "invalid", "not_found"), name
                        assert res.vin is None or len(res.vin) == 17
                    try:
                        glyph = decode_image(blob, cv2.IMREAD_UNCHANGED).image
                    except ImageReadError:
                        pass
                    else:
                        (g,) = reader.classify([glyph])
                        assert g.error is None or g.error["code"] == "no_character", (name, g.error)
                except _Hang:
                    pytest.fail(f"{name}: no answer within {PER_CASE_S} s")
                finally:
                    signal.alarm(0)
                answered += 1
                if time.monotonic() - start > 5:
                    slow.append(name)
        finally:
            signal.signal(signal.SIGALRM, old)
        assert answered == len(names)
        outs = [p.communicate(timeout=900) for p in procs]
    finally:
        for p in procs:
            p.kill()
    seen = []
    for p, (out, err) in zip(procs, outs):
        assert "Traceback" not in err and "Traceback" not in out
        assert p.returncode in (ExitCode.OK, ExitCode.NOT_FOUND, ExitCode.UNREADABLE), err[-2000:]
        assert out.endswith("\n")
        rows = [json.loads(line) for line in out.splitlines()]      # every line whole JSON
        errors = [r for r in rows if r["error"]]
        assert all(r["error"]["code"] in ("unreadable", "no_character") for r in errors), errors[:3]
        err_lines = err.splitlines()
        assert len(err_lines) == len(errors)                        # one stderr line per bad input
        assert all(ln.startswith("vinread: ") for ln in err_lines)
        seen.append([Path(r["file"]).name for r in rows])
    assert seen[0] + seen[1] == names and seen[2] == names           # one answer per input, in order
    print(f"\n{len(names)} cases; slow (>5 s) in process: {slow}")
