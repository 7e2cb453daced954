"""One engine over a list of items, in its own process (so its peak memory is its own).

    python -m bench.worker ENGINE ITEMS.json OUT.json
"""
from __future__ import annotations

import json
import resource
import sys
import time

import cv2


def main(engine_name: str, items_path: str, out_path: str) -> None:
    from bench.engines import make_engine

    items = json.loads(open(items_path).read())
    engine = make_engine(engine_name)
    rows = []
    for i, item in enumerate(items):
        single = item["set"].startswith("single")
        img = cv2.imread(item["path"], cv2.IMREAD_COLOR)
        t = time.perf_counter()
        try:
            pred = engine.read_char(img) if single else engine.read(img)
            error = None
        except Exception as exc:  # a peer failing on one image is a miss, not the end of the run
            pred, error = None, f"{type(exc).__name__}: {exc}"
        ms = (time.perf_counter() - t) * 1000
        rows.append({**item, "engine": engine_name, "pred": pred, "ms": round(ms, 2), "error": error})
        print(f"\r[{engine_name}] {i + 1}/{len(items)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # Tesseract runs as child processes: its memory is theirs, not this driver's.
    peak = kids_mb if engine_name.startswith("tesseract") else peak_mb
    json.dump({"engine": engine_name, "rows": rows, "peak_rss_mb": round(peak, 1)},
              open(out_path, "w"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
