"""Glyph classifier speed: ms per batch of 17 glyphs, LiteRT vs Keras, shipped vs original architecture.

    python -m bench.glyph_speed            # prints a table; needs the train extra for the Keras rows
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vinread.model import GlyphModel, default_model_path

BATCH = 17


def _time(fn, repeat: int = 200) -> tuple[float, float]:
    """(median, p90) milliseconds of ``fn()`` after a warm-up."""
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), float(np.percentile(times, 90))


def main() -> None:
    x = np.random.default_rng(0).random((BATCH, 28, 28, 1), np.float32)
    rows = []
    for threads in (1, 2):
        m = GlyphModel(default_model_path(), num_threads=threads)
        rows.append((f"shipped .tflite, LiteRT, {threads} thread(s)", *_time(lambda: m.predict(x))))
    try:
        import keras

        from train.export import to_tflite
        from train.model import build
    except ImportError:
        print("(Keras rows skipped: install the train extra)", file=sys.stderr)
    else:
        shipped = keras.models.load_model(default_model_path().with_suffix(".keras"), compile=False)
        rows.append(("shipped .keras, Keras predict_on_batch", *_time(lambda: shipped.predict_on_batch(x), 50)))
        original = build("original")
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "original.tflite"
            path.write_bytes(to_tflite(original))
            m = GlyphModel(path, num_threads=1)
            rows.append((f"original 5 M-param CNN ({original.count_params():,} params), LiteRT, 1 thread",
                         *_time(lambda: m.predict(x))))
        rows.append(("original 5 M-param CNN, Keras predict_on_batch",
                     *_time(lambda: original.predict_on_batch(x), 50)))
    print(f"# Glyph classifier: ms per batch of {BATCH} glyphs ({platform.machine()}, {os.cpu_count()} cores)")
    print()
    print("| model / runtime | median ms | p90 ms |")
    print("|---|---|---|")
    for name, med, p90 in rows:
        print(f"| {name} | {med:.2f} | {p90:.2f} |")


if __name__ == "__main__":
    main()
