"""Large-batch benchmark: 1 000 images read in one process, as ``vinread DIR`` reads them.

    python -m bench.batch                  # 1 000 images: ~40 scenes re-encoded, 12 MP photos, junk
    python -m bench.batch --n 200 --keep /tmp/batch --model other.tflite

The images are generated first (``train.scenes.render_scene`` for a few dozen distinct scenes,
each written several times: JPEG at several qualities, PNG, WebP, rescaled, some as 12-megapixel
phone-size JPEGs; plus junk files: empty, truncated, random bytes, text, a decompression bomb).
Then one Reader goes through the folder with the CLI's own per-file path
(:func:`vinread.cli.read_one`) and the figures are printed: throughput, RSS at the start and the
end of the batch and along it, peak RSS. Prints figures only; nothing is asserted.
"""
from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import struct
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

import click
import cv2
import numpy as np


def rss_mb() -> float:
    """Current resident set size (VmRSS) in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bomb() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


def generate(out: Path, n: int, scenes: int, seed: int = 7) -> Counter:
    """Write ``n`` image files to ``out``; returns how many of each sort."""
    from train.scenes import KINDS, VARIANTS, render_scene

    rng = np.random.default_rng(seed)
    kinds: Counter = Counter()
    renders = []
    for i in range(scenes):
        s = render_scene(KINDS[i % len(KINDS)], seed + i, variant=VARIANTS[(i // len(KINDS)) % len(VARIANTS)])
        renders.append(s.image)
    junk = [("empty.jpg", b""), ("bomb.png", _bomb()), ("text.png", b"not an image\n" * 20),
            ("random.jpg", rng.bytes(20_000))]
    n_junk = n // 50
    k = 0
    while k < n:
        name = f"img{k:04d}"
        if k % 50 == 49 and n_junk:
            jname, data = junk[(k // 50) % len(junk)]
            if jname == "random.jpg":
                data = rng.bytes(20_000)
            (out / f"{name}-{jname}").write_bytes(data)
            kinds["junk"] += 1
            n_junk -= 1
        elif k % 50 == 7:                       # a 12 MP phone photo
            img = renders[k % len(renders)]
            big = cv2.resize(img, (4000, 3000), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(out / f"{name}-12mp.jpg"), big, [cv2.IMWRITE_JPEG_QUALITY, 90])
            kinds["12 MP jpeg"] += 1
        else:
            img = renders[k % len(renders)]
            form = k // len(renders) % 5
            if form == 0:
                cv2.imwrite(str(out / f"{name}.png"), img)
                kinds["png"] += 1
            elif form == 1:
                cv2.imwrite(str(out / f"{name}.webp"), img, [cv2.IMWRITE_WEBP_QUALITY, 90])
                kinds["webp"] += 1
            elif form == 2:
                s = rng.uniform(0.7, 1.3)
                small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                cv2.imwrite(str(out / f"{name}.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 85])
                kinds["jpeg rescaled"] += 1
            else:
                q = int(rng.integers(60, 96))
                cv2.imwrite(str(out / f"{name}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, q])
                kinds["jpeg"] += 1
        k += 1
    return kinds


@click.command()
@click.option("--n", default=1000, show_default=True, help="Images in the batch.")
@click.option("--scenes", default=40, show_default=True, help="Distinct rendered scenes.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Write the images here (kept) instead of a temporary folder.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Another .tflite glyph model [default: the shipped one].")
def main(n, scenes, keep, model_path):
    """Generate a large batch and read it in one process; print throughput and memory."""
    from vinread import Reader, __version__
    from vinread.cli import read_one
    from vinread import images
    from vinread.images import iter_inputs

    images.QUIET_NATIVE = True          # as the CLI: no libpng/libjpeg chatter for the junk files
    tmp = None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        folder = keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="vinread-batch-")
        folder = Path(tmp.name)
    t0 = time.perf_counter()
    # generated in a child process, so the rendering's memory does not count in the reader's RSS
    with multiprocessing.get_context("fork").Pool(1) as pool:
        kinds = pool.apply(generate, (folder, n, scenes))
    gen_s = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    print(f"# vinread {__version__} batch benchmark ({platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()})")
    print(f"generated {n} files ({size_mb:.0f} MiB) in {gen_s:.0f} s: "
          + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))

    reader = Reader(model_path)
    statuses: Counter = Counter()
    along = []
    start_rss = rss_mb()
    print(f"RSS before the batch (model loaded): {start_rss:.0f} MiB")
    t0 = time.perf_counter()
    times = []
    for i, item in enumerate(iter_inputs([folder])):
        t = time.perf_counter()
        res = read_one(reader, item.path)
        times.append(time.perf_counter() - t)
        statuses[res.status] += 1
        if i == 9:
            print(f"RSS after 10 images: {rss_mb():.0f} MiB (peak {peak_mb():.0f} MiB)")
        if (i + 1) % 100 == 0:
            along.append((i + 1, rss_mb()))
            print(f"\r[batch] {i + 1}/{n}", end="", file=sys.stderr, flush=True)
    total = time.perf_counter() - t0
    print(file=sys.stderr)
    done = sum(statuses.values())
    print(f"read {done} images in {total:.0f} s: {done / total:.2f} images/s, "
          f"median {np.median(times) * 1000:.0f} ms, p90 {np.percentile(times, 90) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    print("results: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())))
    print("RSS along the batch (MiB): " + ", ".join(f"{k}: {v:.0f}" for k, v in along))
    print(f"RSS at the end of the batch: {rss_mb():.0f} MiB; peak RSS: {peak_mb():.0f} MiB")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
