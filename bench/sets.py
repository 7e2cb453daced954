"""Benchmark image sets, written once to disk so every engine reads the same files."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED_DEV = ROOT.parent / "shared" / "dev"


def write_scenes(out: Path, per_kind: int, seed: int = 10_000) -> list[dict]:
    """Render ``per_kind`` scenes of every kind (variants in turn) as PNG + truth; returns the items."""
    from train.scenes import KINDS, VARIANTS, render_scene

    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.json"
    # truths of files rendered by earlier runs (any --per-kind); a file without one is rendered again
    known = {it["path"]: it["truth"] for it in json.loads(index.read_text())} if index.is_file() else {}
    items = []
    for kind in KINDS:
        for i in range(per_kind):
            variant = VARIANTS[i % len(VARIANTS)]
            name = f"{kind}_{seed + i}_{variant or 'plain'}.png"
            path = out / name
            truth = known.get(str(path))
            if not path.is_file() or truth is None:
                s = render_scene(kind, seed + i, variant=variant)
                cv2.imwrite(str(path), s.image)
                truth = s.vin
            items.append({"path": str(path), "set": f"scene {kind}", "truth": truth,
                          "variant": variant or "plain"})
    known.update({it["path"]: it["truth"] for it in items})
    index.write_text(json.dumps([{"path": p, "truth": t} for p, t in sorted(known.items())], indent=0))
    return items


def write_singles(out: Path, per_style: int, seed: int = 20_000) -> list[dict]:
    """Single-character images (raw renders, augmented) of the printed and handwriting styles."""
    from train.augment import augment
    from train.render import render_char
    from vinread.alphabet import ALPHABET

    out.mkdir(parents=True, exist_ok=True)
    items = []
    for style in ("printed", "handwriting"):
        rng = np.random.default_rng([seed, len(style)])
        for i in range(per_style):
            char = ALPHABET[i % len(ALPHABET)]
            img = augment(render_char(char, style, rng, int(rng.integers(24, 64))), rng, 0.6)
            img = cv2.copyMakeBorder(img, 6, 6, 6, 6, cv2.BORDER_REPLICATE)
            path = out / f"{style}_{i:04d}_{char}.png"
            cv2.imwrite(str(path), img)
            items.append({"path": str(path), "set": f"single {style}", "truth": char})
    return items


def real_vins(root: Path = SHARED_DEV / "vin") -> list[dict]:
    """The labelled real VIN photos, when ``../shared/dev/vin`` is present."""
    labels = root / "labels.csv"
    if not labels.is_file():
        return []
    return [{"path": str(root / r["file"]), "set": f"real {r['kind']}", "truth": r["vin"]}
            for r in csv.DictReader(labels.open())]


def real_singles(root: Path = SHARED_DEV / "single") -> list[dict]:
    """The labelled real single characters, when ``../shared/dev/single`` is present."""
    if not root.is_dir():
        return []
    return [{"path": str(f), "set": "single real handwritten", "truth": d.name}
            for d in sorted(root.iterdir()) if d.is_dir() for f in sorted(d.iterdir()) if f.is_file()]
