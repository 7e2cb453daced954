"""``python -m bench``: vinread side by side with Tesseract and RapidOCR on the same images.

Writes ``bench/RESULTS.md`` (tables) and ``bench/predictions.json`` (every prediction).
Sets: generated scenes of every kind (fixed seeds, variants plain/lowres/blur/glare/skew),
single characters (synthetic printed and handwriting), and the real images of
``../shared/dev`` when present.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import click
import numpy as np

from bench import sets
from bench.engines import ENGINES, missing

HERE = Path(__file__).resolve().parent
COLD_SCRIPTS = {
    "vinread": "import sys; from vinread import read_vin; read_vin(sys.argv[1])",
    "rapidocr": ("import sys; from bench.engines import RapidOcrEngine; import cv2; "
                 "RapidOcrEngine().read(cv2.imread(sys.argv[1]))"),
}


def figures(rows: list[dict]) -> dict:
    """Exact rate, char accuracy, check-valid rate, wrong-but-valid, times of one engine on one set."""
    from vinread.vin import check

    n = len(rows)
    single = rows[0]["set"].startswith("single")
    exact = sum(r["pred"] == r["truth"] for r in rows) / n
    out = {"n": n, "exact": exact, "median_ms": statistics.median(r["ms"] for r in rows),
           "p90_ms": float(np.percentile([r["ms"] for r in rows], 90))}
    if not single:
        out["char_acc"] = float(np.mean([sum(a == b for a, b in zip(r["pred"] or "", r["truth"])) / 17
                                         for r in rows]))
        checks = [check(r["pred"]) if r["pred"] else None for r in rows]
        out["valid"] = sum(bool(c and c.valid and c.check_digit_ok) for c in checks) / n
        out["wrong_valid"] = sum(bool(c and c.valid and r["pred"] != r["truth"]) for c, r in zip(checks, rows))
    return out


def speed_probe(rounds: int = 3) -> float:
    """Milliseconds this machine takes for a fixed CPU workload (numpy sorts and a Python
    loop; the best of ``rounds``): rows reused from another run compare by it."""
    a = np.random.default_rng(0).random((400, 2000))
    best = np.inf
    for _ in range(rounds):
        t = time.perf_counter()
        np.sort(a, axis=1)
        sum(i * i for i in range(300_000))
        best = min(best, time.perf_counter() - t)
    return best * 1000


def cold_ms(engine: str, image: str) -> float | None:
    """Wall time of a new process reading one image."""
    if engine.startswith("tesseract"):
        cmd = ["tesseract", image, "stdout", "--psm", engine[len("tesseract"):]]
    elif engine in COLD_SCRIPTS:
        cmd = [sys.executable, "-c", COLD_SCRIPTS[engine], image]
    else:
        return None
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, cwd=HERE.parent, timeout=300)
    return (time.perf_counter() - t) * 1000


def available(names: list[str], lacking: list[str], reused: Path | None = None) -> list[str]:
    """The engines of ``names`` that can be had: vinread, the peers not named in ``lacking``
    (:func:`bench.engines.missing`'s lines), and those whose results are in ``reused``."""
    return [e for e in names if e == "vinread" or (reused is not None and (reused / f"{e}.json").is_file())
            or not any(e[:5] in m.lower() for m in lacking)]


@click.command()
@click.option("--per-kind", default=40, show_default=True, help="Generated scenes per kind (5 kinds).")
@click.option("--singles", default=165, show_default=True, help="Single characters per style.")
@click.option("--engines", default=",".join(ENGINES), show_default=True)
@click.option("--real/--no-real", default=True, help="Include ../shared/dev when present.")
@click.option("--reuse", is_flag=True, help="Reuse an engine's results already in the work folder.")
@click.option("--work", type=click.Path(path_type=Path), default=HERE / "out", show_default=True,
              help="Folder for the rendered sets and per-engine results.")
def main(per_kind, singles, engines, real, reuse, work):
    """Run every engine on every set and write bench/RESULTS.md and bench/predictions.json."""
    lacking = missing()
    names = [e for e in engines.split(",") if e]
    if lacking:
        for line in lacking:
            print(f"[bench] missing {line}", file=sys.stderr)
        names = available(names, lacking, work if reuse else None)
    items = sets.write_scenes(work / "scenes", per_kind) + sets.write_singles(work / "singles", singles)
    if real:
        items += sets.real_vins() + sets.real_singles()
    (work / "items.json").write_text(json.dumps(items))
    results = {}
    for name in names:
        out = work / f"{name}.json"
        if reuse and out.is_file():
            results[name] = json.loads(out.read_text())
            print(f"[bench] {name}: reusing {out}", file=sys.stderr)
            continue
        print(f"[bench] {name} on {len(items)} images", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "bench.worker", name, str(work / "items.json"), str(out)],
                       check=True, cwd=HERE.parent)
        results[name] = json.loads(out.read_text())
        sample = next(it["path"] for it in items if it["set"].startswith("scene sticker"))
        results[name]["cold_ms"] = cold_ms(name, sample)
        results[name]["ran"] = {"date": time.strftime("%Y-%m-%d", time.gmtime()),
                                "speed_probe_ms": round(speed_probe(), 1)}
        out.write_text(json.dumps(results[name]))
    write_results(results, HERE / "RESULTS.md")
    (HERE / "predictions.json").write_text(json.dumps(
        [{k: r[k] for k in ("engine", "set", "path", "truth", "pred", "ms")} | {"path": os.path.relpath(r["path"], HERE.parent)}
         for res in results.values() for r in res["rows"]], indent=0))


def write_results(results: dict, path: Path) -> None:
    """The RESULTS.md tables: per set and engine, then per engine overall."""
    lines = ["# vinread vs Tesseract vs RapidOCR", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
             f"regenerate with `python -m bench`. Times are per image in a warm process; "
             "wrong+valid counts VINs that pass validation but are wrong (the worst outcome). "
             "An engine's rows reused from an earlier run (`--reuse`) keep that run's times: the "
             "last table gives each engine's run and its machine's speed probe (ms for a fixed CPU "
             "workload, `speed_probe`; lower is faster).", "",
             "| set | engine | images | exact | char acc | check valid | wrong+valid | median ms | p90 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    by_set = defaultdict(dict)
    for name, res in results.items():
        groups = defaultdict(list)
        for r in res["rows"]:
            groups[r["set"]].append(r)
        for s, rows in groups.items():
            by_set[s][name] = figures(rows)
    for s in sorted(by_set):
        for name, f in by_set[s].items():
            if "char_acc" in f:
                lines.append(f"| {s} | {name} | {f['n']} | {f['exact']:.3f} | {f['char_acc']:.4f} | "
                             f"{f['valid']:.3f} | {f['wrong_valid']} | {f['median_ms']:.0f} | {f['p90_ms']:.0f} |")
            else:
                lines.append(f"| {s} | {name} | {f['n']} | {f['exact']:.3f} | - | - | - | "
                             f"{f['median_ms']:.1f} | {f['p90_ms']:.1f} |")
    lines += ["", "| engine | cold process, one photo (ms) | peak memory (MB) | run (UTC) | speed probe (ms) |",
              "|---|---|---|---|---|"]
    for name, res in results.items():
        cold = f"{res['cold_ms']:.0f}" if res.get("cold_ms") else "-"
        ran = res.get("ran") or {}
        lines.append(f"| {name} | {cold} | {res['peak_rss_mb']:.0f} | {ran.get('date', 'earlier')} | "
                     f"{ran.get('speed_probe_ms', '-')} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
