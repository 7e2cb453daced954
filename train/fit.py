"""The training run: data, fit, evaluation, export and report."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from vinread.alphabet import in_alphabet, index_of
from vinread.model import sha256_of
from vinread.normalize import BlankGlyphError, normalize_glyph


def log(msg: str) -> None:
    print(f"[train] {msg}", file=sys.stderr, flush=True)



def load_labelled_dir(root: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Real glyphs laid out as ``root/LABEL/*.png`` -> normalised X (N,28,28), y (N,), paths."""
    import cv2

    from vinread.images import IMAGE_SUFFIXES, ImageReadError, read_image

    xs, ys, paths = [], [], []
    for label_dir in sorted(Path(root).iterdir()):
        if not label_dir.is_dir() or not in_alphabet(label_dir.name):
            continue
        for f in sorted(label_dir.iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                xs.append(normalize_glyph(read_image(f, cv2.IMREAD_UNCHANGED)))
            except (ImageReadError, BlankGlyphError):
                continue
            ys.append(index_of(label_dir.name))
            paths.append(str(f))
    return np.array(xs, np.float32).reshape(-1, 28, 28), np.array(ys, np.int64), paths


def _emnist_sets(emnist: str, limit: int):
    """(train X, y, test X, y, split) from EMNIST, or None when not asked for or not cached."""
    if emnist == "none":
        return None
    from train.emnist_data import EmnistUnavailable, load_emnist

    split = "byclass" if emnist == "byclass" else "balanced"
    try:
        xtr, ytr = load_emnist(split, "train", limit=limit)
        xte, yte = load_emnist(split, "test", limit=max(limit // 6, 1000))
    except EmnistUnavailable as exc:
        if emnist == "auto":
            log(f"EMNIST not used: {exc}")
            return None
        raise
    return xtr, ytr, xte, yte, split


def evaluate(model, sources: list[str], seed: int, test_per_source: int, workers: int,
             real_dir: Path | None, emnist_test: tuple | None = None) -> list[dict]:
    """Accuracy of ``model`` on each source's fixed-seed test set, the glyph-or-not score, EMNIST's
    test split (``(X, y, split)``, when given) and the labelled real glyphs in ``real_dir`` (when there)."""
    from train import data
    from train.evaluate import glyphness_summary, summarize

    results, whole = [], []
    test_seed = seed + 1_000_003
    for source in sources:
        xt, yt = data.make_glyphs(source, test_per_source, test_seed, workers=workers)
        probs, glyph = model.predict(xt[..., None], batch_size=1024, verbose=0)
        results.append(summarize(f"synthetic {source}", yt, probs))
        whole.append(glyph.reshape(-1))
    xr = data.make_rejects(test_per_source, test_seed, workers=workers)
    rej = model.predict(xr[..., None], batch_size=1024, verbose=0)[1].reshape(-1)
    results.append(glyphness_summary(np.concatenate(whole), rej))
    if emnist_test is not None:
        probs, _ = model.predict(emnist_test[0][..., None], batch_size=1024, verbose=0)
        results.append(summarize(f"EMNIST {emnist_test[2]} test split", emnist_test[1], probs))
    if real_dir is not None and Path(real_dir).is_dir():
        xr_real, yr_real, _ = load_labelled_dir(real_dir)
        if len(xr_real):
            probs, _ = model.predict(xr_real[..., None], verbose=0)
            results.append(summarize(f"real handwritten ({Path(real_dir).name}/)", yr_real, probs))
    for r in results:
        log(f"{r['set']}: accuracy {r['accuracy']:.4f} on {r['n']}")
    return results


def train_and_export(*, counts: dict, n_rejects: int | None, emnist: str, emnist_limit: int,
                     epochs: int, batch_size: int, arch: str, seed: int, test_per_source: int,
                     workers: int, real_dir: Path, out: Path, machine: str, command: str = "",
                     init: Path | None = None, learning_rate: float = 2e-3) -> dict:
    """Generate the data, train, evaluate on every test set, export into ``out``; returns the card.

    ``init``: a ``.keras`` model to start from (fine-tuning) instead of fresh weights of ``arch``;
    ``learning_rate``: the start of the cosine schedule."""
    import keras

    from train import data
    from train.evaluate import write_report
    from train.export import export
    from train.model import build, compile_model
    from train.scenes import missing_faces

    t0 = time.time()
    missing = missing_faces()
    if missing:
        log(f"warning: fonts missing, Pillow's default face stands in: {', '.join(missing)} "
            "(Debian: fonts-dejavu-core fonts-dejavu-extra)")
    n_glyphs = sum(counts.values())
    n_rejects = n_glyphs // 5 if n_rejects is None else n_rejects
    log(f"generating {n_glyphs} glyphs {counts} and {n_rejects} rejects (seed {seed})")
    x, y, g = data.make_training_set(counts, n_rejects, seed, workers=workers)
    sources = {k: int(v) for k, v in counts.items()}
    em = _emnist_sets(emnist, emnist_limit)
    if em is not None:
        x = np.concatenate([x, em[0]])
        y = np.concatenate([y, em[1]])
        g = np.concatenate([g, np.ones(len(em[1]), g.dtype)])
        sources[f"emnist-{em[4]}"] = int(len(em[1]))
        log(f"added {len(em[1])} EMNIST {em[4]} glyphs")
    log(f"data ready: {len(x)} samples in {time.time() - t0:.0f} s")

    keras.utils.set_random_seed(seed)
    model = build(arch)
    if init is not None:
        model.set_weights(keras.models.load_model(init, compile=False).get_weights())
        log(f"starting from the weights of {init}")
    model = compile_model(model)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.02)
    t_fit = time.time()
    model.fit(x[..., None], {"char": y, "glyph": g.astype(np.float32)}, batch_size=batch_size,
              epochs=epochs, shuffle=True, verbose=2 if not sys.stderr.isatty() else 1)
    train_seconds = time.time() - t0
    log(f"trained in {(time.time() - t_fit) / 60:.1f} min ({train_seconds / 60:.1f} min with data)")

    em_test = (em[2], em[3], em[4]) if em is not None else None
    results = evaluate(model, list(counts), seed, test_per_source, workers, real_dir, em_test)

    card = {
        "architecture": arch, "params": int(model.count_params()), "epochs": epochs,
        "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
        "init": ({"file": Path(init).name, "sha256": sha256_of(Path(init))} if init is not None else None),
        "test_per_source": test_per_source,
        "data": {"sources": sources, "rejects": int(n_rejects)},
        "train_seconds": round(train_seconds, 1), "machine": machine, "command": command,
        "metrics": {r["set"]: round(r["accuracy"], 4) for r in results},
    }
    card = export(model, out, card)
    write_report(Path(out) / "REPORT.md", card, results)
    return card
