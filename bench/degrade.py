"""Photo degradations for robustness figures: the same photos, taken worse.

Each function maps a BGR ``uint8`` photo to a degraded one of the same dtype, the same way
every time (noise is seeded by the photo's size). Sizes are relative to the photo, so a
12 MP photo and a 256 px crop are degraded alike.

    python -m bench.read --degrade dim --no-real     # ... or gradient, blur, noise, jpeg, half, tilt
"""
from __future__ import annotations

import cv2
import numpy as np


def dim(image: np.ndarray) -> np.ndarray:
    """Underexposed: every level at 35 %."""
    return (image.astype(np.float32) * 0.35).astype(np.uint8)


def gradient(image: np.ndarray) -> np.ndarray:
    """Light falling off across the photo: 25 % at the left edge, 100 % at the right."""
    fall = np.linspace(0.25, 1.0, image.shape[1], dtype=np.float32)[None, :]
    if image.ndim == 3:
        fall = fall[:, :, None]
    return (image.astype(np.float32) * fall).astype(np.uint8)


def blur(image: np.ndarray) -> np.ndarray:
    """Out of focus: a Gaussian of 0.4 % of the photo's longer side (2 px on 500 px)."""
    return cv2.GaussianBlur(image, (0, 0), 0.004 * max(image.shape[:2]))


def noise(image: np.ndarray) -> np.ndarray:
    """Sensor noise: Gaussian, 10 grey levels."""
    rng = np.random.default_rng(image.shape[0] * 100_003 + image.shape[1])
    return np.clip(image + rng.normal(0.0, 10.0, image.shape), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray) -> np.ndarray:
    """Saved as a JPEG of quality 25."""
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 25])[1], cv2.IMREAD_UNCHANGED)


def half(image: np.ndarray) -> np.ndarray:
    """Half the resolution."""
    h, w = image.shape[:2]
    return cv2.resize(image, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def tilt(image: np.ndarray) -> np.ndarray:
    """Held 8 degrees askew (the canvas grows to keep every corner; edges are repeated)."""
    h, w = image.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), 8.0, 1.0)
    c, s = abs(M[0, 0]), abs(M[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    M[0, 2] += nw / 2 - w / 2
    M[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, M, (nw, nh), borderMode=cv2.BORDER_REPLICATE)


DEGRADATIONS = {f.__name__: f for f in (dim, gradient, blur, noise, jpeg, half, tilt)}
"""Name -> degradation, as ``python -m bench.read --degrade NAME`` offers them."""
