"""Raw glyph renderers: one character -> a uint8 gray image, dark ink on a light ground.

The public entry point is :func:`render_char`; :func:`char_strokes` gives pen paths
(Hershey stroke fonts or the hand-made skeletons in :data:`SKELETONS`) that the
handwriting and dot-peen styles draw.
"""
from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from train import fonts
from vinread.alphabet import ALPHABET

STYLES = ("printed", "dotpeen", "engraved", "handwriting")


# ---------------------------------------------------------------- skeletons
def _arc(cx, cy, rx, ry, a0, a1, n=None):
    """Points of an elliptic arc, angles in degrees (0 = right, 90 = down)."""
    n = n or max(4, int(abs(a1 - a0) / 12))
    t = np.radians(np.linspace(a0, a1, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def _P(*pts):
    return [tuple(p) for p in pts]


_B_BUMPS = _P((0.08, 0), (0.38, 0)) + _arc(0.38, 0.24, 0.25, 0.24, -90, 90) + _P((0.08, 0.48), (0.42, 0.48)) \
    + _arc(0.42, 0.74, 0.28, 0.26, -90, 90) + _P((0.08, 1))
_P_BOWL = _P((0.08, 1), (0.08, 0), (0.38, 0)) + _arc(0.38, 0.27, 0.28, 0.27, -90, 90) + _P((0.08, 0.54))

SKELETONS: dict[str, list[list[list[tuple[float, float]]]]] = {
    "0": [[_arc(0.35, 0.5, 0.33, 0.5, -90, 275)], [_arc(0.35, 0.5, 0.33, 0.5, -60, 300)]],
    "1": [[_P((0.3, 0), (0.3, 1))], [_P((0.05, 0.25), (0.3, 0), (0.3, 1))],
          [_P((0.05, 0.25), (0.3, 0), (0.3, 1)), _P((0.05, 1), (0.55, 1))]],
    "2": [[_arc(0.35, 0.28, 0.3, 0.28, -170, 20) + _P((0.02, 1), (0.7, 1))],
          [_arc(0.35, 0.3, 0.32, 0.3, -160, 45) + _P((0.05, 0.98), (0.72, 1))]],
    "3": [[_arc(0.33, 0.25, 0.3, 0.25, -160, 90) + _arc(0.33, 0.73, 0.33, 0.27, -90, 160)],
          [_P((0.05, 0), (0.65, 0), (0.3, 0.4)) + _arc(0.33, 0.7, 0.33, 0.3, -100, 160)]],
    "4": [[_P((0.5, 0), (0.02, 0.68), (0.75, 0.68)), _P((0.55, 0.3), (0.55, 1))],
          [_P((0.1, 0), (0.05, 0.6), (0.72, 0.6)), _P((0.55, 0.15), (0.55, 1))],
          [_P((0.55, 1), (0.55, 0), (0.02, 0.7), (0.75, 0.7))]],
    "5": [[_P((0.65, 0), (0.12, 0), (0.09, 0.44)) + _arc(0.33, 0.68, 0.33, 0.32, -130, 150)],
          [_P((0.12, 0), (0.09, 0.44)) + _arc(0.33, 0.68, 0.33, 0.32, -130, 150), _P((0.12, 0), (0.66, 0))]],
    "6": [[_arc(0.62, 0.68, 0.57, 0.68, -85, -180) + _arc(0.37, 0.68, 0.32, 0.32, 180, 535)],
          [_P((0.55, 0), (0.1, 0.55)) + _arc(0.37, 0.7, 0.3, 0.3, 210, 570)]],
    "7": [[_P((0.02, 0), (0.7, 0), (0.25, 1))], [_P((0.02, 0), (0.7, 0), (0.25, 1)), _P((0.18, 0.5), (0.62, 0.5))],
          [_P((0.02, 0.12), (0.02, 0), (0.7, 0), (0.3, 1))]],
    "8": [[_arc(0.35, 0.25, 0.27, 0.25, 0, 360), _arc(0.35, 0.74, 0.33, 0.26, 0, 360)],
          [_arc(0.35, 0.25, 0.27, 0.25, 90, 450), _arc(0.35, 0.74, 0.33, 0.26, -90, 270)]],
    "9": [[_arc(0.35, 0.3, 0.3, 0.3, 0, 360), _P((0.65, 0.25), (0.62, 1))],
          [_arc(0.35, 0.3, 0.3, 0.3, 0, 360) + _P((0.6, 0.65), (0.35, 1))]],
    "A": [[_P((0.02, 1), (0.38, 0), (0.74, 1)), _P((0.15, 0.62), (0.6, 0.62))],
          [_P((0.02, 1), (0.3, 0), (0.45, 0), (0.74, 1)), _P((0.12, 0.6), (0.62, 0.6))]],
    "B": [[_P((0.08, 0), (0.08, 1)), _B_BUMPS]],
    "C": [[_arc(0.42, 0.5, 0.4, 0.5, -40, -320)], [_arc(0.42, 0.5, 0.4, 0.5, -60, -300)]],
    "D": [[_P((0.08, 0), (0.08, 1)), _P((0.08, 0), (0.3, 0)) + _arc(0.3, 0.5, 0.4, 0.5, -90, 90) + _P((0.08, 1))],
          [_P((0.08, 1), (0.08, 0)) + _arc(0.08, 0.5, 0.62, 0.5, -90, 90)]],
    "E": [[_P((0.7, 0), (0.08, 0), (0.08, 1), (0.7, 1)), _P((0.08, 0.5), (0.55, 0.5))],
          [_P((0.08, 0), (0.08, 1)), _P((0.08, 0), (0.68, 0)), _P((0.08, 0.5), (0.5, 0.5)), _P((0.08, 1), (0.7, 1))]],
    "F": [[_P((0.7, 0), (0.08, 0), (0.08, 1)), _P((0.08, 0.48), (0.55, 0.48))]],
    "G": [[_arc(0.42, 0.5, 0.4, 0.5, -40, -340) + _P((0.8, 0.55), (0.5, 0.55))],
          [_arc(0.42, 0.5, 0.4, 0.5, -40, -350) + _P((0.82, 1.0)), _P((0.5, 0.58), (0.82, 0.58))]],
    "H": [[_P((0.08, 0), (0.08, 1)), _P((0.68, 0), (0.68, 1)), _P((0.08, 0.5), (0.68, 0.5))]],
    "J": [[_P((0.7, 0), (0.7, 0.7)) + _arc(0.4, 0.7, 0.3, 0.3, 0, 180)],
          [_P((0.35, 0), (0.9, 0)), _P((0.65, 0), (0.65, 0.7)) + _arc(0.37, 0.7, 0.28, 0.3, 0, 170)]],
    "K": [[_P((0.08, 0), (0.08, 1)), _P((0.68, 0), (0.08, 0.58)), _P((0.3, 0.4), (0.7, 1))],
          [_P((0.08, 0), (0.08, 1)), _P((0.68, 0), (0.1, 0.5), (0.7, 1))]],
    "L": [[_P((0.08, 0), (0.08, 1), (0.65, 1))]],
    "M": [[_P((0.05, 1), (0.08, 0), (0.4, 0.7), (0.72, 0), (0.75, 1))],
          [_P((0.02, 1), (0.12, 0), (0.4, 1), (0.68, 0), (0.78, 1))]],
    "N": [[_P((0.08, 1), (0.08, 0), (0.68, 1), (0.68, 0))]],
    "P": [[_P_BOWL]],
    "R": [[_P_BOWL, _P((0.33, 0.54), (0.7, 1))]],
    "S": [[_arc(0.36, 0.25, 0.3, 0.25, -20, -270) + _arc(0.36, 0.75, 0.3, 0.25, -90, 160)]],
    "T": [[_P((0.0, 0), (0.72, 0)), _P((0.36, 0), (0.36, 1))]],
    "U": [[_P((0.06, 0), (0.06, 0.65)) + _arc(0.37, 0.65, 0.31, 0.35, 180, 0) + _P((0.68, 0))],
          [_P((0.06, 0), (0.06, 0.65)) + _arc(0.37, 0.65, 0.31, 0.35, 180, 0) + _P((0.68, 0), (0.7, 1))]],
    "V": [[_P((0.02, 0), (0.36, 1), (0.7, 0))]],
    "W": [[_P((0.0, 0), (0.2, 1), (0.42, 0.3), (0.64, 1), (0.84, 0))],
          [_P((0.0, 0), (0.22, 1), (0.42, 0.0), (0.62, 1), (0.84, 0))]],
    "X": [[_P((0.05, 0), (0.7, 1)), _P((0.7, 0), (0.05, 1))]],
    "Y": [[_P((0.02, 0), (0.37, 0.5), (0.72, 0)), _P((0.37, 0.5), (0.37, 1))],
          [_P((0.02, 0), (0.37, 0.5)), _P((0.72, 0), (0.2, 1))]],
    "Z": [[_P((0.05, 0), (0.7, 0), (0.05, 1), (0.72, 1))],
          [_P((0.05, 0), (0.7, 0), (0.05, 1), (0.72, 1)), _P((0.18, 0.5), (0.58, 0.5))]],
}
"""Hand-made block-capital pen paths (unit cap height, y down), several common variants each."""


def _norm_strokes(strokes) -> list[np.ndarray]:
    arrs = [np.asarray(s, np.float32) for s in strokes]
    allp = np.concatenate(arrs)
    lo = allp.min(axis=0)
    h = max(float(allp[:, 1].max() - lo[1]), 1e-6)
    return [(a - lo) / h for a in arrs]


def char_strokes(char: str, rng: np.random.Generator, source: str | None = None) -> list[np.ndarray]:
    """Pen paths of ``char``: list of (K, 2) float32 (x, y) arrays, cap height 1, y down.

    ``source`` is ``"skeleton"``, a Hershey font name, or None for a random choice.
    """
    if source is None:
        source = "skeleton" if rng.random() < 0.55 else str(rng.choice(fonts.HERSHEY_STROKE_FONTS[:2]))
    if source == "skeleton":
        variants = SKELETONS[char]
        return _norm_strokes(variants[int(rng.integers(len(variants)))])
    return [s.copy() for s in fonts.hershey_strokes(char, source)]


def _resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along a polyline (ends kept)."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    total = float(seg.sum())
    if total <= 1e-6:
        return stroke[:1]
    d = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, total, max(2, int(round(total / step)) + 1))
    return np.stack([np.interp(t, d, stroke[:, 0]), np.interp(t, d, stroke[:, 1])], axis=1).astype(np.float32)


def _wobble(strokes, rng, amount):
    """Hand jitter: moves control points and adds a smooth low-frequency wander."""
    out = []
    for s in strokes:
        s = s + rng.normal(0, amount, s.shape).astype(np.float32)
        if len(s) >= 2 and rng.random() < 0.5:  # strokes that overshoot or stop short of a join
            for end, nxt in ((0, 1), (-1, -2)):
                d = s[end] - s[nxt]
                s[end] = s[end] + d / max(float(np.linalg.norm(d)), 1e-6) * rng.uniform(-0.06, 0.08)
        s = _resample(s, 0.03)
        if len(s) > 3:
            k = len(s)
            wander = np.cumsum(rng.normal(0, amount * 0.35, (k, 2)), axis=0)
            wander -= np.linspace(0, 1, k)[:, None] * wander[-1]
            s = s + wander.astype(np.float32)
            s = cv2.GaussianBlur(s.reshape(-1, 1, 2), (1, 5), 0).reshape(-1, 2) if k > 5 else s
        out.append(s.astype(np.float32))
    return out


def _affine_strokes(strokes, rng, slant=(-0.25, 0.1), rot=6.0, aspect=(0.75, 1.3)):
    """Random slant (shear), rotation (degrees) and width/height ratio of pen paths."""
    sh = rng.uniform(*slant)
    a = math.radians(rng.uniform(-rot, rot))
    sx = rng.uniform(*aspect)
    m = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.array([[sx, -sh], [0, 1]])
    return [(s @ m.T.astype(np.float32)).astype(np.float32) for s in strokes]


def _fit_points(strokes, height, margin):
    """Scale pen paths so that their ink box is ``height`` tall; returns strokes in pixels and canvas size."""
    allp = np.concatenate(strokes)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    scale = height / max(float(hi[1] - lo[1]), 1e-6)
    w = int(math.ceil((hi[0] - lo[0]) * scale)) + 2 * margin + 1
    h = height + 2 * margin + 1
    return [(s - lo) * scale + margin for s in strokes], (h, max(w, 2 * margin + 2))


def draw_strokes(strokes, height: int, thickness: float, margin: int | None = None) -> np.ndarray:
    """Pen paths -> (H, W) uint8 image, dark strokes on white, anti-aliased."""
    margin = int(math.ceil(thickness / 2 + 2)) if margin is None else margin
    pts, (h, w) = _fit_points(strokes, height, margin)
    img = np.full((h, w), 255, np.uint8)
    sub = 4  # fixed-point sub-pixel bits
    t = max(1, int(round(thickness)))
    for s in pts:
        p = np.round(s * (1 << sub)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [p], False, 0, t, cv2.LINE_AA, sub)
    return img


# ---------------------------------------------------------------- printed
@functools.lru_cache(maxsize=4096)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=None)
def _cap_ratio(path: str) -> float:
    f = _font(path, 100)
    b = f.getbbox("H")
    return max(b[3] - b[1], 1) / 100.0


@functools.lru_cache(maxsize=1)
def _weighted_fonts():
    paths = fonts.upright_font_paths()
    italic = [p for p in fonts.font_paths() if p not in paths]
    w = []
    for p in paths:
        t = fonts.font_traits(p)
        w.append(4.0 if "mono" in t else 2.0 if "condensed" in t else 1.0)
    paths = paths + italic
    w = np.array(w + [0.15] * len(italic))
    return paths, w / w.sum()


_FONT_HEIGHTS = (12, 18, 26, 36, 50, 70, 96)
"""Cap heights at which faces are rasterised (then cached and resized): fast and still crisp."""


@functools.lru_cache(maxsize=20000)
def _render_font_cached(char: str, path: str, cap: int, margin: int) -> np.ndarray:
    size = max(6, int(round(cap / _cap_ratio(path))))
    f = _font(path, size)
    x0, y0, x1, y1 = f.getbbox(char)
    w, h = x1 - x0 + 2 * margin, y1 - y0 + 2 * margin
    im = Image.new("L", (max(w, 1), max(h, 1)), 255)
    ImageDraw.Draw(im).text((margin - x0, margin - y0), char, font=f, fill=0)
    a = np.asarray(im, np.uint8)
    a.flags.writeable = False
    return a


def render_font(char: str, path: str, height: int, margin: int = 3) -> np.ndarray:
    """``char`` in a TrueType face, cap height about ``height`` px, dark on white uint8 (H, W)."""
    cap = min(_FONT_HEIGHTS, key=lambda c: abs(c - height) + (0 if c >= height else 0.5 * height))
    img = _render_font_cached(char, path, cap, margin)
    if cap != height:
        f = height / cap
        img = cv2.resize(img, (max(2, int(round(img.shape[1] * f))), max(2, int(round(img.shape[0] * f)))),
                         interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    return np.array(img)


def render_cv2(char: str, face: int, height: int, thickness: int, margin: int = 3) -> np.ndarray:
    """``char`` drawn with an OpenCV ``FONT_HERSHEY_*`` face, about ``height`` px tall."""
    (tw, th), base = cv2.getTextSize(char, face, 1.0, thickness)
    scale = height / max(th, 1)
    (tw, th), base = cv2.getTextSize(char, face, scale, thickness)
    w, h = tw + 2 * margin + thickness * 2, th + base + 2 * margin + thickness * 2
    img = np.full((h, w), 255, np.uint8)
    cv2.putText(img, char, (margin + thickness, margin + th + thickness), face, scale, 0, thickness, cv2.LINE_AA)
    return _crop_ink(img, margin)


def _crop_ink(img: np.ndarray, margin: int) -> np.ndarray:
    ys, xs = np.nonzero(img < 128)
    if len(ys) == 0:
        return img
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return cv2.copyMakeBorder(img[y0:y1, x0:x1], margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=255)


def glyph_mask(char: str, rng: np.random.Generator, height: int, bold: bool = False) -> np.ndarray:
    """A random printed face's ``char`` as a (H, W) float32 ink mask in [0, 1] (1 = ink)."""
    paths, w = _weighted_fonts()
    if rng.random() < 0.12 and fonts.CV2_FACES:
        face = fonts.CV2_FACES[int(rng.integers(len(fonts.CV2_FACES)))]
        img = render_cv2(char, face, height, max(1, int(round(height * rng.uniform(0.04, 0.12)))))
    else:
        img = render_font(char, paths[int(rng.choice(len(paths), p=w))], height)
    ink = 1.0 - img.astype(np.float32) / 255.0
    if bold:
        k = max(1, int(round(height * rng.uniform(0.03, 0.08))))
        fat = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        ink = fat if fat.mean() < 0.35 else ink  # never so bold that ink outweighs the ground
    return ink


def _render_printed(char, rng, height):
    ink = glyph_mask(char, rng, height, bold=rng.random() < 0.15)
    if rng.random() < 0.3:  # condensed / extended
        f = rng.uniform(0.6, 1.25)
        ink = cv2.resize(ink, (max(2, int(ink.shape[1] * f)), ink.shape[0]), interpolation=cv2.INTER_AREA)
    return _to_u8(ink, rng, contrast=rng.uniform(0.6, 1.0))


def _to_u8(ink, rng, contrast=1.0, bg=None):
    if ink.mean() > 0.3:  # heavy glyph in a tight box: widen the ground so it stays the majority
        m = int(0.25 * max(ink.shape)) + 1
        ink = cv2.copyMakeBorder(ink, m, m, m, m, cv2.BORDER_CONSTANT, value=0)
    bg = rng.uniform(0.8, 1.0) if bg is None else bg
    g = bg - contrast * ink * bg
    return np.clip(g * 255, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- dot-peen
def _dots_image(centres, shape, radius, rng, shaded):
    """Round dots at ``centres`` (N, 2) px on a blank canvas; returns float ink [0, 1] (H, W)."""
    h, w = shape
    ink = np.zeros((h, w), np.float32)
    n = len(centres)
    r = np.maximum(1.0, radius * rng.uniform(0.8, 1.15, n))
    c = np.round((np.asarray(centres) + rng.normal(0, radius * 0.12, (n, 2))) * 16).astype(int)
    r16 = np.round(r * 16).astype(int)
    v = rng.uniform(0.7, 1.0, n)
    for (x, y), rr, vv in zip(c.tolist(), r16.tolist(), v.tolist()):
        cv2.circle(ink, (x, y), rr, vv, -1, cv2.LINE_AA, 4)
    if shaded:  # a crater: soft edges
        ink = cv2.GaussianBlur(ink, (0, 0), max(0.5, radius * 0.35))
    return ink


def _render_dotpeen(char, rng, height):
    mode = rng.choice(["path", "grid", "fill"], p=[0.45, 0.35, 0.2])
    margin = max(3, height // 10)
    if mode == "grid":  # 5x7 / 7x9 dot matrix
        nx, ny = [(5, 7), (7, 9), (5, 7), (9, 12)][int(rng.integers(4))]
        strokes = char_strokes(char, rng, "skeleton" if rng.random() < 0.6 else "futural")
        pts, _ = _fit_points(strokes, ny - 1, 0)
        maxx = max(float(np.concatenate(pts)[:, 0].max()), 1e-6)
        sx = (nx - 1) / maxx if maxx > (nx - 1) * 0.6 else 1.0  # narrow glyphs (1) stay narrow
        cells = np.zeros((ny, nx), np.uint8)
        for s in pts:
            p = np.round(s * np.float32([sx, 1])).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(cells, [p], False, 1, 1, cv2.LINE_8)
        pitch = height / (ny - 1)
        ys, xs = np.nonzero(cells)
        centres = np.stack([xs * pitch + margin, ys * pitch + margin], 1)
        shape = (height + 2 * margin + 1, int((nx - 1) * pitch) + 2 * margin + 1)
        radius = pitch * rng.uniform(0.3, 0.55)
    elif mode == "path":  # dots along a pen path
        strokes = char_strokes(char, rng)
        strokes = _affine_strokes(strokes, rng, slant=(-0.1, 0.1), rot=2, aspect=(0.8, 1.2))
        centres, shape, radius = _dot_path(strokes, rng, height, margin)
    else:  # a font glyph filled by a dot grid
        ink = glyph_mask(char, rng, height, bold=True)
        pitch = max(2.0, height / rng.uniform(8, 14))
        ys, xs = np.mgrid[pitch / 2:ink.shape[0]:pitch, pitch / 2:ink.shape[1]:pitch]
        on = ink[ys.astype(int), xs.astype(int)] > 0.5
        centres = np.stack([xs[on], ys[on]], 1) + margin
        shape = (ink.shape[0] + 2 * margin, ink.shape[1] + 2 * margin)
        radius = pitch * rng.uniform(0.3, 0.5)
    if len(centres) == 0:
        return _render_printed(char, rng, height)
    return _peen(centres, shape, radius, rng)


def _dot_path(strokes, rng, height, margin):
    """Dot centres along pen paths fitted to ``height``: (centres (N, 2), canvas shape, dot radius)."""
    pts, shape = _fit_points(strokes, height, margin)
    pitch = height / rng.uniform(6, 12)
    centres = np.concatenate([_resample(s, pitch) for s in pts])
    return centres, shape, pitch * rng.uniform(0.3, 0.6)


def _peen(centres, shape, radius, rng):
    """Dots at ``centres`` punched into a metal ground of ``shape``: uint8 gray."""
    ink = _dots_image(centres, shape, radius, rng, shaded=rng.random() < 0.5)
    g = _metal_ground(shape, rng, rng.uniform(0.55, 0.95))
    contrast = rng.uniform(0.35, 0.9)
    return np.clip((g - contrast * ink * g) * 255, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- engraved
def _metal_ground(shape, rng, level):
    """Brushed / grainy metal texture around ``level`` (float, [0, 1])."""
    h, w = shape
    g = np.full((h, w), level, np.float32)
    kind = rng.integers(3)
    if kind == 0:  # brushed: noise streaked along a direction
        n = rng.normal(0, 1, (h, w)).astype(np.float32)
        k = int(rng.integers(5, 15)) | 1
        n = cv2.blur(n, (k, 1)) if rng.random() < 0.5 else cv2.blur(n, (1, k))
        g += n * rng.uniform(0.01, 0.05)
    elif kind == 1:  # grainy
        n = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.6, 2.0))
        g += n * rng.uniform(0.02, 0.08)
    return np.clip(g, 0, 1)


OUTLINE_SHARE = 0.2
"""Share of engraved glyphs cut as outlines: a laser or a wide cutter leaves the two walls
of each stroke lit and its floor dull, so every stroke reads as a pair of thin lines."""


def _engrave(ink, rng, height):
    """An ink mask (H, W) float [0, 1] -> uint8 gray of it stamped into (or embossed out of)
    metal, lit from a random side; sometimes as outlines (:data:`OUTLINE_SHARE`)."""
    m = max(3, height // 8)
    ink = cv2.copyMakeBorder(ink, m, m, m, m, cv2.BORDER_CONSTANT, value=0)
    if rng.random() < OUTLINE_SHARE:
        k = max(2, int(round(height * rng.uniform(0.04, 0.09))))
        fat = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        w = max(1, int(round(height * rng.uniform(0.015, 0.035))))
        ink = cv2.morphologyEx(fat, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (w + 1, w + 1)))
    depth = cv2.GaussianBlur(ink, (0, 0), max(0.7, height * rng.uniform(0.015, 0.04)))
    a = rng.uniform(0, 2 * math.pi)
    gx = cv2.Sobel(depth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(depth, cv2.CV_32F, 0, 1, ksize=3)
    shade = (math.cos(a) * gx + math.sin(a) * gy)
    shade /= max(float(np.abs(shade).max()), 1e-6)
    sign = 1.0 if rng.random() < 0.75 else -1.0  # stamped in / embossed out
    level = rng.uniform(0.35, 0.75)
    g = _metal_ground(ink.shape, rng, level)
    groove = rng.uniform(0.0, 0.35)  # shadow / dirt in the groove
    g = g - groove * depth * sign + rng.uniform(0.08, 0.4) * shade * sign
    return np.clip(g * 255, 0, 255).astype(np.uint8)


def _render_engraved(char, rng, height):
    if rng.random() < 0.65:
        ink = glyph_mask(char, rng, height, bold=rng.random() < 0.5)
    else:
        strokes = _affine_strokes(char_strokes(char, rng), rng, slant=(-0.1, 0.1), rot=2, aspect=(0.8, 1.2))
        ink = 1.0 - draw_strokes(strokes, height, max(2, height * rng.uniform(0.08, 0.16))).astype(np.float32) / 255
    return _engrave(ink, rng, height)


# ---------------------------------------------------------------- handwriting
def _elastic(img, rng, alpha):
    """Smooth random warp; ``alpha`` is the largest displacement in px."""
    h, w = img.shape
    dx = cv2.resize(rng.uniform(-1, 1, (4, 4)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    dy = cv2.resize(rng.uniform(-1, 1, (4, 4)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC) * alpha
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def _render_handwriting(char, rng, height):
    strokes = char_strokes(char, rng)
    strokes = _wobble(strokes, rng, rng.uniform(0.003, 0.022))
    strokes = _affine_strokes(strokes, rng)
    thick = height * float(np.exp(rng.uniform(np.log(0.025), np.log(0.13))))
    img = draw_strokes(strokes, height, max(1.0, thick))
    if rng.random() < 0.5:
        img = _elastic(img, rng, height * rng.uniform(0.01, 0.04))
    ink = 1.0 - img.astype(np.float32) / 255
    if rng.random() < 0.3:  # pen pressure: uneven ink darkness along the stroke
        ink *= cv2.resize(rng.uniform(0.6, 1.0, (3, 3)).astype(np.float32), (ink.shape[1], ink.shape[0]))
    return _to_u8(ink, rng, contrast=rng.uniform(0.6, 1.0), bg=rng.uniform(0.85, 1.0))


_RENDERERS = {"printed": _render_printed, "dotpeen": _render_dotpeen,
              "engraved": _render_engraved, "handwriting": _render_handwriting}


def render_char(char: str, style: str, rng: np.random.Generator, height: int = 64) -> np.ndarray:
    """Render one alphabet character.

    Parameters
    ----------
    char : one character of ``vinread.alphabet.ALPHABET`` (other printable
        characters work for ``"printed"``).
    style : ``"printed"``, ``"dotpeen"``, ``"engraved"`` or ``"handwriting"``.
    rng : source of all randomness (same state -> same image).
    height : approximate character height in pixels.

    Returns
    -------
    (H, W) uint8 gray image, dark ink (near 0) on a light ground (near 255),
    H about ``height`` plus a small margin.
    """
    if style not in _RENDERERS:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    height = max(8, int(height))
    if style != "printed" and char not in SKELETONS:
        return _render_printed(char, rng, height)
    return _RENDERERS[style](char, rng, height)


# ---------------------------------------------------------------- rejects
REJECT_KINDS = ("half", "merged", "barcode", "mark", "specks", "texture", "lines", "lowercase", "star")
REJECT_MARKS = "*-:.;#%@=+~<>?\""
"""Delimiters and punctuation taught as not-a-glyph."""
REJECT_LOWER = "aehmnrt"
"""Lower-case letters that do not look like an alphabet capital once size-normalised."""
HALF_SOURCES = "24AGNRSZ"
"""Glyphs cut in half for rejects; the others have halves that read as a glyph (half W = V,
top of 8 or 9 = 0, right of U = J, left of C = '(' ...)."""


def _any_style(rng):
    return str(rng.choice(STYLES, p=[0.4, 0.2, 0.2, 0.2]))


def _merged_pair(rng, height):
    """Two glyphs side by side, touching or overlapping a little."""
    style = _any_style(rng)
    a, b = (str(x) for x in rng.choice(list(ALPHABET), 2))
    ia, ib = render_char(a, style, rng, height), render_char(b, style, rng, height)
    h = min(ia.shape[0], ib.shape[0])
    ia, ib = ia[:h], ib[:h]
    ov = int(min(ia.shape[1], ib.shape[1]) * rng.uniform(0.0, 0.25))
    out = np.full((h, ia.shape[1] + ib.shape[1] - ov), 255, np.uint8)
    out[:, :ia.shape[1]] = ia
    out[:, ia.shape[1] - ov:] = np.minimum(out[:, ia.shape[1] - ov:], ib)
    return out


def _survives_as_pair(img) -> bool:
    """False when normalising keeps only one of the two glyphs (its frame removal can cut one off)."""
    from vinread.normalize import BlankGlyphError, normalize_glyph
    try:
        x = normalize_glyph(img)
    except (BlankGlyphError, ValueError):
        return False
    ys, xs = np.nonzero(x > 0.3)
    return len(ys) > 0 and (xs.max() - xs.min()) >= 1.1 * (ys.max() - ys.min())


def star_strokes(rng: np.random.Generator) -> list[np.ndarray]:
    """Pen paths of a VIN's delimiter star (cap height 1, y down): an asterisk of 5, 6 or 8 arms,
    or an X crossed by an upright bar, as stamped or printed at both ends of many VINs."""
    aspect = rng.uniform(0.6, 1.1)
    if rng.random() < 0.35:     # X with a bar: arms at +-(50..70) degrees and one upright
        t = math.radians(rng.uniform(50, 70))
        angles = [t, math.pi - t, math.pi / 2]
    else:
        n = int(rng.choice([5, 6, 6, 8]))
        start = math.pi / 2 + math.radians(rng.uniform(-8, 8))
        angles = [start + k * 2 * math.pi / n for k in range(n)]
        if n % 2:               # odd: arms from the centre
            return _norm_strokes([[(0.5 * aspect, 0.5), _arm_end(a, aspect, 1)] for a in angles])
        angles = angles[:n // 2]
    return _norm_strokes([[_arm_end(a, aspect, -1), _arm_end(a, aspect, 1)] for a in angles])


def _arm_end(angle: float, aspect: float, side: int) -> tuple[float, float]:
    """End of a star's arm at ``angle`` (radians, 0 = right, y up) on a star ``aspect`` wide
    and 1 tall centred at (aspect / 2, 1 / 2); ``side`` -1 is the opposite end."""
    return 0.5 * aspect * (1 + side * math.cos(angle)), 0.5 * (1 - side * math.sin(angle))


def _render_star(rng, height, style=None):
    """A delimiter star (:func:`star_strokes`) in ``style`` (random when None): uint8 gray,
    dark on light."""
    strokes = star_strokes(rng)
    style = style or _any_style(rng)
    if style == "dotpeen":
        return _peen(*_dot_path(strokes, rng, height, max(3, height // 10)), rng)
    if style == "handwriting":
        strokes = _wobble(strokes, rng, rng.uniform(0.003, 0.02))
    pen = max(1.0, height * rng.uniform(0.05, 0.14))
    ink = 1.0 - draw_strokes(strokes, height, pen).astype(np.float32) / 255
    if style == "engraved":
        return _engrave(ink, rng, height)
    return _to_u8(ink, rng, contrast=rng.uniform(0.6, 1.0))


def render_reject(rng: np.random.Generator, height: int = 64, kind: str | None = None) -> np.ndarray:
    """A crop that is not one VIN character, for the glyph-or-not output.

    ``kind`` is one of :data:`REJECT_KINDS` (random when None). Returns (H, W)
    uint8, dark on light like :func:`render_char`. The letters I, O and Q are
    never used (they look like 1 and 0).
    """
    kind = kind or str(rng.choice(REJECT_KINDS, p=[0.18, 0.15, 0.1, 0.12, 0.1, 0.08, 0.07, 0.12, 0.08]))
    height = max(12, int(height))
    if kind == "half":
        c = str(rng.choice(list(HALF_SOURCES)))
        img = render_char(c, _any_style(rng), rng, height)
        ys, xs = np.nonzero(img < (int(img.min()) + int(np.median(img))) // 2)
        if len(ys) == 0:
            return img
        img = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]  # cut relative to the ink box
        h, w = img.shape
        side = int(rng.integers(4))
        f = rng.uniform(0.35, 0.55) if side < 2 else rng.uniform(0.25, 0.45)
        if side < 2:  # keep a left or right part, but never a lone bar (that would be a 1)
            k = max(2, int(w * f), int(0.35 * h))
            return img[:, :k] if side == 0 else img[:, max(0, w - k):]
        k = max(2, int(h * f))
        return img[:k] if side == 2 else img[h - k:]
    if kind == "merged":
        for _ in range(5):
            out = _merged_pair(rng, height)
            if _survives_as_pair(out):
                return out
        return out
    if kind == "barcode":
        bar = max(2, height // 10)
        w = max(int(height * rng.uniform(0.5, 1.5)), 4 * bar)  # room for several bars
        img = np.full((height, w), 255, np.uint8)
        x = int(rng.integers(0, 4))
        while x < w:
            bw = int(rng.integers(1, bar))
            img[:, x:x + bw] = 0
            x += bw + int(rng.integers(1, max(2, height // 8)))
        return img
    if kind == "mark":
        ch = str(rng.choice(list(REJECT_MARKS)))
        path = _weighted_fonts()[0][int(rng.integers(len(_weighted_fonts()[0])))]
        ink = 1.0 - render_font(ch, path, height).astype(np.float32) / 255
        return _to_u8(ink, rng)
    if kind == "star":
        return _render_star(rng, height)
    if kind == "lowercase":
        ch = str(rng.choice(list(REJECT_LOWER)))
        path = _weighted_fonts()[0][int(rng.integers(len(_weighted_fonts()[0])))]
        ink = 1.0 - render_font(ch, path, height).astype(np.float32) / 255
        return _to_u8(ink, rng)
    if kind == "specks":
        w = int(height * rng.uniform(0.5, 1.2))
        img = np.full((height, w), 255, np.uint8)
        for _ in range(int(rng.integers(2, 9))):
            c = (int(rng.integers(w)), int(rng.integers(height)))
            ax = (int(rng.integers(1, max(2, height // 8))), int(rng.integers(1, max(2, height // 8))))
            cv2.ellipse(img, c, ax, float(rng.uniform(0, 180)), 0, 360, int(rng.integers(0, 120)), -1, cv2.LINE_AA)
        return img
    if kind == "texture":
        w = int(height * rng.uniform(0.5, 1.2))
        g = _metal_ground((height, w), rng, rng.uniform(0.4, 0.8))
        n = cv2.GaussianBlur(rng.normal(0, 1, (height, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
        g = np.clip(g + n * rng.uniform(0.05, 0.2), 0, 1)
        return (g * 255).astype(np.uint8)
    # lines: horizontal rules, hatching, a curve - never a lone vertical bar (that is a 1)
    w = int(height * rng.uniform(0.6, 1.4))
    img = np.full((height, w), 255, np.uint8)
    t = max(1, int(height * rng.uniform(0.03, 0.1)))
    sub = int(rng.integers(3))
    if sub == 0:
        for _ in range(int(rng.integers(1, 3))):
            y = int(rng.integers(height))
            cv2.line(img, (0, y), (w, y + int(rng.integers(-2, 3))), 0, t, cv2.LINE_AA)
    elif sub == 1:
        step = int(rng.integers(max(3, t + 2), max(4, height // 3)))
        for x in range(-height, w, step):
            cv2.line(img, (x, height), (x + height, 0), 0, t, cv2.LINE_AA)
    else:
        pts = np.stack([np.linspace(0, w, 12), height / 2 + np.cumsum(rng.normal(0, height / 10, 12))], 1)
        cv2.polylines(img, [pts.astype(np.int32).reshape(-1, 1, 2)], False, 0, t, cv2.LINE_AA)
    return img
