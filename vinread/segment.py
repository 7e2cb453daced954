"""Segmentation: from a photo to candidate VIN lines of glyph pieces, and decoding.

Two public steps::

    lines = find_lines(image)                 # candidate text lines, any photo
    hyps = decode_line(lines[0], scorer)      # best 17-glyph readings of a line

:func:`find_lines` works at a bounded size. It normalises contrast (CLAHE),
binarises for both polarities (global Otsu, adaptive mean, adaptive on a
low-passed copy for dot-peen on grainy metal), adds an
edge-based mask for engraved or stamped metal (morphological gradient,
closed) and a dot-merged mask for dot-peen / dot-matrix print (and, in
fallback passes, round-spot masks for dots lost in grain and bands of dense
edges for glyphs that break into fragments: :data:`PASSES`), keeps
character-sized connected components, chains them into text lines (similar
height, aligned centres, small gaps), fits each line's angle, and removes
duplicate lines found by several masks. Every line is then resampled from
the original image into an upright strip whose glyph height is
:data:`STRIP_H` pixels, re-binarised there and over-segmented into *pieces*
(column runs of ink, wide runs cut at projection minima), so that each true
glyph is one piece or a union of consecutive pieces.

:func:`decode_line` chooses, by dynamic programming over unions of
consecutive pieces, the ``n`` glyph spans whose classifier scores are best,
allowing leading and trailing pieces to be skipped (``*`` delimiters, a
``VIN:`` prefix, logo letters). All candidate spans of a line go to the
scorer in one batch.

The scorer protocol::

    scorer(crops: list[(h, w) uint8 gray], polarity: "dark" | "light" | "either")
        -> (probs: (N, 33) float, glyphness: (N,) float in [0, 1])

The scorer is expected to call :func:`vinread.normalize.normalize_glyph`
with the given polarity; for ``"either"`` (lines of :data:`EITHER_SOURCES`)
with both, keeping each crop's better reading (:func:`pick_either`). Crops
are padded with the strip's background level.

Nothing here knows about orientation beyond a small skew: callers that want
90/180/270 degree photos call :func:`find_lines` on rotated copies.
"""
from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Sequence

import cv2
import numpy as np

from .alphabet import ALPHABET, NUM_CLASSES
from .images import gray_u8

__all__ = ["Line", "Hypothesis", "find_lines", "decode_line", "segment_glyphs",
           "vin_windows", "draw_lines", "runs", "strip_box", "STRIP_H"]

STRIP_H = 40
"""Glyph height, in pixels, of every line's upright strip."""
WORK_MAX = 1280
"""Long side of the working image when the photo is larger."""
WORK_MIN = 768
"""Long side of the working image when the photo is smaller (upsampled)."""
MAX_LINES = 20
"""Most candidate lines :func:`find_lines` returns."""
CROP_PAD = 0.2
"""Margin of background above, below and beside a glyph's crop, in glyph heights (the
training crops of :mod:`train.scene_crops` take the same)."""

Scorer = Callable[[Sequence[np.ndarray], str], "tuple[np.ndarray, np.ndarray]"]


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of the runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], np.asarray(flags).astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def strip_box(strip_to_image: np.ndarray, x0: float, x1: float, top: float,
              bottom: float) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` in original coordinates bounding strip columns ``[x0, x1)`` over rows
    ``[top, bottom)``, given the strip's (2, 3) affine map to the image."""
    pts = np.array([[x0, top, 1], [x1, top, 1], [x0, bottom, 1], [x1, bottom, 1]], np.float64)
    xy = pts @ np.asarray(strip_to_image, np.float64).T
    lo, hi = np.floor(xy.min(0)), np.ceil(xy.max(0))
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])


@dataclass
class Line:
    """One candidate text line.

    Attributes
    ----------
    pieces : (P, 2) int array, the pieces' ``[x0, x1)`` column spans in
        ``strip``, left to right.
    boxes : (P, 4) int array, each piece's ``(x, y, w, h)`` box in ORIGINAL
        image coordinates (axis-aligned bound of the rotated piece).
    polarity : ``"dark"`` (dark ink on light ground) or ``"light"``.
    angle : the line's angle in degrees in the original image (positive:
        the text rises to the right in image coordinates... i.e. ``y`` grows
        along the line when positive).
    strip : (S, W) uint8 gray, the line resampled upright, glyph height
        :data:`STRIP_H`, glyphs occupying rows ``band[0]:band[1]``.
    band : ``(top, bottom)`` rows of the glyphs in ``strip``.
    source : name of the binarisation that found the line.
    height : glyph height in original-image pixels.
    strip_to_image : (2, 3) float affine map from strip ``(x, y, 1)`` to
        original image ``(x, y)``.
    ink : (S, W) bool, the strip's binarisation used for the pieces.
    quality : ink density in the glyph band minus that above and below it.
    """

    pieces: np.ndarray
    boxes: np.ndarray
    polarity: str
    angle: float
    strip: np.ndarray
    band: tuple[int, int]
    source: str
    height: float
    strip_to_image: np.ndarray
    ink: np.ndarray = field(repr=False, default=None)
    quality: float = 0.0

    def span_box(self, x0: int, x1: int) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` in original coordinates of strip columns ``[x0, x1)`` over the band."""
        return strip_box(self.strip_to_image, x0, x1, *self.band)

    def span_crop(self, x0: int, x1: int, pad: float = CROP_PAD) -> np.ndarray:
        """Gray crop of strip columns ``[x0, x1)`` with ``pad`` x glyph height of background margin.

        The columns are first widened to take in the descender of the glyph they hold
        (:func:`with_descender`: a J's hook). Columns outside them (neighbouring glyphs)
        are painted with the ground's level under the glyph (:attr:`ground`) so that the crop
        holds one glyph only, with no step where the painting meets the strip.
        """
        x0, x1 = with_descender(int(x0), int(x1), self.hangers)
        t, b = self.band
        p = int(round(pad * STRIP_H))
        h, w = self.strip.shape
        y0, y1 = max(0, t - p), min(h, b + p)
        level = int(round(float(np.median(self.ground[x0:x1])))) if x1 > x0 else self.background
        crop = np.full((y1 - y0, (x1 - x0) + 2 * p), level, np.uint8)
        crop[:, p:p + (x1 - x0)] = self.strip[y0:y1, x0:x1]
        return crop

    @property
    def hangers(self) -> np.ndarray:
        """The line's :func:`descenders`, cached."""
        found = self.__dict__.get("_hangers")
        if found is None:
            found = self.__dict__["_hangers"] = descenders(self)
        return found

    @property
    def ground(self) -> np.ndarray:
        """(W,) float, the ground's grey level in each column of the strip around the band: the
        median of its pixels that are not ink (the strip's :attr:`background` where a column is
        all ink, or everywhere when the line has no ink mask), cached. Uneven light makes it
        differ along the line."""
        found = self.__dict__.get("_ground")
        if found is None and self.ink is None:      # no ink mask to tell the ground by
            found = self.__dict__["_ground"] = np.full(self.strip.shape[1], float(self.background))
        if found is None:
            t, b = self.band
            p = int(round(CROP_PAD * STRIP_H))
            rows = slice(max(0, t - p), b + p)
            g = self.strip[rows].astype(np.float32)
            g[self.ink[rows]] = np.nan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)     # all-ink columns
                found = np.nanmedian(g, axis=0)
            found[np.isnan(found)] = self.background
            self.__dict__["_ground"] = found
        return found

    @property
    def background(self) -> int:
        """The strip's background gray level (median of the non-ink pixels), cached."""
        bg = self.__dict__.get("_background")
        if bg is None:
            if self.ink is not None and (~self.ink).any():
                bg = int(np.median(self.strip[~self.ink]))
            else:
                bg = int(np.median(self.strip))
            self.__dict__["_background"] = bg
        return bg


@dataclass
class Hypothesis:
    """One reading of ``n`` glyphs from a line.

    Attributes
    ----------
    boxes : (n, 4) int array of ``(x, y, w, h)`` in original image coordinates.
    crops : list of n (h, w) uint8 gray crops (as given to the scorer).
    polarity : ``"dark"``, ``"light"`` or ``"either"``, as given to the scorer.
    score : log score of the path (sum of glyph log scores and penalties).
    line_index : index of the line in the list given to :func:`decode_line`'s caller.
    probs : (n, 33) float class probabilities of the chosen glyphs.
    glyphness : (n,) float glyph-or-not scores of the chosen glyphs.
    spans : (n, 2) int array of the glyphs' ``[x0, x1)`` in the line's strip.
    penalty : the path's geometric costs (skips, cuts, pitch, widths, gaps,
        edges): the summed glyph log scores minus ``score``, >= 0.
    """

    boxes: np.ndarray
    crops: list
    polarity: str
    score: float
    line_index: int
    probs: np.ndarray
    glyphness: np.ndarray
    spans: np.ndarray
    penalty: float = 0.0

    @property
    def text(self) -> str:
        """The arg-max characters."""
        from .alphabet import char_of
        return "".join(char_of(int(i)) for i in self.probs.argmax(1))


# --------------------------------------------------------------------------- #
# Image preparation and binarisations
# --------------------------------------------------------------------------- #

def _working(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Gray -> working-size gray and the scale (working / original)."""
    h, w = gray.shape
    long = max(h, w)
    if long > WORK_MAX:
        s = WORK_MAX / long
        interp = cv2.INTER_AREA
    elif long < WORK_MIN:
        s = WORK_MIN / long
        interp = cv2.INTER_CUBIC
    else:
        return gray, 1.0
    out = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp)
    return out, s


def _odd(v: float) -> int:
    v = int(round(v))
    return v if v % 2 else v + 1


def _local_contrast_masks(name: str, img: np.ndarray, block: int,
                          floor: float) -> list[tuple[str, str, np.ndarray]]:
    """Dark and light ink masks: pixels departing from the local mean (over ``block``) by more
    than 0.7 local standard deviations and at least ``floor`` grey levels."""
    f = img.astype(np.float32)
    mean = cv2.blur(f, (block, block))
    sd = np.sqrt(np.maximum(cv2.blur(f * f, (block, block)) - mean * mean, 0))
    diff = f - mean
    thr = np.maximum(floor, 0.7 * sd)
    return [(name, "dark", ((diff < -thr) * 255).astype(np.uint8)),
            (name, "light", ((diff > thr) * 255).astype(np.uint8))]


def _binarisations(work: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """Working gray -> list of ``(name, polarity, mask uint8 0/255)``.

    polarity ``"edge"`` means the mask marks edges and the ink polarity is
    decided later per line.
    """
    long = max(work.shape)
    clahe = _clahe(work)
    out = []
    _, otsu = cv2.threshold(clahe, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    out.append(("otsu", "light", otsu))
    out.append(("otsu", "dark", cv2.bitwise_not(otsu)))
    # Adaptive (Niblack-like): ink departs from the local mean by more than a
    # fraction of the local spread; the light pre-blur keeps grainy metal and
    # paper texture from bridging strokes.
    block = _odd(max(15, long / 40))
    out += _local_contrast_masks("adaptive", cv2.GaussianBlur(clahe, (5, 5), 0), block, 10.0)
    # Dot-peen on grainy metal: a low-pass copy drowns the grain and melts the
    # dots of a glyph into strokes (the dot-merged mask below needs clean dots).
    out += _local_contrast_masks("lowpass", cv2.GaussianBlur(clahe, (0, 0), max(1.5, long / 350)),
                                 block, 4.0)
    out.append(("edge", "edge", _edge_mask(clahe)))
    return out


def _clahe(work: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(work)


def _edge_mask(clahe: np.ndarray) -> np.ndarray:
    """Engraved / stamped metal, where each stroke is a light and a shadow edge: the CLAHE'd
    working gray's strong morphological gradient, closed (uint8 0/255)."""
    k3 = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    grad = cv2.morphologyEx(cv2.GaussianBlur(clahe, (3, 3), 0), cv2.MORPH_GRADIENT, k3)
    t, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edge = ((grad > max(t, 24)) * 255).astype(np.uint8)
    kc = max(3, _odd(max(clahe.shape) / 300))
    return cv2.morphologyEx(edge, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kc, kc)))


def blob_response(img: np.ndarray, sigma: float, polarity: str) -> np.ndarray:
    """Round-spot strength: the determinant of the Hessian at scale ``sigma`` where both
    curvatures have the ink's sign (dark spots: a minimum; light spots: a maximum), else 0.

    Parameters
    ----------
    img : (H, W) gray array.
    sigma : the spots' scale in pixels (about their radius).
    polarity : ``"dark"`` or ``"light"`` spots.

    Returns
    -------
    (H, W) float32, >= 0. Dot-peen dots answer strongly; the streaks of brushed or
    grainy metal are lines, not spots (one curvature near zero), and barely answer.
    """
    return _blob_responses(img, sigma)[polarity]


def _blob_responses(img: np.ndarray, sigma: float) -> dict[str, np.ndarray]:
    """:func:`blob_response` for both polarities from one Hessian."""
    g = cv2.GaussianBlur(img.astype(np.float32), (0, 0), sigma)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    det = dxx * dyy - dxy * dxy
    det[det < 0] = 0
    trace = dxx + dyy
    return {"dark": np.where(trace > 0, det, 0.0).astype(np.float32),
            "light": np.where(trace < 0, det, 0.0).astype(np.float32)}


DOT_SIGMAS = (1.5, 3.0)
"""Scales (working pixels) at which dot-peen dots are looked for."""
DOT_CONTRAST = 6.0
"""A dot's blob response is at least this many times the image's 99th percentile (text
covers far less than 1 % of a photo; the grain that reaches the percentile does not)."""
DOT_REACH = 2.0
"""Dot masks are closed with a disc of this many dot spacings, so a glyph's dots merge."""
DOT_GAP = 0.12
"""In a dot-peen line, empty column runs narrower than this many glyph heights lie between
columns of dots of one glyph, not between glyphs."""


def _dot_binarisations(work: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """Dot-peen masks: strong round spots, closed into strokes (only where many similar dots are)."""
    out = []
    for sigma in DOT_SIGMAS:
        for pol, resp in _blob_responses(work, sigma).items():
            spots = ((resp > DOT_CONTRAST * max(float(np.percentile(resp, 99)), 1e-3)) * 255).astype(np.uint8)
            _, _, stats, cents = cv2.connectedComponentsWithStats(spots, connectivity=8)
            closed = _dot_mask(spots, stats[1:], cents[1:], DOT_REACH)
            if closed is not None:
                out.append(("dots", pol, closed))
    return out


def _blob_lines(mask: np.ndarray, polarity: str, source: str, hmin: float) -> list[_RawLine]:
    """Text lines of a clean mask whose glyphs come in fragments: close along the line,
    and each long, thin blob is a line (its ink's extent across it is the glyph height)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 2:
        return []
    tall = stats[1:, 3][stats[1:, 3] >= hmin]
    if len(tall) == 0:
        return []
    kx = _odd(float(np.percentile(tall, 90)))     # about a glyph height: bridges glyphs, not lines
    joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kx, 3)))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if w < 5 * hmin or area < 5 * hmin * hmin:
            continue
        ys, xs = np.nonzero((lab[y:y + h, x:x + w] == i) & (mask[y:y + h, x:x + w] > 0))
        if len(xs) < 20:
            continue
        pts = np.stack([xs + x, ys + y], 1).astype(np.float64)
        # the line through the blob: the middle of the ink in each glyph-wide slice
        # (robust to noise stuck to the blob, unlike a fit to all its pixels)
        step = max(2, kx)
        bins = ((pts[:, 0] - x) // step).astype(int)
        cols = [(pts[bins == k, 0].mean(), np.median(pts[bins == k, 1])) for k in np.unique(bins)]
        if len(cols) < 3:
            continue
        cx_, cy_ = np.array(cols).T
        slope = float(np.polyfit(cx_, cy_, 1)[0])
        dx, dy = 1.0 / np.hypot(1.0, slope), slope / np.hypot(1.0, slope)
        mx, my = pts.mean(0)
        ang = float(np.arctan(slope))
        if abs(ang) > np.deg2rad(30):
            continue
        u = (pts[:, 0] - mx) * dx + (pts[:, 1] - my) * dy
        v = -(pts[:, 0] - mx) * dy + (pts[:, 1] - my) * dx
        u0, u1 = u.min(), u.max()
        v0, v1 = np.percentile(v, [1, 99])
        height, length = float(v1 - v0), float(u1 - u0)
        if height < hmin or length < 5 * height:
            continue
        cu, cv_ = (u0 + u1) / 2, (v0 + v1) / 2
        ccx, ccy = mx + cu * dx - cv_ * dy, my + cu * dy + cv_ * dx
        quad = _rect_quad(ccx, ccy, dx, dy, length, height / 2)
        score = min(length / height, 17.0)
        out.append(_RawLine(ccx, ccy, ang, length, height, int(round(length / height)), polarity, source,
                            score, quad))
    return out


DENSE_STEP = 1.5
""":func:`_dense_edge_lines` looks for lines of glyphs this many times taller than the last."""
DENSE_CONTRAST = 0.18
"""A glyph-high band's edge density exceeds the rows' above and below by this fraction."""
DENSE_MIN = 0.2
"""... and covers at least this fraction of the band."""
DENSE_LENGTH = 6.0
"""A band at least this many glyph heights long can be a line of 17 glyphs."""


def _dense_edge_lines(edge: np.ndarray, hmin: float) -> list[_RawLine]:
    """Text lines as bands of dense edges, for glyphs whose edges break into fragments no
    chain of components follows (shallow engraving, dot-peen in grain, blur).

    At glyph heights from ``1.2 x hmin`` up, :data:`DENSE_STEP` apart, the edge mask's
    density over glyph-sized windows is compared with the density over the rows above and
    below: a text line is a long run of windows denser than both (a textured surface is
    dense everywhere, a scratch is thin). Each long band is a line of that glyph height
    along its minimum-area rectangle; its pieces come from the strip's gradient, as an
    edge line's do.

    Parameters
    ----------
    edge : (H, W) uint8 0/255 edge mask at working size (:func:`_edge_mask`).
    hmin : smallest glyph height, working pixels.
    """
    f = (edge > 0).astype(np.float32)
    out = []
    h = 1.2 * hmin
    while h < min(edge.shape) / 6:
        kh, kw = _odd(h), _odd(1.5 * h)
        band = cv2.blur(f, (kw, kh))
        context = (3 * cv2.blur(f, (kw, 3 * kh)) - band) / 2
        dense = ((band - context > DENSE_CONTRAST) & (band > DENSE_MIN)).astype(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
        for i in np.nonzero((stats[:, 2] >= DENSE_LENGTH * h) & (stats[:, 3] <= 3 * h))[0]:
            if i == 0:
                continue
            x, y, w, hh, _ = stats[i]
            ys, xs = np.nonzero(lab[y:y + hh, x:x + w] == i)
            (cx, cy), (rw, rh), deg = cv2.minAreaRect(np.stack([xs + x, ys + y], 1).astype(np.float32))
            if rw < rh:
                rw, deg = rh, deg + 90
            ang = np.deg2rad((deg + 90) % 180 - 90)
            if abs(ang) > np.deg2rad(30) or rw < DENSE_LENGTH * h:
                continue
            quad = _rect_quad(cx, cy, np.cos(ang), np.sin(ang), rw, h / 2)
            out.append(_RawLine(float(cx), float(cy), float(ang), float(rw), float(h), int(rw / h),
                                "edge", "dense", min(rw / h, 17.0), quad))
        h *= DENSE_STEP
    return out


def _pairs_within(pts: np.ndarray, radius) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(a, b)``, ``a != b``, of points closer than ``radius`` (scalar or per point ``a``).

    Points are bucketed on a grid per class of radius (powers of two): a point looks only
    in the 3 x 3 cells, as wide as its class's largest radius, around its own, so the work
    grows with the pairs found, not with n squared, even where specks of grain crowd the
    photo (a sweep along x alone met every speck of a whole column).
    """
    n = len(pts)
    r = np.broadcast_to(np.asarray(radius, np.float64), (n,))
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rmin = max(float(r.min()), 1e-6)
    radius_class = np.floor(np.log2(np.maximum(r, rmin) / rmin)).astype(np.int64)
    found_a, found_b = [], []
    for c in np.unique(radius_class):
        q = np.nonzero(radius_class == c)[0]
        cell = max(float(r[q].max()), 1.0)
        gx = np.floor(pts[:, 0] / cell).astype(np.int64)
        gy = np.floor(pts[:, 1] / cell).astype(np.int64)
        gx -= gx.min() - 1
        gy -= gy.min() - 1
        rows = int(gy.max()) + 2            # a cell's neighbours above and below stay in its column
        key = gx * rows + gy
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        for dx in (-1, 0, 1):
            centre = key[q] + dx * rows
            lo = np.searchsorted(sorted_key, centre - 1, "left")
            hi = np.searchsorted(sorted_key, centre + 1, "right")
            counts = hi - lo
            a = np.repeat(q, counts)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            found_a.append(a)
            found_b.append(order[np.repeat(lo, counts) + (np.arange(len(a)) - starts)])
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    d2 = ((pts[a] - pts[b]) ** 2).sum(1)
    keep = (a != b) & (d2 <= r[a] ** 2)
    return a[keep], b[keep]


def _components_of(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (0..k-1) of each of ``n`` nodes joined by edges ``(a, b)``."""
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(a.tolist(), b.tolist()):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([find(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]


def _dot_mask(mask: np.ndarray, stats: np.ndarray, centroids: np.ndarray,
              reach: float = 1.2) -> np.ndarray | None:
    """Close a mask whose text is made of dots (dot-peen, dot matrix), or None.

    Looks for many small compact blobs of similar size; closes the mask with a
    kernel of about the typical dot spacing so that dots merge into strokes.
    """
    if len(stats) < 60:
        return None
    w, h, a = stats[:, 2], stats[:, 3], stats[:, 4]
    compact = (w >= 2) & (h >= 2) & (w <= 3 * h) & (h <= 3 * w) & (h <= 25) & (a >= 0.4 * w * h)
    if not 60 <= compact.sum() <= 4000:     # too many: texture noise, not print
        return None
    pts = centroids[compact].astype(np.float64)
    size = np.median(np.maximum(w[compact], h[compact]))
    a, b = _pairs_within(pts, 3.0 * size)
    nn = np.full(len(pts), np.inf)
    np.minimum.at(nn, a, np.sqrt(((pts[a] - pts[b]) ** 2).sum(1)))
    near = nn < 3.0 * size
    if near.sum() < 60:
        return None
    spacing = float(np.median(nn[near]))
    k = _odd(spacing * reach)
    if k < 3:
        return None
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, ker)


# --------------------------------------------------------------------------- #
# Components -> text lines
# --------------------------------------------------------------------------- #

@dataclass
class _RawLine:
    cx: float
    cy: float
    angle: float          # radians
    length: float         # along the line, working px
    height: float         # working px
    count: int
    polarity: str
    source: str
    score: float
    quad: np.ndarray      # (4, 2) corners, working px


def _components(stats: np.ndarray, hmin: float, hmax: float):
    """Glyph-sized boxes from connected-component stats (background row removed):
    (N, 5) ``x, y, w, h, area``, fragments of one glyph merged."""
    w, h, a = stats[:, 2], stats[:, 3], stats[:, 4]
    # drop specks and huge blobs before merging fragments
    stats = stats[(h >= 0.4 * hmin) & (h <= hmax) & (w <= hmax * 2)]
    stats = _merge_fragments(stats)
    w, h, a = stats[:, 2], stats[:, 3], stats[:, 4]
    keep = (h >= hmin) & (h <= hmax) & (w <= 8 * h) & (a >= 0.08 * w * h) & (h <= 12 * w)
    # solid wide bars (rules, barcode blocks) are not glyphs
    keep &= ~((w > 2 * h) & (a > 0.7 * w * h))
    return stats[keep]


BAR_ASPECT = 3.0
"""A barcode bar is at least this many times taller than wide ..."""
BAR_NEIGHBOURS = 4
"""... and stands among at least this many such bars with its top or its bottom in line."""


def barcode_bars(stats: np.ndarray) -> np.ndarray:
    """(N,) bool: which boxes of (N, >=4) ``x, y, w, h`` stats are bars of a barcode.

    A bar is tall and thin and has at least :data:`BAR_NEIGHBOURS` tall thin neighbours
    within its own height whose top or bottom matches its own to a tenth of that height
    (a bar broken by glare or by the threshold keeps one of its ends in line). A VIN's 1s
    are thin too, but their neighbours are wider letters and digits.
    """
    x, y, w, h = (stats[:, i].astype(np.float64) for i in range(4))
    thin = np.nonzero(h >= BAR_ASPECT * np.maximum(w, 1))[0]
    bar = np.zeros(len(stats), bool)
    if len(thin) <= BAR_NEIGHBOURS:
        return bar
    pts = np.stack([x[thin] + w[thin] / 2, y[thin] + h[thin] / 2], 1)
    a, b = _pairs_within(pts, h[thin])
    ia, ib = thin[a], thin[b]
    tol = 0.1 * h[ia]
    same = (np.abs(y[ia] - y[ib]) <= tol) | (np.abs(y[ia] + h[ia] - y[ib] - h[ib]) <= tol)
    count = np.bincount(a[same], minlength=len(thin))
    bar[thin[count >= BAR_NEIGHBOURS]] = True
    return bar


def _merge_fragments(stats: np.ndarray) -> np.ndarray:
    """Union the boxes of glyph fragments stacked in one column (broken strokes,
    engraved glyphs split into parts): boxes that overlap in x by most of the
    narrower one, close vertically, whose union is not much taller than the
    taller part (two text lines never qualify)."""
    n = len(stats)
    if n < 2:
        return stats
    x, y, w, h = (stats[:, i].astype(np.float64) for i in range(4))
    cx, cy = x + w / 2, y + h / 2
    pts = np.stack([cx, cy], 1)
    reach = float(np.percentile(h, 99)) * 1.2
    # two boxes that overlap in x and lie within 0.3 x the taller one's height of each other
    # have centres within 1.65 x the larger box's largest side: each box looks that far (the
    # larger of a pair finds it), which spares the many far pairs of small specks
    a, b = _pairs_within(pts, np.minimum(1.65 * np.maximum(w, h) + 1.0, reach))
    a, b = np.minimum(a, b), np.maximum(a, b)
    a, b = np.unique(np.stack([a, b], 1), axis=0).T if len(a) else (a, b)
    if len(a) == 0:
        return stats
    ov = np.minimum(x[a] + w[a], x[b] + w[b]) - np.maximum(x[a], x[b])
    top = np.minimum(y[a], y[b])
    bot = np.maximum(y[a] + h[a], y[b] + h[b])
    hm = np.maximum(h[a], h[b])
    vgap = np.maximum(y[a], y[b]) - np.minimum(y[a] + h[a], y[b] + h[b])
    # halves of a glyph split at a thin waist (dot-matrix and stencil print: S, 8, B)
    # nearly touch; two text lines keep a visible gap between them
    tall = np.where(vgap <= 0.12 * hm, 2.1, 1.6)
    ok = (ov >= 0.6 * np.minimum(w[a], w[b])) & (vgap <= 0.3 * hm) & (bot - top <= tall * hm)
    ok &= np.minimum(w[a], w[b]) >= 0.4 * np.maximum(w[a], w[b])   # not a bar under a glyph
    bar = barcode_bars(stats)
    ok &= ~(bar[a] | bar[b])        # a glyph printed just above a barcode is no part of a bar
    if not ok.any():
        return stats
    lab = _components_of(n, a[ok], b[ok])
    k = int(lab.max()) + 1
    x0 = np.full(k, np.inf); y0 = np.full(k, np.inf)
    x1 = np.full(k, -np.inf); y1 = np.full(k, -np.inf)
    np.minimum.at(x0, lab, x); np.minimum.at(y0, lab, y)
    np.maximum.at(x1, lab, x + w); np.maximum.at(y1, lab, y + h)
    area = np.bincount(lab, weights=stats[:, 4].astype(np.float64), minlength=k)
    return np.stack([x0, y0, x1 - x0, y1 - y0, area], 1).astype(np.int64)


def _chain(stats: np.ndarray) -> list[np.ndarray]:
    """Chain glyph-sized boxes into text lines; returns index arrays, left to right."""
    n = len(stats)
    if n < 2:
        return []
    x, y, w, h = (stats[:, i].astype(np.float64) for i in range(4))
    cx, cy = x + w / 2, y + h / 2
    a, b = _pairs_within(np.stack([cx, cy], 1), 2.2 * h)
    order = np.lexsort((b, a))          # the order a k-d tree's ball query gives
    a, b = a[order], b[order]
    if len(a) == 0:
        return []
    hmax = np.maximum(h[a], h[b])
    ratio = np.maximum(h[a], h[b]) / np.minimum(h[a], h[b])
    gap = x[b] - (x[a] + w[a])
    # vertical overlap of most of the smaller box (tolerates descending J,
    # mixed heights and a skew of ~20 degrees)
    yov = np.minimum(y[a] + h[a], y[b] + h[b]) - np.maximum(y[a], y[b])
    dy = np.abs(cy[b] - cy[a])
    dx = cx[b] - cx[a]
    ok = (dx > 0.25 * np.minimum(w[a], w[b])) & (gap < 1.0 * hmax) & (gap > -0.4 * hmax)
    ok &= (ratio < 1.8) & (yov >= 0.6 * np.minimum(h[a], h[b]))
    cost = np.where(ok, np.maximum(gap, 0) + 2.0 * dy + 0.3 * np.abs(h[a] - h[b]), np.inf)
    a, b, cost = a[ok], b[ok], cost[ok]
    order = np.lexsort((cost, a))
    a, b, cost = a[order], b[order], cost[order]
    first = np.ones(len(a), bool)
    first[1:] = a[1:] != a[:-1]
    right = np.full(n, -1)
    best_cost = np.full(n, np.inf)
    right[a[first]] = b[first]
    best_cost[a[first]] = cost[first]
    # each b keeps only its cheapest left neighbour
    left = np.full(n, -1)
    left_cost = np.full(n, np.inf)
    for i in np.argsort(best_cost):
        j = right[i]
        if j >= 0 and left[j] < 0:
            left[j] = i
            left_cost[j] = best_cost[i]
    right = np.full(n, -1)
    for j in range(n):
        if left[j] >= 0:
            right[left[j]] = j
    chains = []
    seen = np.zeros(n, bool)
    for s in np.nonzero(left < 0)[0]:
        c = [s]
        seen[s] = True
        while right[c[-1]] >= 0 and not seen[right[c[-1]]]:
            c.append(right[c[-1]])
            seen[c[-1]] = True
        if len(c) >= 2:
            chains.append(np.array(c))
    return chains


def _rect_quad(cx: float, cy: float, c: float, sn: float, length: float, half_h: float) -> np.ndarray:
    """(4, 2) corners of a rectangle centred at ``(cx, cy)`` along direction ``(c, sn)``."""
    dirs = np.array([[c, sn], [-sn, c]])
    return np.array([[cx, cy]]) + np.array([[-length / 2, -half_h], [length / 2, -half_h],
                                            [length / 2, half_h], [-length / 2, half_h]]) @ dirs


def _fit_line(stats: np.ndarray, idx: np.ndarray, polarity: str, source: str) -> _RawLine | None:
    s = stats[idx].astype(np.float64)
    x, y, w, h = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
    cx, cy = x + w / 2, y + h / 2
    H = float(np.median(h))
    if len(idx) >= 3 and np.ptp(cx) > 0:
        slope = np.polyfit(cx, cy, 1)[0]
    else:
        slope = 0.0
    ang = float(np.arctan(slope))
    if abs(ang) > np.deg2rad(30):
        return None
    c, sn = np.cos(ang), np.sin(ang)
    corners_x = np.concatenate([x, x + w, x, x + w])
    corners_y = np.concatenate([y, y, y + h, y + h])
    mx, my = cx.mean(), cy.mean()
    u = (corners_x - mx) * c + (corners_y - my) * sn
    u0, u1 = u.min(), u.max()
    v = -(cx - mx) * sn + (cy - my) * c
    centre_u = (u0 + u1) / 2
    ccx, ccy = mx + centre_u * c, my + centre_u * sn
    length = u1 - u0
    hh = H * 0.5 + float(np.median(np.abs(v)))
    quad = _rect_quad(ccx, ccy, c, sn, length, hh)
    # score: many glyph-like boxes of regular height and pitch
    hcv = float(np.std(h) / max(H, 1))
    score = len(idx) * (1.0 / (1.0 + 2 * hcv))
    return _RawLine(ccx, ccy, ang, length, H, len(idx), polarity, source, score, quad)


def _poly_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area / smaller area of two convex quads."""
    area, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    sa, sb = cv2.contourArea(a.astype(np.float32)), cv2.contourArea(b.astype(np.float32))
    return float(area) / max(1e-6, min(sa, sb))


# --------------------------------------------------------------------------- #
# Strips and pieces
# --------------------------------------------------------------------------- #

def _strip_affine(cx, cy, ang, length, height, scale_to_orig, pad_w, strip_h):
    """Affine (2, 3) strip->original and the strip size, glyph height -> STRIP_H."""
    s = height / STRIP_H                     # working px per strip px
    W = int(round(length / s + 2 * pad_w))
    c, sn = np.cos(ang), np.sin(ang)
    # strip (u, v) -> working: centre + R [(u - W/2) s, (v - S/2) s]
    A = np.array([[c * s, -sn * s], [sn * s, c * s]])
    t = np.array([cx, cy]) - A @ np.array([W / 2.0, strip_h / 2.0])
    M = np.hstack([A, t[:, None]]) / scale_to_orig
    return M, W


def _warp(gray: np.ndarray, M: np.ndarray, W: int, S: int) -> np.ndarray:
    return cv2.warpAffine(gray, M, (W, S), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


BLURRED = 2.5
"""A strip whose edges are spread wider than this (the sigma of :func:`edge_blur`, in strip
pixels: a glyph is :data:`STRIP_H` tall) is out of focus; sharp print measures 0.7 to 2."""
SHARPEN = 1.5
"""Strength of the unsharp mask :func:`sharpen_blurred` applies to an out-of-focus strip."""


def edge_blur(strip: np.ndarray) -> float:
    """How far the edges of a strip's middle rows (the glyph band) are spread, as the sigma
    (pixels) of the Gaussian that would blur a step of the band's contrast to its steepest
    slope: ``contrast / (sqrt(2 pi) x steepest gradient)``.

    Parameters
    ----------
    strip : (S, W) uint8 gray, glyphs about :data:`STRIP_H` tall in the middle rows.
    """
    c = strip.shape[0] // 2
    band = strip[max(0, c - STRIP_H // 2):c + STRIP_H // 2].astype(np.float32)
    lo, hi = np.percentile(band, (3, 97))
    gx = cv2.Sobel(band, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(band, cv2.CV_32F, 0, 1, ksize=3) / 8
    steepest = float(np.percentile(np.hypot(gx, gy), 99))
    return float(hi - lo) / (np.sqrt(2 * np.pi) * max(steepest, 1e-3))


def sharpen_blurred(strip: np.ndarray, blurred: float = BLURRED, amount: float = SHARPEN) -> np.ndarray:
    """An out-of-focus strip (:func:`edge_blur` above ``blurred``) through an unsharp mask
    of the blur it measures; a sharp one unchanged (same array).

    Parameters
    ----------
    strip : (S, W) uint8 gray.

    Returns
    -------
    (S, W) uint8 gray.
    """
    sigma = edge_blur(strip)
    if sigma <= blurred:
        return strip
    f = strip.astype(np.float32)
    sharp = f + amount * (f - cv2.GaussianBlur(f, (0, 0), sigma))
    return np.clip(sharp, 0, 255).astype(np.uint8)


def inside_image(shape: tuple[int, ...], M: np.ndarray, W: int, S: int, margin: float = 2.0) -> np.ndarray:
    """(S, W) bool: the strip pixels whose source lies inside the image, ``margin`` px clear
    of its edges.

    A strip reaches well beyond its line (:data:`EXTEND`), often past the photo's edge, where
    the replicated border pixels smear into streaks that binarise as ink; only ink inside counts.

    Parameters
    ----------
    shape : the original image's shape, (H, W, ...).
    M : (2, 3) affine map from strip ``(u, v, 1)`` to original ``(x, y)``.
    """
    h, w = shape[:2]
    u = np.arange(W, dtype=np.float64)[None, :]
    v = np.arange(S, dtype=np.float64)[:, None]
    x = M[0, 0] * u + M[0, 1] * v + M[0, 2]
    y = M[1, 0] * u + M[1, 1] * v + M[1, 2]
    return (x >= margin) & (x <= w - 1 - margin) & (y >= margin) & (y <= h - 1 - margin)


def _strip_ink(strip: np.ndarray, polarity: str, source: str = "") -> tuple[np.ndarray, str]:
    """Binarise an upright strip (glyph height ~STRIP_H); returns (bool ink, polarity).
    Lines found as dots (``source`` ``"dots"``) are binarised as dots again."""
    S, W = strip.shape
    f = strip.astype(np.float32)
    if polarity == "edge":
        g = cv2.GaussianBlur(strip, (3, 3), 0)
        grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
        t, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        ink = (grad > max(t, 12)).astype(np.uint8)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, k)
        mid = slice(S // 2 - STRIP_H // 2, S // 2 + STRIP_H // 2)
        m = ink[mid].astype(bool)
        inside = float(f[mid][m].mean()) if m.any() else 0.0
        bg = float(np.median(f[mid]))
        # for engraved metal, the glyph face is usually the extreme side
        polarity = "light" if inside > bg else "dark"
        return ink.astype(bool), polarity
    if source == "dots":
        # dots at the strip's scale: a dot-peen glyph is about 7 dots tall
        resp = blob_response(strip, STRIP_H / 20, polarity)
        spots = resp > 0.1 * max(float(np.percentile(resp, 99.5)), 1e-3)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(STRIP_H / 6), _odd(STRIP_H / 6)))
        ink = cv2.morphologyEx(spots.astype(np.uint8), cv2.MORPH_CLOSE, k)
        return ink.astype(bool), polarity
    blk = _odd(1.5 * STRIP_H)
    f = cv2.GaussianBlur(f, (3, 3), 0)
    mean = cv2.blur(f, (blk, blk))
    sd = np.sqrt(np.maximum(cv2.blur(f * f, (blk, blk)) - mean * mean, 0))
    diff = (mean - f) if polarity == "dark" else (f - mean)
    ink = (diff > np.maximum(8.0, 0.5 * sd)).astype(np.uint8)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return ink.astype(bool), polarity


def _band(ink: np.ndarray, x0: int, x1: int) -> tuple[int, int] | None:
    """Rows of the glyph band: the run of well-inked rows around the middle."""
    S = ink.shape[0]
    # rules (a plate's border, an underline) are ink far wider than any glyph: not the band
    u8 = ink[:, x0:x1].astype(np.uint8)
    rules = cv2.morphologyEx(u8, cv2.MORPH_OPEN, np.ones((1, 2 * STRIP_H), np.uint8))
    prof = (u8 & (1 - rules)).mean(1)
    prof = np.convolve(prof, np.ones(3) / 3, mode="same")
    c = S // 2
    lo_win, hi_win = max(0, c - STRIP_H), min(S, c + STRIP_H)
    top = prof[lo_win:hi_win].max()
    floor = float(np.percentile(prof, 10))
    if top - floor <= 0.02:
        return None
    on = prof > floor + 0.3 * (top - floor)
    # nearest 'on' row to the centre
    rows = np.nonzero(on[lo_win:hi_win])[0] + lo_win
    r = rows[np.argmin(np.abs(rows - c))]
    t = r
    while t > 0 and on[t - 1]:
        t -= 1
    b = r
    while b < S - 1 and on[b + 1]:
        b += 1
    return int(t), int(b + 1)


SPECK = 4
"""Ink components of at most this many strip pixels (grain on metal, paper dust) do not join
the columns they sit in into one piece; a dot-peen dot at the strip's scale is larger."""


def _pieces(ink: np.ndarray, band: tuple[int, int], gap: float = 1 / 12) -> np.ndarray:
    """Over-segment the band into column pieces ``[x0, x1)``; empty column runs narrower
    than ``gap`` x the band's height (broken strokes, dot columns) do not separate pieces,
    and specks (:data:`SPECK`) do not fill the gaps between glyphs. A narrow column run
    outside those pieces that spans half the band with specks (a faint 1 of which a few dots
    are left) is a piece of its own."""
    t, b = band
    H = b - t
    sub = ink[t:b]
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sub.astype(np.uint8), connectivity=8)
    small = np.nonzero(stats[1:, cv2.CC_STAT_AREA] <= SPECK)[0] + 1
    g = max(1, int(H * gap))
    if len(small) == 0:
        return _column_pieces(sub, H, g)
    specks = np.isin(labels, small)
    out = [tuple(p) for p in _column_pieces(sub & ~specks, H, g)]
    taken = np.zeros(sub.shape[1], bool)
    for a, z in out:
        taken[max(0, a - g):z + g] = True
    rest = sub & ~taken[None, :]
    for a, z in runs(_close_columns(rest.any(0), g)):
        ys = np.nonzero(rest[:, a:z].any(1))[0]
        if z - a <= 0.3 * H and len(ys) and ys[-1] - ys[0] + 1 >= 0.5 * H:
            out.append((a, z))
    return np.array(sorted(out), np.int32).reshape(-1, 2)


def _close_columns(on: np.ndarray, g: int) -> np.ndarray:
    """(W,) bool columns with ink, empty runs narrower than ``g`` + 1 filled."""
    return cv2.morphologyEx(on.astype(np.uint8)[None], cv2.MORPH_CLOSE,
                            np.ones((1, g + 1), np.uint8))[0].astype(bool)


def _column_pieces(sub: np.ndarray, H: int, g: int) -> np.ndarray:
    """:func:`_pieces` of a band's ink ``sub`` (H, W) bool: column runs (empty runs of up to
    ``g`` columns filled) cut at projection minima."""
    col = sub.sum(0).astype(np.float32)
    on = _close_columns(col > 0, g)
    out = []
    k = max(3, 2 * g - 1) if g > H // 12 else 3      # dot lines: smooth over the dot columns
    smooth = np.convolve(col, np.ones(k) / k, mode="same")
    for s, e in runs(on):
        seg = sub[:, s:e]
        ys = np.nonzero(seg.any(1))[0]
        if len(ys) == 0 or (ys[-1] - ys[0] + 1) < 0.3 * H:
            continue                     # specks, underline fragments
        out.extend(_cut(smooth[s:e], s, H))
    return np.array(out, np.int32).reshape(-1, 2)


CUT_DEPTH = 0.6
FORCE_CUT = 0.95


def _cut(prof: np.ndarray, offset: int, H: int) -> list[tuple[int, int]]:
    """Cut a run of columns at projection minima so no piece is much wider than a glyph.

    Over-segments on purpose: every local minimum of the column profile that
    below ``CUT_DEPTH`` x the run's peak becomes a cut (decoding merges pieces
    back), and pieces still wider than ``FORCE_CUT x H`` are cut at their
    deepest column near equal spacing. Cutting shallow minima too splits W
    into VV and M into NI, which a classifier happily accepts.
    """
    w = len(prof)
    if w <= 0.7 * H:
        return [(offset, offset + w)]
    minw = max(2, int(0.12 * H))
    top = float(prof.max()) or 1.0
    cand = [i for i in range(minw, w - minw)
            if prof[i] <= prof[i - 1] and prof[i] <= prof[i + 1] and prof[i] < CUT_DEPTH * top
            and (prof[i] < prof[i - 1] or prof[i] < prof[i + 1])]
    kept: list[int] = []
    for c in sorted(cand, key=lambda i: prof[i]):      # deepest first, keep apart by minw
        if all(abs(c - k) >= minw for k in kept):
            kept.append(c)
    bounds = [0] + sorted(kept) + [w]
    final = [0]
    for a, b in zip(bounds[:-1], bounds[1:]):
        n = int(np.ceil((b - a) / (FORCE_CUT * H)))
        if n > 1:
            step = (b - a) / n
            for k in range(1, n):
                lo = int(a + k * step - 0.25 * step)
                hi = int(a + k * step + 0.25 * step) + 1
                final.append(lo + int(np.argmin(prof[lo:hi])))
        final.append(b)
    return [(offset + a, offset + b) for a, b in zip(final[:-1], final[1:]) if b > a]


EXTEND = 12
"""How far (in glyph heights) a line's strip is searched beyond its chain of components."""


def _trim(pieces: np.ndarray, lo: float, hi: float, gap: float = 1.2) -> np.ndarray:
    """Keep the pieces inside ``[lo, hi]`` plus those beyond that continue the
    line without a gap wider than ``gap`` glyph heights."""
    if len(pieces) == 0:
        return pieces
    c = pieces.mean(1)
    inside = np.nonzero((c >= lo) & (c <= hi))[0]
    if len(inside) == 0:
        return pieces[:0]
    i0, i1 = inside[0], inside[-1]
    g = gap * STRIP_H
    while i0 > 0 and pieces[i0, 0] - pieces[i0 - 1, 1] < g:
        i0 -= 1
    while i1 < len(pieces) - 1 and pieces[i1 + 1, 0] - pieces[i1, 1] < g:
        i1 += 1
    return pieces[i0:i1 + 1]


RULE_LENGTH = 3.0
"""Shortest rule (underline, table or form line) :func:`erase_rules` takes out of a strip, in
glyph heights: no stroke of a character is that long."""
RULE_THICKNESS = 0.15
"""Thickest rule, in glyph heights: a character's bar lying along one is thicker together
with it, and stays."""
RULE_CLIMB = 2
"""Rows a rule may climb or fall over :data:`RULE_LENGTH` (it runs at a slightly other angle
than the text it underlines)."""


def erase_rules(strip: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Take long thin near-horizontal rules out of an upright strip and its ink mask.

    An underline touching the glyphs, a form's writing line or a label's table line
    joins the glyphs' pieces and puts a bar under each crop (a 7 reads as Z). Ink
    in an unbroken run of at least :data:`RULE_LENGTH` glyph heights (allowing the run
    to climb :data:`RULE_CLIMB` rows), in a column run at most :data:`RULE_THICKNESS`
    glyph heights thick, is painted with the ground around it.

    Parameters
    ----------
    strip : (S, W) uint8 gray, glyphs :data:`STRIP_H` tall.
    ink : (S, W) bool ink of ``strip``.

    Returns
    -------
    The cleaned ``(strip, ink)`` (the inputs themselves when there is no rule).
    """
    length = int(RULE_LENGTH * STRIP_H)
    if ink.shape[1] < length:
        return strip, ink
    ink8 = ink.astype(np.uint8)
    # long: in a run of ``length`` columns once the ink is thickened by the climb allowed
    climbing = cv2.dilate(ink8, np.ones((2 * RULE_CLIMB + 1, 1), np.uint8))
    long = cv2.morphologyEx(climbing, cv2.MORPH_OPEN, np.ones((1, length), np.uint8)) > 0
    rule = ink & long
    if not rule.any():
        return strip, ink
    # thin: not in a column run thicker than a rule (a glyph's stroke across it, its bar on it)
    thickest = int(RULE_THICKNESS * STRIP_H)
    rule &= cv2.morphologyEx(ink8, cv2.MORPH_OPEN, np.ones((thickest + 1, 1), np.uint8)) == 0
    if not rule.any():
        return strip, ink
    paint = cv2.dilate(rule.astype(np.uint8), np.ones((3, 3), np.uint8))
    cleaned = cv2.inpaint(strip, paint, 3, cv2.INPAINT_TELEA)
    return cleaned, ink & ~paint.astype(bool)


def _make_line(gray: np.ndarray, raw: _RawLine, scale: float) -> Line | None:
    """Resample a raw line from the original gray into an upright strip with pieces."""
    S1 = 3 * STRIP_H
    pad = STRIP_H
    M, W = _strip_affine(raw.cx, raw.cy, raw.angle, raw.length, raw.height, scale, pad, S1)
    if W < 4 * STRIP_H or W > 200 * STRIP_H:
        return None
    strip = sharpen_blurred(_warp(gray, M, W, S1))        # out of focus: sharpened
    ink, pol = _strip_ink(strip, raw.polarity, raw.source)
    ink &= inside_image(gray.shape, M, W, S1)
    band = _band(ink, pad // 2, W - pad // 2)
    if band is None:
        return None
    t, b = band
    h_strip = b - t
    if h_strip < 0.4 * STRIP_H or h_strip > 1.8 * STRIP_H:
        return None
    # second pass: re-centre on the band and rescale so the glyphs are STRIP_H tall
    f = h_strip / STRIP_H
    dv = ((t + b) / 2 - S1 / 2) * raw.height / STRIP_H
    c, sn = np.cos(raw.angle), np.sin(raw.angle)
    cx, cy = raw.cx - sn * dv, raw.cy + c * dv
    height = raw.height * f
    S = 2 * STRIP_H
    # extend the strip well beyond the chain: a line whose chain broke (an odd
    # glyph, a glare spot) is recovered here; pieces are trimmed at word gaps
    ext = EXTEND * STRIP_H
    M, W = _strip_affine(cx, cy, raw.angle, raw.length, height, scale, ext, S)
    if W < 4 * STRIP_H:
        return None
    strip = sharpen_blurred(_warp(gray, M, W, S))
    ink, pol2 = _strip_ink(strip, raw.polarity, raw.source)
    inside = inside_image(gray.shape, M, W, S)
    ink &= inside
    strip, ink = erase_rules(strip, ink)
    pol = pol2 if raw.polarity == "edge" else raw.polarity
    m = int(0.1 * STRIP_H)
    band = (max(0, S // 2 - STRIP_H // 2 - m // 2), min(S, S // 2 + STRIP_H // 2 + m // 2))
    pieces = _pieces(ink, band, DOT_GAP if raw.source == "dots" else 1 / 12)
    # a piece the photo's edge cuts through is part of something outside it, not a glyph
    whole = inside[band[0]:band[1]]
    pieces = pieces[[bool(whole[:, max(0, a - 1):b + 1].all()) for a, b in pieces]].reshape(-1, 2)
    pieces = _trim(pieces, ext - STRIP_H // 2, W - ext + STRIP_H // 2)
    if len(pieces) < 1:
        return None
    x0, x1 = max(0, int(pieces[0, 0]) - STRIP_H), min(W, int(pieces[-1, 1]) + STRIP_H)
    M = M.copy()
    M[:, 2] += M[:, 0] * x0
    strip, ink, pieces = strip[:, x0:x1], ink[:, x0:x1], pieces - x0
    W = x1 - x0
    # contrast of the glyph band against the rows around it: text lines have
    # ink in the band and little above and below, texture has ink everywhere
    x0, x1 = int(pieces[0, 0]), int(pieces[-1, 1])
    rows = ink[:, x0:x1].mean(1)
    t, b = band
    m = max(2, STRIP_H // 20)
    above = rows[max(0, t - 4 * m):max(1, t - m)].mean()
    below = rows[min(S - 1, b + m):min(S, b + 4 * m)].mean()
    quality = float(rows[t:b].mean() - min(above, below))
    if quality < 0.04:
        return None
    line = Line(pieces=pieces, boxes=np.zeros((0, 4), np.int32), polarity=pol,
                angle=float(np.degrees(raw.angle)), strip=strip, band=band,
                source=raw.source, height=float(height / scale), strip_to_image=M, ink=ink,
                quality=quality)
    line.boxes = np.array([line.span_box(a, b) for a, b in pieces], np.int32).reshape(-1, 4)
    return line


# --------------------------------------------------------------------------- #
# Public: find_lines
# --------------------------------------------------------------------------- #

PASSES = ("threshold", "dots", "dense")
"""Binarisation passes of :func:`find_lines`: ``threshold`` (global, adaptive, low-pass and
edge masks of both polarities), ``dots`` (round-spot masks for dot-peen in grain, the
fallback: its lines rank after the others) and ``dense`` (bands of dense edges,
:func:`_dense_edge_lines`: the last resort for glyphs that break into fragments)."""
FALLBACKS = {"dots": 1, "dense": 2}
"""Sources of the fallback passes, in the order their lines rank after the others'."""
EDGE_SOURCES = {"dense": "edge"}
"""Sources whose lines are pieced like edge lines (from the strip's closed gradient)."""


_POOL: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: it makes its own when it needs one."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def _pool_map(fn, items: list) -> list:
    """``[fn(x) for x in items]``, on as many threads as the glyph classifier uses
    (:func:`vinread.model.default_threads`: the machine's cores, at most 4, or
    ``VINREAD_THREADS``): OpenCV releases Python's lock while it works, so independent lines
    are made side by side. Results in ``items``' order, the same as one thread gives."""
    global _POOL
    from .model import ModelLoadError, default_threads

    try:
        workers = default_threads()
    except ModelLoadError:      # a bad VINREAD_THREADS is the model's error to report
        workers = 1
    if workers < 2 or len(items) < 2:
        return [fn(x) for x in items]
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vinread")
    return list(_POOL.map(fn, items))


def _mask_lines(name: str, pol: str, mask: np.ndarray, hmin: float, hmax: float) -> list[_RawLine]:
    """The raw lines of one binarisation's mask: chains of glyph-sized components (and, in the
    adaptive mask, of dots merged into strokes), barcodes' tall thin bars left out."""
    _, _, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found = [(name, stats[1:])]
    dm = _dot_mask(mask, stats[1:], cents[1:]) if name == "adaptive" else None
    if dm is not None:
        found.append((name + "+dots", cv2.connectedComponentsWithStats(dm, connectivity=8)[2][1:]))
    raws = []
    for nm, cc in found:
        st = _components(cc, hmin, hmax)
        for idx in _chain(st):
            if len(idx) < 5:
                continue
            r = _fit_line(st, idx, pol, nm)
            if r is None or r.length < 3 * r.height:
                continue
            # barcodes: tall thin bars
            asp = np.median(st[idx, 3] / np.maximum(1, st[idx, 2]))
            if asp > 5:
                continue
            raws.append(r)
    return raws


def find_lines(image: np.ndarray, min_pieces: int = 17, max_lines: int = MAX_LINES,
               passes: Sequence[str] = PASSES) -> list[Line]:
    """Find candidate text lines that could hold a VIN.

    Parameters
    ----------
    image : (H, W, 3) BGR, (H, W, 4) BGRA or (H, W) gray array, uint8 (or
        uint16 / float in [0, 1]), any size (12 MP is fine).
    min_pieces : lines with fewer pieces cannot hold ``min_pieces`` glyphs and
        are dropped (use a small value to see every text line).
    max_lines : at most this many lines, best first.
    passes : which of :data:`PASSES` to run (the search runs ``dots``, then ``dense``,
        only while the lines before gave no sure reading).

    Returns
    -------
    list of :class:`Line`, most promising first (many regular glyph-sized
    components). Each line's pieces are in reading order, left to right in the
    upright strip; boxes are in original image coordinates.
    """
    gray = gray_u8(image)
    work, scale = _working(gray)
    long = max(work.shape)
    hmin = max(7.0, 0.006 * long)
    hmax = 0.8 * min(work.shape)
    unknown = set(passes) - set(PASSES)
    if unknown:
        raise ValueError(f"unknown passes {sorted(unknown)}; choose from {PASSES}")
    raws: list[_RawLine] = []
    if "dots" in passes:
        for name, pol, mask in _dot_binarisations(work):
            raws += _blob_lines(mask, pol, name, hmin)
    binarised = _binarisations(work) if "threshold" in passes else []
    if "dense" in passes:
        # the threshold pass's edge mask when it ran in this call, else the same one afresh
        edge = next((mask for name, _, mask in binarised if name == "edge"), None)
        raws += _dense_edge_lines(_edge_mask(_clahe(work)) if edge is None else edge, hmin)
    for name, pol, mask in binarised:
        raws += _mask_lines(name, pol, mask, hmin, hmax)
    raws.sort(key=lambda r: (FALLBACKS.get(r.source, 0), -r.score))
    made: list[tuple[float, Line]] = []
    kept: list[_RawLine] = []
    for r in raws:
        if len(kept) >= 2 * max_lines:
            break
        if any(k.polarity == r.polarity and _same_kind(k.source, r.source)
               and abs(np.log(k.height / r.height)) < 0.4
               and _poly_overlap(k.quad, r.quad) > 0.5 for k in kept):
            continue
        kept.append(r)
    for r, line in zip(kept, _pool_map(lambda r: _make_line(gray, r, scale), kept)):
        if line is None or len(line.pieces) < min_pieces:
            continue
        if r.source == "dense" and line.height * scale < hmin:
            continue        # a band of texture whose ink is thinner than any glyph
        made.append((line.quality * min(r.score, 25.0), line))
    # dot lines are the fallback for grain that hides the dots from the thresholds, dense
    # bands the last resort: last
    made.sort(key=lambda t: (FALLBACKS.get(t[1].source, 0), -t[0]))
    lines: list[Line] = []
    quads: list[tuple[str, str, np.ndarray]] = []
    for _, line in made:
        q = _line_quad(line)
        if any(p == line.polarity and _same_kind(src, line.source) and _poly_overlap(q, o) > 0.6
               for p, src, o in quads):
            continue
        quads.append((line.polarity, line.source, q))
        lines.append(line)
        if len(lines) >= max_lines:
            break
    return lines


def _same_kind(a: str, b: str) -> bool:
    """Whether two lines' sources cut glyphs alike: lines found as dots are pieced from the
    dots, edge lines (and the dense pass's bands, :data:`EDGE_SOURCES`) from the strip's closed
    gradient (which can bridge neighbouring glyphs), the others from the strip's own
    thresholds; a line only hides another of its kind."""
    a, b = (EDGE_SOURCES.get(x, x) for x in (a, b))
    return all((a == k) == (b == k) for k in ("dots", "edge"))


def _line_quad(line: Line) -> np.ndarray:
    """(4, 2) corners in original coordinates of the line's pieces over its band."""
    x0, x1 = float(line.pieces[0, 0]), float(line.pieces[-1, 1])
    t, b = line.band
    pts = np.array([[x0, t, 1], [x1, t, 1], [x1, b, 1], [x0, b, 1]], np.float64)
    return pts @ line.strip_to_image.T


# --------------------------------------------------------------------------- #
# Public: decode_line
# --------------------------------------------------------------------------- #

_MAX_WIDTH = np.array([2.2 if c in "WM" else 1.2 for c in ALPHABET])
"""Widest plausible glyph of each class, in pitches."""
_MIN_WIDTH = np.array([0.0 if c == "1" else 0.3 for c in ALPHABET])
"""Narrowest plausible glyph of each class, in pitches."""


DESCENDER_DEPTH = 0.4
"""A glyph's ink may hang this far below the band, in glyph heights (the hook of a J in many
sans faces); farther down it is something else (a rule, the next line)."""
DESCENDER_REACH = 0.35
"""... and reach this far beside the part of it in the band (the hook curls under the neighbour)."""


def descenders(line: Line) -> np.ndarray:
    """(K, 4) int ``[band_x0, band_x1, x0, x1)`` of the strip's ink components that hang below
    the glyph band (a J's hook): their columns within the band, and all their columns."""
    if line.ink is None:
        return np.zeros((0, 4), np.int64)
    t, b = line.band
    H = STRIP_H
    _, lab, st, _ = cv2.connectedComponentsWithStats(line.ink.astype(np.uint8), connectivity=8)
    x, y, w, h = st[1:, 0], st[1:, 1], st[1:, 2], st[1:, 3]
    bottom = y + h
    hang = np.nonzero((y < t + 0.5 * H) & (bottom > b + 0.05 * H) & (bottom <= b + DESCENDER_DEPTH * H)
                      & (w <= H))[0] + 1
    if len(hang) == 0:
        return np.zeros((0, 4), np.int64)
    band = lab[t:b]
    out = []
    for k in hang:
        cols = np.nonzero((band == k).any(0))[0]
        if len(cols):
            out.append((cols[0], cols[-1] + 1, st[k, 0], st[k, 0] + st[k, 2]))
    return np.array(out, np.int64).reshape(-1, 4)


def with_descender(x0: int, x1: int, hangers: np.ndarray) -> tuple[int, int]:
    """Strip columns ``[x0, x1)`` widened to take in a descender of the glyph they hold (one of
    :func:`descenders` whose part in the band lies within them), by at most
    :data:`DESCENDER_REACH` glyph heights a side. Without it a J's hook is cut off: a 1."""
    r = int(round(DESCENDER_REACH * STRIP_H))
    for bx0, bx1, cx0, cx1 in hangers:
        if bx0 >= x0 - 1 and bx1 <= x1 + 1:
            x0, x1 = max(min(x0, cx0), x0 - r), min(max(x1, cx1), x1 + r)
    return int(x0), int(x1)


def decode_line(line: Line, scorer: Scorer, n: int = 17, *, max_merge: int = 6,
                max_width: float = 1.4, min_width: float = 0.12, top: int = 3,
                line_index: int = 0, skip_penalty: float = 3.0, gap_penalty: float = 2.0,
                cut_penalty: float = 1.5, pitch_weight: float = 6.0,
                edge_penalty: float = 4.0, word_gap: float = 0.5,
                prop_tolerance: float = 1.3, width_weight: float = 20.0,
                beam: int = 3, min_height: float = 0.45) -> list[Hypothesis]:
    """Best readings of exactly ``n`` glyphs from a line's pieces.

    Every union of up to ``max_merge`` consecutive pieces no wider than
    ``max_width`` x glyph height (and no narrower than ``min_width``) whose
    ink covers at least ``min_height`` of the glyph band's height (VIN
    characters are all capitals and digits: ``*``, ``-``, ``:`` are not) is a
    candidate glyph; all candidates go to ``scorer`` in ONE call. A glyph's
    log score is ``log max(probs) + log glyphness``. Dynamic programming (a
    small beam per state) picks ``n`` consecutive candidates maximising the
    summed glyph scores minus geometric penalties:

    * pieces before the first and after the last glyph are skipped (``*``
      delimiters, a ``VIN:`` prefix, logos); that is free across a word gap
      (``word_gap`` glyph heights) and otherwise costs ``edge_penalty`` x the
      skipped neighbour's glyphness (a VIN stands apart); a piece skipped
      between glyphs costs ``skip_penalty`` plus ``-log(1 - glyphness)``;
    * a boundary between two glyphs that cuts through ink (touching pieces)
      costs ``cut_penalty``, a boundary on white space is free;
    * the centre-to-centre distance of neighbouring glyphs should match the
      line's pitch: ``pitch_weight x log(d/pitch)^2``; the pitch is the one of
      12 trial values (0.4 to 1.2 glyph heights) whose best path scores best;
      neighbours less than 0.25 glyph heights apart (proportional print,
      where W and M are wider than the pitch) may be up to
      ``prop_tolerance`` x the pitch apart, or ``1/sqrt(prop_tolerance)``
      closer, for free;
    * a glyph's width relative to the pitch should fit its class: wider
      than :data:`_MAX_WIDTH` (1.2 pitches; 2.2 for W and M) or narrower
      than :data:`_MIN_WIDTH` (0.3 pitches, none for 1) costs
      ``width_weight x log(ratio)^2`` on that class's log-probability
      (a span holding "00" read as N, a W's half read as V);
    * a gap wider than a glyph height costs ``gap_penalty`` per extra height;
    * at most two pieces are skipped between neighbouring glyphs.

    Hypotheses are the best paths (k-best Viterbi over (glyph count, last
    span) keeping ``beam`` partial paths per state, vectorised with numpy):
    besides paths ending at different pieces they include alternative
    segmentations of the same pieces, for the check digit to arbitrate.

    Parameters
    ----------
    line : a :class:`Line` from :func:`find_lines`.
    scorer : ``scorer(crops, polarity) -> (probs (N, 33), glyphness (N,))``.
    n : number of glyphs to read.
    top : number of hypotheses to return.
    line_index : stored in each hypothesis.

    Returns
    -------
    Up to ``top`` :class:`Hypothesis`, best first; empty when the line cannot
    hold ``n`` glyphs.
    """
    keep = vin_windows(line.pieces, n)
    P = int(keep.sum())
    if P < n:
        return []
    H = STRIP_H
    xs0, xs1 = line.pieces[keep, 0].astype(np.int64), line.pieces[keep, 1].astype(np.int64)
    # ink rows of each piece around the band: every VIN character (capital or
    # digit) spans the band's height, so shorter spans (*, -, :, a bar of a T
    # cut off its stem) are not scored at all
    t, b = line.band
    if line.ink is not None and min_height > 0:
        m = max(1, H // 8)
        lo = max(0, t - m)
        sub = line.ink[lo:min(line.ink.shape[0], b + m)]
        ptop = np.empty(P, np.int64)
        pbot = np.empty(P, np.int64)
        for k in range(P):
            rows = np.nonzero(sub[:, xs0[k]:xs1[k]].any(1))[0]
            ptop[k], pbot[k] = (rows[0], rows[-1] + 1) if len(rows) else (sub.shape[0], 0)
    else:
        ptop = pbot = None
    spans = []
    for i in range(P):
        for j in range(i, min(P, i + max_merge)):
            w = xs1[j] - xs0[i]
            if w > max_width * H:
                break
            if w < min_width * H:
                continue
            if ptop is not None and pbot[i:j + 1].max() - ptop[i:j + 1].min() < min_height * H:
                continue
            spans.append((i, j))
    if len(spans) < n:
        return []
    crops = [line.span_crop(int(xs0[i]), int(xs1[j])) for i, j in spans]
    polarity = scoring_polarity(line)
    probs, glyph = scorer(crops, polarity)
    probs = np.asarray(probs, np.float64).reshape(len(spans), NUM_CLASSES)
    glyph = np.asarray(glyph, np.float64).reshape(len(spans))
    eps = 1e-6
    logp = np.log(probs + eps)
    logg = np.log(glyph + eps)
    sscore_plain = glyph_log_scores(probs, glyph, eps)
    span_w = (xs1[np.array([j for _, j in spans])] - xs0[np.array([i for i, _ in spans])]).astype(np.float64)
    single = {i: glyph[k] for k, (i, j) in enumerate(spans) if i == j}
    skip_cost = np.array([skip_penalty - np.log(1 - single.get(i, 0.0) + eps) for i in range(P)])
    # boundary after piece i cuts through ink?
    cut_cost = np.zeros(P)
    if line.ink is not None and line.source != "dots":   # dot glyphs sit as close as their dots
        band_ink = line.ink[t:b]
        for i in range(P - 1):
            if xs1[i] >= xs0[i + 1]:
                c = int(min(xs1[i], band_ink.shape[1] - 1))
                lo, hi = max(0, c - 1), min(band_ink.shape[1], c + 1)
                if band_ink[:, lo:hi].any():
                    cut_cost[i] = cut_penalty
    K = len(spans)
    span_i = np.array([i for i, _ in spans])
    span_j = np.array([j for _, j in spans])
    centre = (xs0[span_i] + xs1[span_j]) / 2.0
    # predecessors of span k: spans ending at piece span_i[k] - 1 - s, s <= max_skip
    max_skip = 2
    ends_at: dict[int, list[int]] = {}
    for k, j in enumerate(span_j):
        ends_at.setdefault(int(j), []).append(k)
    preds = [[p for s_ in range(max_skip + 1) for p in ends_at.get(int(span_i[k]) - 1 - s_, ())]
             for k in range(K)]
    width = max(1, max(len(q) for q in preds))
    pred = np.full((K, width), -1, np.int64)
    for k, q in enumerate(preds):
        pred[k, :len(q)] = q
    valid = pred >= 0
    pp = np.where(valid, pred, 0)
    csum = np.concatenate([[0.0], np.cumsum(skip_cost)])
    first_skipped = span_j[pp] + 1
    last_skipped = span_i[:, None] - 1
    base = csum[last_skipped + 1] - csum[np.minimum(first_skipped, last_skipped + 1)]
    adjacent = first_skipped == span_i[:, None]
    base = base + np.where(adjacent, cut_cost[np.clip(span_j[pp], 0, P - 1)], 0.0)
    gap = (xs0[span_i][:, None] - xs1[span_j[pp]]) / H
    base = base + gap_penalty * np.maximum(gap - 1.0, 0.0)
    dist = np.maximum(centre[:, None] - centre[pp], 1.0)
    # proportional print (stickers): wide glyphs (W, M) sit further from their
    # neighbours than the pitch while the gap between the glyphs stays tight;
    # neighbours that (nearly) touch may deviate from the pitch by up to
    # ``prop_tolerance`` for free. Spaced print keeps the strict pitch.
    tight = gap <= 0.25

    def glyph_scores(pitch: float) -> np.ndarray:
        # class-conditional width prior: only W and M are much wider than the
        # pitch (a wider span read as N or 0 holds two glyphs), only 1 is a sliver
        r = span_w / pitch
        over = np.maximum(np.log(r[:, None] / _MAX_WIDTH[None, :]), 0.0)
        under = np.maximum(np.log(np.maximum(_MIN_WIDTH[None, :], 1e-9) / r[:, None]), 0.0)
        return (logp - width_weight * (over ** 2 + under ** 2)).max(1) + logg

    def run(pitch: float | None, B: int) -> tuple[np.ndarray, tuple]:
        sscore = glyph_scores(pitch) if pitch else sscore_plain
        if pitch:
            lr = np.log(dist / pitch)
            # tight neighbours: free within [1/sqrt(tol), tol] x pitch (a W's two
            # halves, at about half the pitch, stay expensive)
            lo = np.where(tight, -0.5 * np.log(prop_tolerance), 0.0)
            hi = np.where(tight, np.log(prop_tolerance), 0.0)
            dev = np.maximum(lr - hi, 0.0) + np.maximum(lo - lr, 0.0)
        else:
            dev = 0.0
        trans = base + pitch_weight * dev ** 2
        trans = np.where(valid, trans, np.inf)
        # k-best Viterbi: the ``beam`` best partial paths per (glyph count, last span),
        # so that alternative segmentations of the same pieces reach the search
        score = np.full((n, K, B), -np.inf)
        back_k = np.full((n, K, B), -1, np.int64)
        back_b = np.zeros((n, K, B), np.int64)
        score[0, :, 0] = sscore - start_cost           # leading pieces skipped
        rows = np.arange(K)[:, None]
        for g in range(1, n):
            cand = (score[g - 1][pp] - trans[:, :, None]).reshape(K, -1)
            idx = np.argsort(-cand, axis=1, kind="stable")[:, :B]
            best = cand[rows, idx]
            score[g] = best + sscore[:, None]
            ok = np.isfinite(best)
            back_k[g] = np.where(ok, pp[rows, idx // B], -1)
            back_b[g] = idx % B
        return score, (back_k, back_b)

    def paths(score, back, limit):
        back_k, back_b = back
        final = (score[n - 1] - end_cost[:, None]).ravel()   # trailing pieces skipped
        order = np.argsort(-final, kind="stable")
        found = []
        for f in order[:limit]:
            if not np.isfinite(final[f]):
                break
            k, b = divmod(int(f), score.shape[2])
            path = [k]
            for g in range(n - 1, 0, -1):
                k, b = int(back_k[g, k, b]), int(back_b[g, k, b])
                path.append(k)
            found.append((float(final[f]), tuple(reversed(path))))
        return found

    # A VIN stands apart: skipping a glyph-like piece right next to the first
    # or last glyph (no word gap between them) costs its glyphness.
    best_end = np.zeros(P)          # best glyphness of a span ending at piece i
    best_start = np.zeros(P)
    np.maximum.at(best_end, span_j, glyph)
    np.maximum.at(best_start, span_i, glyph)
    start_cost = np.zeros(K)
    end_cost = np.zeros(K)
    has_prev = span_i > 0
    gp = np.where(has_prev, (xs0[span_i] - xs1[np.maximum(span_i - 1, 0)]) / H, 9.0)
    start_cost = np.where(has_prev & (gp < word_gap), edge_penalty * best_end[np.maximum(span_i - 1, 0)], 0.0)
    has_next = span_j < P - 1
    gn = np.where(has_next, (xs0[np.minimum(span_j + 1, P - 1)] - xs1[span_j]) / H, 9.0)
    end_cost = np.where(has_next & (gn < word_gap), edge_penalty * best_start[np.minimum(span_j + 1, P - 1)], 0.0)

    # the line's pitch is unknown: try a range and keep the best-explained one
    # (single best path per state while choosing it; the k-best run only once)
    best_run = None
    for pitch in H * np.geomspace(0.4, 1.2, 12):
        score, back = run(float(pitch), 1)
        top_score = float((score[n - 1] - end_cost[:, None]).max())
        if best_run is None or top_score > best_run[0]:
            best_run = (top_score, score, back, float(pitch))
    if not np.isfinite(best_run[0]):
        return []
    if beam > 1:
        score, back = run(best_run[3], beam)
        best_run = (best_run[0], score, back, best_run[3])
    finals = paths(best_run[1], best_run[2], 4 * top)
    out = []
    seen = set()
    for sc, path in finals:
        if path in seen:
            continue
        seen.add(path)
        sp = np.array([(xs0[spans[k][0]], xs1[spans[k][1]]) for k in path], np.int32)
        out.append(Hypothesis(
            boxes=np.array([line.span_box(int(a), int(b)) for a, b in sp], np.int32),
            crops=[crops[k] for k in path], polarity=polarity, score=float(sc),
            line_index=line_index, probs=probs[list(path)], glyphness=glyph[list(path)],
            spans=sp, penalty=max(0.0, float(sscore_plain[list(path)].sum()) - float(sc))))
        if len(out) >= top:
            break
    return out


def glyph_log_scores(probs: np.ndarray, glyph: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(N,) how surely each crop is one whole character: log top probability + log glyph-or-not
    score, from ``probs`` (N, 33) and ``glyph`` (N,)."""
    return np.log(np.max(probs, axis=1) + eps) + np.log(glyph + eps)


EITHER_SOURCES = ("edge", "dense")
"""Lines whose glyphs are scored in both polarities (the scorer keeps each crop's better
reading): a stamped groove's walls are one lit and one in shadow, so its ink is either."""


def pick_either(dark: tuple, light: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Per crop, the better of its readings as dark ink and as light ink: the one with the
    higher top probability x glyphness. Each argument and the result are
    ``(probs (N, 33), glyphness (N,))``."""
    pd, gd = (np.asarray(a, np.float64) for a in dark)
    pl, gl = (np.asarray(a, np.float64) for a in light)
    gd, gl = gd.reshape(-1), gl.reshape(-1)
    light_wins = pl.max(1) * gl > pd.max(1) * gd
    return np.where(light_wins[:, None], pl, pd), np.where(light_wins, gl, gd)


def scoring_polarity(line: Line) -> str:
    """The polarity a line's crops are scored in: the line's own, or ``"either"``."""
    return "either" if line.source in EITHER_SOURCES else line.polarity


def vin_windows(pieces: np.ndarray, n: int = 17, min_gap: float = 0.5,
                rel_gap: float = 2.5, min_pitch: float = 0.35,
                max_per_glyph: float = 4.7, hard_gap: float = 0.9,
                far_centres: float = 1.6) -> np.ndarray:
    """(P,) bool: the pieces in runs of the line that could hold ``n`` glyphs.

    The line is broken into runs at word gaps: gaps wider than ``min_gap``
    glyph heights and ``rel_gap`` x the line's median inter-piece gap (the
    adaptive part keeps widely spaced engraving whole), and either wider than
    ``hard_gap`` glyph heights or between pieces whose centres are more than
    ``far_centres`` glyph heights apart (a narrow 1 at an even pitch leaves a
    wide gap on each side without being a word break). A VIN is one run: runs
    with fewer than ``n`` pieces, or narrower than ``n`` x ``min_pitch``
    glyph heights, cannot hold it and are dropped (words of other text, a
    label's short fields); so are runs of more than ``max_per_glyph x n``
    pieces (texture, or text cut so finely that it could not be read).
    Decoding only what is kept saves most crops.
    """
    P = len(pieces)
    keep = np.zeros(P, bool)
    if P < n:
        return keep
    gaps = (pieces[1:, 0] - pieces[:-1, 1]).astype(np.float64)
    pos = gaps[gaps > 0]
    med = float(np.median(pos)) if len(pos) else 0.0
    centre = (pieces[:, 0] + pieces[:, 1]) / 2.0
    cdist = centre[1:] - centre[:-1]
    # a narrow glyph (1, I-like strokes) leaves wide gaps on both sides at an even
    # pitch: a gap is a word gap only when it is wide in itself or the centres are far apart
    brk = (gaps > max(min_gap * STRIP_H, rel_gap * med)) & (
        (gaps > hard_gap * STRIP_H) | (cdist > far_centres * STRIP_H))
    starts = np.concatenate([[0], np.nonzero(brk)[0] + 1])
    ends = np.concatenate([np.nonzero(brk)[0] + 1, [P]])
    for a, b in zip(starts, ends):
        if n <= b - a <= max_per_glyph * n and pieces[b - 1, 1] - pieces[a, 0] >= n * min_pitch * STRIP_H:
            keep[a:b] = True
    return keep


def segment_glyphs(image: np.ndarray, scorer: Scorer, n: int = 17) -> list[Hypothesis]:
    """Convenience: :func:`find_lines` then :func:`decode_line` on each line, best first."""
    hyps = []
    for i, line in enumerate(find_lines(image)):
        hyps.extend(decode_line(line, scorer, n, line_index=i))
    hyps.sort(key=lambda h: -h.score)
    return hyps


def draw_lines(image: np.ndarray, lines: Sequence[Line], path: str | None = None) -> np.ndarray:
    """Debug overlay: each line's piece boxes in its own colour, index at the left.

    Returns the (H, W, 3) BGR overlay; writes it to ``path`` when given.
    """
    img = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    rng = np.random.default_rng(1)
    th = max(1, round(max(img.shape[:2]) / 800))
    for i, line in enumerate(lines):
        col = tuple(int(c) for c in rng.integers(60, 256, 3))
        for k, (x, y, w, h) in enumerate(line.boxes):
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), col, th)
        if len(line.boxes):
            x, y = line.boxes[0][:2]
            cv2.putText(img, f"{i}{line.polarity[0]}", (int(x), int(y) - 2),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5 * th, col, th)
    if path:
        cv2.imwrite(path, img)
    return img
