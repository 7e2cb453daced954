"""Whole-VIN reading benchmark: generated scenes of every kind, and the real photos when present.

    python -m bench.read                    # 40 scenes per kind (200), fixed seeds
    python -m bench.read --per-kind 10 --no-real
    python -m bench.read --kinds sticker,plate --turn 90   # every photo turned 90 degrees
    python -m bench.read --degrade gradient                # every photo lit unevenly (bench/degrade.py)
    python -m bench.read --time-limit 2                    # what a 2 s limit per photo costs

Prints, per set: exact-VIN rate, character accuracy, check-digit-valid rate,
confident wrong reads (valid, no low-confidence position, but wrong), not found,
how many were read from the barcode (alone or agreeing with the OCR), and warm
time per photo (median, p90).
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import click
import numpy as np

from bench import sets
from bench.degrade import DEGRADATIONS

HERE = Path(__file__).resolve().parent


def score(rows: list[dict]) -> dict:
    """Aggregate figures of a list of per-image rows."""
    n = len(rows)
    chars = [sum(a == b for a, b in zip(r["vin"] or "", r["truth"])) / 17 for r in rows]
    times = [r["ms"] for r in rows]
    return {
        "n": n,
        "exact": sum(r["vin"] == r["truth"] for r in rows) / n,
        "char_acc": float(np.mean(chars)),
        "valid": sum(r["valid"] for r in rows) / n,
        "confident_wrong": sum(r["valid"] and not r["low"] and r["vin"] != r["truth"] for r in rows),
        "wrong_valid": sum(r["valid"] and r["vin"] != r["truth"] for r in rows),
        "not_found": sum(r["vin"] is None for r in rows),
        "barcode": sum(r.get("source") in ("barcode", "both") for r in rows),
        "median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)),
    }


@click.command()
@click.option("--per-kind", default=40, show_default=True, help="Generated scenes per kind.")
@click.option("--seed", default=10_000, show_default=True)
@click.option("--real/--no-real", default=True, help="Also read ../shared/dev/vin when present.")
@click.option("--json-out", type=click.Path(path_type=Path), help="Write every prediction here.")
@click.option("--kinds", default=None, help="Comma-separated scene kinds [default: all].")
@click.option("--turn", type=click.Choice(["0", "90", "180", "270"]), default="0",
              help="Turn every photo clockwise by this many degrees before reading it.")
@click.option("--degrade", type=click.Choice(sorted(DEGRADATIONS)), default=None,
              help="Degrade every photo this way before reading it (bench/degrade.py).")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A .tflite glyph model [default: the shipped one].")
@click.option("--time-limit", type=click.FloatRange(0), default=None, metavar="SECONDS",
              help="Read with this time limit per photo (Reader(time_limit=...)) [default: none].")
@click.option("-v", "--verbose", is_flag=True, help="Print each miss on stderr.")
def main(per_kind, seed, real, json_out, kinds, turn, degrade, model, time_limit, verbose):
    """Run vinread over the benchmark sets and print a table."""
    from vinread import Reader
    from vinread.images import load_image

    reader = Reader(model, time_limit=time_limit)
    rows = []
    items = sets.write_scenes(HERE / "out" / "scenes", per_kind, seed) if per_kind else []
    if kinds:
        items = [it for it in items if it["set"].split()[-1] in kinds.split(",")]
    if real:
        items += sets.real_vins()
    turns = {"0": None, "90": 3, "180": 2, "270": 1}[turn]       # np.rot90 counts anticlockwise
    for i, item in enumerate(items):
        name, kind, truth = Path(item["path"]).name, item["set"], item["truth"]
        photo = item["path"]
        if degrade or turns is not None:
            photo = load_image(photo).image
            photo = DEGRADATIONS[degrade](photo) if degrade else photo
            photo = np.ascontiguousarray(np.rot90(photo, turns)) if turns is not None else photo
        t = time.perf_counter()
        res = reader.read_vin(photo)
        ms = (time.perf_counter() - t) * 1000
        rows.append({"name": name, "kind": kind, "truth": truth, "vin": res.vin, "valid": res.valid,
                     "low": bool(res.low_confidence_positions), "confidence": res.confidence, "ms": ms,
                     "source": (res.barcode or {}).get("source")})
        if verbose and res.vin != truth:
            print(f"miss {name}: {res.vin} != {truth} ({res.status})", file=sys.stderr)
        print(f"\r[bench] {i + 1}/{len(items)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if json_out:
        json_out.write_text(json.dumps(rows, indent=1))
    by_kind = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    synthetic = [r for r in rows if r["kind"].startswith("scene")]
    realrows = [r for r in rows if r["kind"].startswith("real")]
    print(f"# vinread reading benchmark ({platform.machine()}, {os.cpu_count()} cores, warm process"
          + (f", photos turned {turn} degrees" if turns is not None else "")
          + (f", photos degraded: {degrade}" if degrade else "")
          + (f", time limit {time_limit:g} s per photo" if time_limit is not None else "") + ")")
    print()
    print("| set | images | exact VIN | char acc | valid | wrong+valid | confident wrong | not found | "
          "barcode | median ms | p90 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    groups = sorted(by_kind.items()) + [("all generated", synthetic), ("all real", realrows)]
    for name, rs in groups:
        if not rs:
            continue
        s = score(rs)
        print(f"| {name} | {s['n']} | {s['exact']:.3f} | {s['char_acc']:.4f} | {s['valid']:.3f} | "
              f"{s['wrong_valid']} | {s['confident_wrong']} | {s['not_found']} | {s['barcode']} | "
              f"{s['median_ms']:.0f} | {s['p90_ms']:.0f} |")


if __name__ == "__main__":
    main()
