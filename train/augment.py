"""Augmentation of raw glyph images (uint8 gray, dark ink on a light ground).

:func:`augment` applies a random mix of geometry, stroke-width, blur, noise,
lighting, JPEG, polarity, neighbour-sliver and loose-crop changes. Every function
takes an ``np.random.Generator`` so results are reproducible.
"""
from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np


def ground(img: np.ndarray) -> float:
    """Ground (background) level: the median of the border pixels (cheap)."""
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    return float(np.median(border))


def shrink(img: np.ndarray, max_side: int = 48) -> np.ndarray:
    """Downscale (area) so the larger side is at most ``max_side``: normalising is then cheaper."""
    h, w = img.shape
    if max(h, w) <= max_side:
        return img
    f = max_side / max(h, w)
    return cv2.resize(img, (max(1, int(round(w * f))), max(1, int(round(h * f)))), interpolation=cv2.INTER_AREA)


def affine(img: np.ndarray, rng: np.random.Generator, rot: float = 6.0, shear: float = 0.2,
           aspect: tuple[float, float] = (0.8, 1.25)) -> np.ndarray:
    """Random rotation (degrees), shear and width/height ratio; the canvas grows to keep the ink."""
    h, w = img.shape
    bg = ground(img)
    a = math.radians(rng.uniform(-rot, rot))
    sh = rng.uniform(-shear, shear)
    sx = rng.uniform(*aspect)
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.array([[sx, sh], [0, 1]])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ m.T
    lo, hi = corners.min(0), corners.max(0)
    nw, nh = int(math.ceil(hi[0] - lo[0])), int(math.ceil(hi[1] - lo[1]))
    M = np.hstack([m, -lo[:, None]]).astype(np.float32)
    return cv2.warpAffine(img, M, (max(nw, 2), max(nh, 2)), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=bg)


def stroke_width(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thicken (erode the light ground) or thin (dilate it) dark strokes by about one pixel."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(rng.integers(2, 4)),) * 2)
    return cv2.erode(img, k) if rng.random() < 0.5 else cv2.dilate(img, k)


def blur(img: np.ndarray, rng: np.random.Generator, max_sigma: float = 1.5) -> np.ndarray:
    """Gaussian or horizontal/vertical motion blur."""
    if rng.random() < 0.7:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, max_sigma))
    k = int(rng.integers(2, 5))
    kern = np.ones((1, k), np.float32) / k
    return cv2.filter2D(img, -1, kern if rng.random() < 0.5 else kern.T)


def uneven_light(img: np.ndarray, rng: np.random.Generator, strength: float = 0.35) -> np.ndarray:
    """Multiply by a smooth random gradient (shadow, glare)."""
    h, w = img.shape
    g = cv2.resize(rng.uniform(1 - strength, 1.0, (2, 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(img.astype(np.float32) * g, 0, 255).astype(np.uint8)


def noise(img: np.ndarray, rng: np.random.Generator, max_sigma: float = 12.0) -> np.ndarray:
    """Gaussian pixel noise."""
    n = rng.normal(0, rng.uniform(2, max_sigma), img.shape)
    return np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """JPEG round trip at quality 20..80."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 80))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img


def loose_crop(img: np.ndarray, rng: np.random.Generator, max_margin: float = 0.3) -> np.ndarray:
    """Pad each side by a random margin (up to ``max_margin`` of the height), ground colour."""
    h, w = img.shape
    bg = ground(img)
    m = [int(rng.uniform(0, max_margin) * h) for _ in range(4)]
    return cv2.copyMakeBorder(img, m[0], m[1], m[2], m[3], cv2.BORDER_CONSTANT, value=bg)


def add_neighbours(img: np.ndarray, rng: np.random.Generator,
                   neighbour: Callable[[int], np.ndarray], max_part: float = 0.18) -> np.ndarray:
    """Add slivers of neighbouring glyphs at the left and/or right crop edge.

    ``neighbour(height)`` renders another glyph (dark on light) about ``height`` tall;
    a strip of at most ``max_part`` of this glyph's width is pasted so it touches the edge.
    """
    h, w = img.shape
    out = img
    for side in ("left", "right"):
        if rng.random() < 0.5:
            continue
        nb = neighbour(h)
        nb = cv2.resize(nb, (max(2, int(nb.shape[1] * h / nb.shape[0])), h), interpolation=cv2.INTER_AREA)
        sw = max(1, int(w * rng.uniform(0.04, max_part)))
        gap = int(w * rng.uniform(0.0, 0.08))
        strip = nb[:, -sw:] if side == "left" else nb[:, :sw]
        spacer = np.full((h, gap), int(ground(img)), np.uint8)
        parts = [strip, spacer, out] if side == "left" else [out, spacer, strip]
        out = np.hstack(parts)
    if out is img:
        return img
    return out


def invert(img: np.ndarray) -> np.ndarray:
    """Light ink on a dark ground."""
    return 255 - img


def augment(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
            neighbour: Callable[[int], np.ndarray] | None = None, p_invert: float = 0.3) -> np.ndarray:
    """Random augmentation of one glyph image.

    Parameters
    ----------
    img : (H, W) uint8, dark ink on a light ground.
    rng : random generator.
    strength : 0 (almost nothing) .. 1 (default mix) .. 1.5 (harsh).
    neighbour : optional ``height -> image`` renderer of another glyph for edge slivers.
    p_invert : probability of returning light-on-dark.

    Returns
    -------
    (H', W') uint8 image.
    """
    s = strength
    if rng.random() < 0.8 * s:
        img = affine(img, rng, rot=7 * s, shear=0.25 * s, aspect=(1 - 0.25 * s, 1 + 0.3 * s))
    if rng.random() < 0.3 * s and min(img.shape) > 20:
        img = stroke_width(img, rng)
    if neighbour is not None and rng.random() < 0.3 * s:
        img = add_neighbours(img, rng, neighbour)
    if rng.random() < 0.5:
        img = loose_crop(img, rng, 0.3 * s)
    if rng.random() < 0.3 * s:
        img = uneven_light(img, rng)
    if rng.random() < 0.5 * s:
        img = blur(img, rng, max_sigma=0.3 + 1.2 * s * min(img.shape) / 48)
    if rng.random() < 0.5 * s:
        img = noise(img, rng, 4 + 10 * s)
    if rng.random() < 0.2 * s:
        img = jpeg(img, rng)
    if rng.random() < p_invert:
        img = invert(img)
    return img
