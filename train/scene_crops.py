"""Glyph crops cut from rendered VIN photos the way the segmenter cuts them.

Single-glyph renders (:mod:`train.render`) never look quite like a glyph cut out of a
photo: the photo adds perspective, relief lighting, grain, glare, blur and JPEG, and the
segmenter's crop edges fall a little off the ink. Here whole scenes (:mod:`train.scenes`)
are rendered and each of the 17 glyphs is resampled upright at the strip height the
segmenter uses (:data:`vinread.segment.STRIP_H`, with the same margin above and below),
with its left and right edges jittered, and passed through the one glyph normalisation
in the line's ink polarity. Crops that straddle two neighbours, or hold both, are the
glyph-or-not output's rejects.
"""
from __future__ import annotations

import cv2
import numpy as np

from train.scenes import KINDS, VARIANTS, render_scene
from vinread.alphabet import ALPHABET
from vinread.normalize import BlankGlyphError, ink_is_dark, normalize_glyph
from vinread.segment import CROP_PAD, STRIP_H

PAD = CROP_PAD
"""Margin above, below and beside a crop, in glyph heights (as :meth:`vinread.segment.Line.span_crop`)."""
EDGE_JITTER = 0.12
"""Each side of a crop moves by up to this many glyph heights (segmentation is never exact)."""
FIRST_SEED = 1_000_000
"""Scene seeds start here, well clear of the benchmark's (10000 upwards)."""


def _upright(gray: np.ndarray, quad: np.ndarray, left: float, right: float, top: float,
             bottom: float) -> np.ndarray:
    """Resample the quad (TL, TR, BR, BL), its sides moved outwards by the given glyph-height
    fractions, to an upright crop STRIP_H tall plus PAD above and below, plus PAD of
    background beside it."""
    tl, tr, br, bl = quad.astype(np.float64)
    h = 0.5 * (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr))
    u = (tr - tl + br - bl) / 2.0
    u /= max(np.linalg.norm(u), 1e-6)
    v = (bl - tl + br - tr) / 2.0
    v /= max(np.linalg.norm(v), 1e-6)
    src = np.float32([tl - left * h * u - top * h * v, tr + right * h * u - top * h * v,
                      br + right * h * u + bottom * h * v, bl - left * h * u + bottom * h * v])
    s = STRIP_H / h
    width = max(2, int(round(0.5 * (np.linalg.norm(src[1] - src[0]) + np.linalg.norm(src[2] - src[3])) * s)))
    height = int(round(STRIP_H * (1 + top + bottom)))
    dst = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    M = cv2.getPerspectiveTransform(src, dst)
    body = cv2.warpPerspective(gray, M, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    p = int(round(PAD * STRIP_H))
    crop = np.full((height, width + 2 * p), int(np.median(body)), np.uint8)
    crop[:, p:p + width] = body
    return crop


def _polarity(kind: str, gray: np.ndarray, quads: np.ndarray, rng: np.random.Generator) -> str:
    """The line's ink polarity as the segmenter would call it: from the gray under the VIN;
    engraved metal shows a light and a shadow wall, and either may be the one found."""
    if kind == "engraved":
        return "dark" if rng.random() < 0.5 else "light"
    x0, y0 = np.maximum(0, np.floor(quads.reshape(-1, 2).min(0)).astype(int))
    x1, y1 = np.ceil(quads.reshape(-1, 2).max(0)).astype(int)
    region = gray[y0:y1 + 1, x0:x1 + 1]
    return "dark" if region.size == 0 or ink_is_dark(region.astype(np.float32) / 255.0) else "light"


def _jitter(rng: np.random.Generator) -> tuple[float, float, float, float]:
    left, right = rng.uniform(-EDGE_JITTER, EDGE_JITTER, 2)
    top, bottom = PAD + rng.uniform(-0.08, 0.08, 2)
    return float(left), float(right), float(top), float(bottom)


def _normalised(crop: np.ndarray, polarity: str) -> np.ndarray | None:
    try:
        x = normalize_glyph(crop, polarity)
    except (BlankGlyphError, ValueError):
        return None
    return x if x.mean() < 0.4 else None


def scene_glyphs(rng: np.random.Generator, kinds: tuple[str, ...] = KINDS
                 ) -> tuple[list[np.ndarray], list[int], list[np.ndarray]]:
    """Render one random scene of one of ``kinds`` and cut it up.

    Returns
    -------
    glyphs : normalised (28, 28) float32 crops of the VIN's glyphs.
    labels : their class indices.
    rejects : normalised crops straddling two neighbours or holding both.
    """
    kind = kinds[int(rng.integers(len(kinds)))]
    variant = VARIANTS[int(rng.integers(len(VARIANTS)))]
    return cut_scene(render_scene(kind, int(rng.integers(FIRST_SEED, 2**31 - 1)), variant=variant), rng)


def cut_scene(scene, rng: np.random.Generator) -> tuple[list[np.ndarray], list[int], list[np.ndarray]]:
    """A rendered :class:`train.scenes.Scene` -> (glyphs, labels, rejects) as :func:`scene_glyphs`."""
    gray = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)
    q = scene.quads
    pol = _polarity(scene.kind, gray, q, rng)
    glyphs, labels, rejects = [], [], []
    for quad, char in zip(q, scene.vin):
        x = _normalised(_upright(gray, quad, *_jitter(rng)), pol)
        if x is not None:
            glyphs.append(x)
            labels.append(ALPHABET.index(char))
    for _ in range(2):
        i = int(rng.integers(len(q) - 1))
        a, b = q[i], q[i + 1]
        if rng.random() < 0.5:      # from the middle of one glyph to the middle of the next
            quad = np.stack([(a[0] + a[1]) / 2, (b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (a[2] + a[3]) / 2])
        else:                       # both glyphs in one crop
            quad = np.stack([a[0], b[1], b[2], a[3]])
        x = _normalised(_upright(gray, quad, *_jitter(rng)), pol)
        if x is not None:
            rejects.append(x)
    return glyphs, labels, rejects
