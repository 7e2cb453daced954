"""Synthetic training data for the 33-class glyph CNN and its glyph-or-not output.

Every sample is rendered (:mod:`train.render`), augmented (:mod:`train.augment`)
and passed through :func:`vinread.normalize.normalize_glyph`, exactly as inference
sees a crop. Generation is chunked with per-chunk seeds, so the arrays depend
only on the seed, never on the number of worker processes.
"""
from __future__ import annotations

import multiprocessing as mp
import sys
import time

import cv2
import numpy as np

from train import augment as aug
from train import render
from train.scene_crops import scene_glyphs
from train.scenes import KINDS
from vinread.alphabet import ALPHABET, NUM_CLASSES
from vinread.normalize import BlankGlyphError, normalize_glyph

SCENE_KINDS = tuple(f"scene-{kind}" for kind in KINDS)
"""``scene-engraved`` and the like: scene glyphs of one kind of photo only (to weigh the kinds
the model reads worst, stamped and dot-peen metal, more heavily than ``scene``'s even mix)."""
_FIRST_SOURCES = ("printed", "dotpeen", "engraved", "handwriting", "scene")
SOURCES = _FIRST_SOURCES + SCENE_KINDS
"""``scene``: glyphs cut out of whole rendered VIN photos of every kind (:mod:`train.scene_crops`),
about one in ten of them a reject (a crop straddling two glyphs or holding both)."""
_SCENE_SOURCES = {"scene": KINDS} | {source: (kind,) for source, kind in zip(SCENE_KINDS, KINDS)}
"""The kinds of photo each scene source cuts its glyphs from."""
CHUNK = 256
"""Samples per work unit; part of the seed derivation, so changing it changes the data."""
REJECT_LABEL = -1

_KIND_CODE = {s: i for i, s in enumerate(_FIRST_SOURCES)} | {"reject": len(_FIRST_SOURCES)} | \
    {s: len(_FIRST_SOURCES) + 1 + i for i, s in enumerate(SCENE_KINDS)}
"""Each kind's part of the chunk seeds (fixed: a new source gets a new code, the others keep theirs)."""
_STRENGTH = {"printed": 1.0, "dotpeen": 0.8, "engraved": 0.8, "handwriting": 0.9}
"""Augmentation strength per rendered source (scene crops carry the photo's own degradations)."""
_MAX_TRIES = 20
ONE_SIDED = {"engraved": 0.5}
"""Share of a source normalised in a fixed random polarity rather than the auto one: a stamped
groove lit from the side is light on one wall and dark on the other, and the segmenter reads its
line in whichever polarity found it, so the model must read either wall alone."""
MAX_INK_MEAN = 0.4
"""A normalised glyph whose mean exceeds this is a solid block (polarity lost), not a sample."""


def _height(rng: np.random.Generator) -> int:
    """Render height, log-uniform 14..56 px (real crops are mostly 15..60 px tall)."""
    return int(np.exp(rng.uniform(np.log(14), np.log(56))))


MIN_SIMILARITY = 0.4
"""An augmented sample whose normalised image correlates less than this with the normalised
clean render has lost its character (a neighbour's fragment or the ground was taken for it)."""


def similarity(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Correlation of two (28, 28) normalised glyphs after a Gaussian blur (tolerates small shifts)."""
    a = cv2.GaussianBlur(a, (0, 0), sigma)
    b = cv2.GaussianBlur(b, (0, 0), sigma)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-9))


def _one_glyph(char: str, source: str, rng: np.random.Generator) -> np.ndarray:
    """One normalised (28, 28) float32 sample of ``char``; retries on blank or unrecognisable renders."""
    for _ in range(_MAX_TRIES):
        img = render.render_char(char, source, rng, _height(rng))
        nb_style = source

        def neighbour(h, _s=nb_style):
            return render.render_char(str(rng.choice(list(ALPHABET))), _s, rng, h)
        augmented = aug.shrink(aug.augment(img, rng, _STRENGTH[source], neighbour=neighbour))
        polarity = "auto"
        if source in ONE_SIDED and rng.random() < ONE_SIDED[source]:
            polarity = str(rng.choice(["dark", "light"]))
        try:
            x = normalize_glyph(augmented, polarity)
            clean = normalize_glyph(img, polarity)
        except (BlankGlyphError, ValueError):  # ValueError: normalize_glyph on dust-only crops
            continue
        if x.mean() < MAX_INK_MEAN and similarity(x, clean) >= MIN_SIMILARITY:
            return x
    raise RuntimeError(f"could not render a non-blank {char!r} in style {source}")


def _one_reject(rng: np.random.Generator) -> np.ndarray:
    for _ in range(_MAX_TRIES):
        img = render.render_reject(rng, _height(rng))
        img = aug.shrink(aug.augment(img, rng, 0.7))
        try:
            x = normalize_glyph(img)
        except (BlankGlyphError, ValueError):  # ValueError: normalize_glyph on dust-only crops
            continue
        if not _is_bar(x):
            return x
    return np.zeros((28, 28), np.float32)  # a blank crop is a reject too


def _is_bar(x: np.ndarray) -> bool:
    """True for a lone upright bar (ink box under a third as wide as tall): that reads as a 1, not a reject."""
    ys, xs = np.nonzero(x > 0.3)
    if len(ys) == 0:
        return False
    return (xs.max() - xs.min() + 1) < (ys.max() - ys.min() + 1) / 3


def _chunk_rng(seed: int, kind: str, chunk: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), _KIND_CODE[kind], int(chunk)])


def _make_chunk(task: tuple[str, int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Work unit: (kind, seed, chunk index, count, first sample index) -> (X (k,28,28), y (k,))."""
    kind, seed, chunk, k, start = task
    cv2.setNumThreads(1)
    rng = _chunk_rng(seed, kind, chunk)
    X = np.zeros((k, 28, 28), np.float32)
    if kind == "reject":
        for i in range(k):
            X[i] = _one_reject(rng)
        return X, np.full(k, REJECT_LABEL, np.int64)
    if kind in _SCENE_SOURCES:
        return _scene_chunk(rng, k, _SCENE_SOURCES[kind])
    y = (np.arange(start, start + k) % NUM_CLASSES).astype(np.int64)
    for i in range(k):
        X[i] = _one_glyph(ALPHABET[y[i]], kind, rng)
    return X, y


def _scene_chunk(rng: np.random.Generator, k: int, kinds: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``k`` samples cut from rendered scenes of ``kinds``: their glyphs and (label -1) their rejects."""
    X, y = [], []
    while len(y) < k:
        glyphs, labels, rejects = scene_glyphs(rng, kinds)
        X += glyphs + rejects
        y += labels + [REJECT_LABEL] * len(rejects)
    return np.stack(X[:k]).astype(np.float32), np.array(y[:k], np.int64)


def _tasks(kind: str, n: int, seed: int) -> list[tuple[str, int, int, int, int]]:
    return [(kind, seed, c, min(CHUNK, n - c * CHUNK), c * CHUNK) for c in range((n + CHUNK - 1) // CHUNK)]


def _run(tasks, workers: int, label: str = "") -> list[tuple[np.ndarray, np.ndarray]]:
    """Run work units, in order, on ``workers`` processes (1: in this process); progress on stderr."""
    total = sum(t[3] for t in tasks)
    done, t0, out = 0, time.time(), []
    if workers <= 1 or len(tasks) <= 1:
        it = map(_make_chunk, tasks)
        pool = None
    else:
        # fork is fast, but unsafe once a deep-learning framework has started its threads
        method = "spawn" if any(m in sys.modules for m in ("tensorflow", "jax", "torch")) else "fork"
        pool = mp.get_context(method).Pool(workers)
        it = pool.imap(_make_chunk, tasks)
    try:
        for X, y in it:
            out.append((X, y))
            done += len(y)
            rate = done / max(time.time() - t0, 1e-6)
            print(f"\r[data{label}] {done}/{total} samples, {rate:.0f}/s", end="", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    if total:
        print(file=sys.stderr)
    return out


def make_glyphs(source: str, n: int, seed: int, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` normalised glyphs of one source, class-balanced (counts differ by at most 1 per chunk).

    Scene glyphs (``scene`` and :data:`SCENE_KINDS`) follow the VINs' own letters and drop
    the rejects cut with them, so they are fewer than ``n`` and not balanced.

    Returns X (n, 28, 28) float32 in [0, 1] and y (n,) int64 class indices;
    the same ``seed`` gives identical arrays whatever ``workers`` is.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    parts = _run(_tasks(source, n, seed), workers, f" {source}")
    if not parts:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    order = np.random.default_rng([int(seed), 99]).permutation(n)
    X, y = X[order], y[order]
    return X[y >= 0], y[y >= 0]          # scene chunks also hold rejects


def make_rejects(n: int, seed: int, workers: int = 1) -> np.ndarray:
    """``n`` normalised not-a-glyph crops: X (n, 28, 28) float32 in [0, 1]."""
    parts = _run(_tasks("reject", n, seed), workers, " rejects")
    return np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 28, 28), np.float32)


def make_training_set(counts: dict[str, int], n_rejects: int, seed: int,
                      workers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A shuffled mix of glyph sources and rejects.

    Parameters
    ----------
    counts : samples per source, e.g. ``{"printed": 40000, "handwriting": 30000}``.
    n_rejects : number of not-a-glyph crops.
    seed : data seed (same seed -> identical arrays, whatever ``workers`` is).
    workers : processes to use.

    Returns
    -------
    X : (N, 28, 28) float32 in [0, 1], white ink on black.
    y : (N,) int64 class index, -1 for rejects.
    glyph : (N,) int64, 1 for a glyph, 0 for a reject.
    """
    for s in counts:
        if s not in SOURCES:
            raise ValueError(f"unknown source {s!r}; expected one of {SOURCES}")
    tasks = [t for s in SOURCES if counts.get(s, 0) > 0 for t in _tasks(s, counts[s], seed)]
    tasks += _tasks("reject", n_rejects, seed) if n_rejects > 0 else []
    parts = _run(tasks, workers)
    if not parts:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    glyph = (y >= 0).astype(np.int64)
    order = np.random.default_rng([int(seed), 98]).permutation(len(y))
    return X[order], y[order], glyph[order]
