"""Glyph normalisation: the one function that inference and training both call.

Any image or crop of one character (gray, BGR, BGRA, 8- or 16-bit, float)
becomes a 28x28 float32 array in [0, 1], white ink on black, the ink's larger
side fitted to 20 px and centred by centre of mass (the MNIST/EMNIST rule).
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

NORMALIZATION_VERSION = 4
"""Bumped whenever the output of :func:`normalize_glyph` changes; stored in the model card."""

SIZE = 28
"""Side of the normalised glyph, in pixels."""
MAX_INPUT = 256
"""Larger inputs are first reduced to this long side (the result is 28 px anyway), which
bounds the work on huge single-character images."""
FIT = 20
"""The ink's larger side after normalisation, in pixels."""


class BlankGlyphError(ValueError):
    """The image holds no ink to normalise (blank, flat or empty)."""


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any image array -> float32 gray in [0, 1].

    Parameters
    ----------
    image : (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA array;
        uint8, uint16 or float (floats are taken as [0, 1]).

    Returns
    -------
    (H, W) float32 array in [0, 1]. Transparent pixels of BGRA input are
    composited onto white.
    """
    a = np.asarray(image)
    if a.ndim not in (2, 3) or a.size == 0 or min(a.shape[:2]) == 0:
        raise BlankGlyphError(f"not an image array: shape {a.shape}")
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 65535.0
    elif a.dtype == bool:
        f = a.astype(np.float32)
    else:
        f = np.clip(a.astype(np.float32), 0.0, 1.0)
    if f.ndim == 3:
        channels = f.shape[2]
        if channels == 1:
            f = f[:, :, 0]
        elif channels == 3:
            f = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
        elif channels == 4:
            alpha = f[:, :, 3:4]
            rgb = f[:, :, :3] * alpha + (1.0 - alpha)
            f = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_BGR2GRAY)
        else:
            raise BlankGlyphError(f"unsupported channel count {channels}")
    return np.ascontiguousarray(f, dtype=np.float32)


def order_statistics(values: np.ndarray, percents: Sequence = (), median: bool = False) -> list:
    """``np.percentile(values, q)`` for each ``q`` of ``percents`` (a number or a tuple of
    numbers, as numpy takes it), then ``np.median(values)`` when ``median`` is set.

    The very same numbers, bit for bit (numpy's linear interpolation, its promotion of a
    number ``q`` and of a tuple, the mean of the two middle values), from one partition of one
    copy instead of one per call: a photo's glyphs are normalised by the thousand, and numpy's
    overhead per call was most of what their statistics cost.
    """
    flat = np.array(values).ravel()
    n = flat.size
    plans = []
    kth: set[int] = set()
    for q in percents:
        virtual = (n - 1) * np.true_divide(q, 100)
        above, below = virtual >= n - 1, virtual < 0
        before = np.where(above, -1, np.where(below, 0, np.floor(virtual))).astype(np.intp)
        after = np.where(above, -1, np.where(below, 0, np.floor(virtual) + 1)).astype(np.intp)
        kth.update((before % n).ravel().tolist() + (after % n).ravel().tolist())
        plans.append((type(q) in (int, float), virtual, before, after))
    if median:
        kth.update({n // 2 - 1, n // 2} if n % 2 == 0 else {n // 2})
    flat.partition(sorted(kth))
    out = []
    for weak, virtual, before, after in plans:
        a, b = flat[before], flat[after]
        gamma = np.asanyarray(virtual - before, dtype=virtual.dtype)
        t = float(gamma) if weak else gamma
        diff = b - a
        value = np.asarray(np.add(a, diff * t))
        np.subtract(b, diff * (1 - t), out=value, where=t >= 0.5, casting="unsafe", dtype=value.dtype)
        out.append(value[()] if value.ndim == 0 else value)
    if median:
        out.append(np.mean(flat[n // 2 - 1:n // 2 + 1] if n % 2 == 0 else flat[n // 2:n // 2 + 1]))
    return out


def ink_is_dark(gray: np.ndarray) -> bool:
    """True when the ink is darker than the background (black on white).

    The median grey level is the background's (ink covers well under half of a
    character image), so it is compared with the middle of the range. Unlike a
    border-only test this is not fooled by thin frames of either colour.
    """
    lo, hi, middle = order_statistics(gray, (1, 99), median=True)
    return float(middle) > (float(lo) + float(hi)) / 2.0


CONTRAST_PERCENTILES = (0.5, 99.5)
"""Grey levels stretched to black and white by :func:`stretch_contrast`."""
MIN_SPREAD = 0.1
"""Least grey-level spread :func:`stretch_contrast` divides by: at most a tenfold gain, so a
flat crop's noise stays faint."""


def stretch_contrast(gray: np.ndarray, percentiles: tuple[float, float] = CONTRAST_PERCENTILES,
                     min_spread: float = MIN_SPREAD) -> tuple[np.ndarray, float]:
    """Gray [0, 1] -> (the same with its ``percentiles`` stretched to 0 and 1, the gain).

    A faint stamping, a glyph under glare or one in a dim low-resolution photo can span
    a few grey levels only; stretched, it passes the same ink tests as a crisp print.
    The spread divided by is at least ``min_spread``.

    Parameters
    ----------
    gray : (H, W) float array in [0, 1].

    Returns
    -------
    (H, W) float32 array in [0, 1], and the factor grey-level differences were multiplied by.
    """
    lo, hi = order_statistics(gray, (percentiles,))[0]
    gain = 1.0 / max(float(hi - lo), min_spread)
    return np.clip((gray - lo) * gain, 0.0, 1.0).astype(np.float32), gain


MIN_INK = 0.08
"""Least height of the ink over the background, in the grey levels of the image given
(:func:`to_white_on_black`)."""
FAINT_INK = 0.03
"""Least height of the ink over the background in the image's own grey levels, once its
contrast is stretched (:func:`normalize_glyph`): a faint glyph reads, a flat crop's noise
does not."""

BACKGROUND_KERNEL = 0.4
"""Side of the opening that estimates the background, as a fraction of the image's larger side."""


def flatten_background(ink: np.ndarray) -> np.ndarray:
    """Remove uneven light (shadow, glare, gradients) under light-on-dark ink.

    A grey opening wider than any stroke (:data:`BACKGROUND_KERNEL` of the
    larger side) keeps the smooth background and drops the strokes; it is
    subtracted (a white top-hat).
    """
    k = int(round(BACKGROUND_KERNEL * max(ink.shape)))
    if k < 5:
        return ink
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    background = cv2.GaussianBlur(cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel), (0, 0), k / 4)
    return np.clip(ink - np.minimum(background, ink), 0.0, None)


def to_white_on_black(gray: np.ndarray, polarity: str = "auto", min_ink: float = MIN_INK) -> np.ndarray:
    """Gray [0, 1] -> ink as a positive signal over a zero background.

    ``polarity`` is ``"auto"`` (decided by :func:`ink_is_dark`), ``"dark"``
    (dark ink on light ground) or ``"light"`` (light ink on dark ground).
    Ink standing less than ``min_ink`` above the background is none
    (:class:`BlankGlyphError`).
    """
    if polarity not in ("auto", "dark", "light"):
        raise ValueError(f"polarity must be auto, dark or light, not {polarity!r}")
    dark = ink_is_dark(gray) if polarity == "auto" else polarity == "dark"
    ink = flatten_background(1.0 - gray if dark else gray)
    background = float(order_statistics(ink, median=True)[0])
    ink = np.clip(ink - background, 0.0, None)
    top = float(ink.max())
    if top < min_ink:
        raise BlankGlyphError("no ink: the image is flat")
    return ink / top


def _ink_mask(ink: np.ndarray) -> np.ndarray:
    """Binary ink mask by Otsu's threshold, never below a quarter of full scale."""
    u8 = (ink * 255).astype(np.uint8)
    t, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return u8 > max(t, 64)


def remove_frame(ink: np.ndarray, mask: np.ndarray, band: float = 0.2, coverage: float = 0.85,
                 min_sides: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Clear a box frame drawn around the character.

    A row or column within ``band`` of an edge whose ink covers more than
    ``coverage`` of its length is a frame line. A frame has lines on at least
    ``min_sides`` sides: a single edge-to-edge bar is the character's own (the
    bar of a T, Z or L in a close crop) and stays. The frame lines and
    everything outside them are cleared. Returns the cleaned ``(ink, mask)``.
    """
    h, w = mask.shape
    rows, cols = mask.mean(axis=1), mask.mean(axis=0)
    bh, bw = max(1, int(round(h * band))), max(1, int(round(w * band)))
    top = [y for y in range(bh) if rows[y] > coverage]
    bottom = [y for y in range(h - bh, h) if rows[y] > coverage]
    left = [x for x in range(bw) if cols[x] > coverage]
    right = [x for x in range(w - bw, w) if cols[x] > coverage]
    if sum(bool(side) for side in (top, bottom, left, right)) < min_sides:
        return ink, mask
    ink, mask = ink.copy(), mask.copy()
    for sl in ([slice(0, max(top) + 1), slice(None)] if top else None,
               [slice(min(bottom), h), slice(None)] if bottom else None,
               [slice(None), slice(0, max(left) + 1)] if left else None,
               [slice(None), slice(min(right), w)] if right else None):
        if sl is not None:
            ink[tuple(sl)] = 0.0
            mask[tuple(sl)] = False
    return ink, mask


def _ink_box(mask: np.ndarray, min_part: float = 0.05) -> tuple[int, int, int, int] | None:
    """Bounding box (y0, y1, x0, x1) of the components that are not specks."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.nonzero(areas >= min(areas.max(), max(2, min_part * areas.max())))[0] + 1
    x0 = stats[keep, cv2.CC_STAT_LEFT].min()
    y0 = stats[keep, cv2.CC_STAT_TOP].min()
    x1 = (stats[keep, cv2.CC_STAT_LEFT] + stats[keep, cv2.CC_STAT_WIDTH]).max()
    y1 = (stats[keep, cv2.CC_STAT_TOP] + stats[keep, cv2.CC_STAT_HEIGHT]).max()
    return int(y0), int(y1), int(x0), int(x1)


def fit_and_centre(ink: np.ndarray, size: int = SIZE, fit: int = FIT) -> np.ndarray:
    """Cropped ink -> ``size`` x ``size``, larger side ``fit`` px, centred by centre of mass."""
    h, w = ink.shape
    scale = fit / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (nw, nh), interpolation=interp)
    out = np.zeros((size, size), np.float32)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = small
    total = float(out.sum())
    if total <= 0:
        raise BlankGlyphError("no ink left after resizing")
    ys, xs = np.indices(out.shape)
    cy, cx = float((ys * out).sum() / total), float((xs * out).sum() / total)
    shift = np.float32([[1, 0, (size - 1) / 2 - cx], [0, 1, (size - 1) / 2 - cy]])
    out = cv2.warpAffine(out, shift, (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    top = float(out.max())
    return np.clip(out / top, 0.0, 1.0).astype(np.float32) if top > 0 else out


def normalize_glyph(image: np.ndarray, polarity: str = "auto") -> np.ndarray:
    """One character image -> the classifier's input.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array, see :func:`to_gray`.
    polarity : ``"auto"``, ``"dark"`` (dark ink) or ``"light"`` (light ink).

    Returns
    -------
    (28, 28) float32 array in [0, 1], white ink on black.

    Raises
    ------
    BlankGlyphError
        The image holds no ink.
    """
    gray = to_gray(image)
    if max(gray.shape) > MAX_INPUT:
        f = MAX_INPUT / max(gray.shape)
        gray = cv2.resize(gray, (max(1, round(gray.shape[1] * f)), max(1, round(gray.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)
    stretched, gain = stretch_contrast(gray)
    ink = to_white_on_black(stretched, polarity, min_ink=FAINT_INK * gain)
    mask = _ink_mask(ink)
    ink, mask = remove_frame(ink, mask)
    box = _ink_box(mask)
    if box is None:
        raise BlankGlyphError("no ink found")
    y0, y1, x0, x1 = box
    ink = np.where(mask, ink, ink * 0.5)[y0:y1, x0:x1]
    return fit_and_centre(ink)


def normalize_batch(images, polarity: str = "auto") -> np.ndarray:
    """Many glyph images -> (N, 28, 28, 1) float32; a blank one raises :class:`BlankGlyphError`."""
    out = np.zeros((len(images), SIZE, SIZE, 1), np.float32)
    for i, img in enumerate(images):
        out[i, :, :, 0] = normalize_glyph(img, polarity)
    return out
