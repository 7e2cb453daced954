"""Synthetic VIN photos ("scenes") for tests and benchmarks.

``render_scene(kind, seed)`` draws a flat object (door-jamb sticker, dashboard
plate, stamped or dot-peened metal, handwritten form) with the VIN on it, then
photographs it: a perspective warp (rotation, skew, scale), uneven light,
glare, blur, noise and a JPEG re-encode. The 17 glyph boxes are the
axis-aligned bounds of each warped glyph quad, in final image coordinates.

    python -m train.scenes --out /tmp/scenes --kinds sticker plate --n 5 --seed 1

writes ``NAME.jpg`` + ``NAME.json`` (file, vin, kind, variant, boxes, angle).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vinread.alphabet import ALPHABET
from vinread.vin import calc_check_digit

KINDS = ("sticker", "plate", "engraved", "dotpeen", "handwritten")
VARIANTS = (None, "lowres", "blur", "glare", "skew")
REGIONS = ("na", "cn", "eu")

_DIGITS = "0123456789"
_LETTERS = "".join(c for c in ALPHABET if not c.isdigit())
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # never U, Z, 0
_WMI = {
    "na": ["1HG", "1FT", "1FA", "1G1", "1GC", "1C4", "1N4", "1B7", "2T1", "2HG", "2FM",
           "3VW", "3FA", "3GN", "4T1", "4S3", "5YJ", "5NP", "5FN", "5XY", "1M8", "2C3"],
    "cn": ["LSV", "LFV", "LVS", "LGB", "LHG", "LJD", "LBV", "LDC", "LVG", "LZW", "LRW", "LSG"],
    "eu": ["WBA", "WBX", "WDB", "WDD", "WVW", "WVG", "WAU", "WF0", "VF1", "VF3", "VF7", "VSS",
           "SAL", "SAJ", "SCC", "ZFA", "ZAR", "YV1", "YS3", "TMB", "TRU", "JHM", "JTD", "JN1",
           "JMB", "KMH", "KNA", "KL1", "XTA", "XWE", "VR3", "U5Y", "NM0", "MA1"],
}
_DEJAVU = "/usr/share/fonts/truetype/dejavu/"
_VIN_FACES = ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansCondensed.ttf",
              "DejaVuSansCondensed-Bold.ttf", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
_TEXT_FACES = ("DejaVuSans.ttf", "DejaVuSansCondensed.ttf", "DejaVuSans-Bold.ttf",
               "DejaVuSansCondensed-Bold.ttf", "DejaVuSerif.ttf")


# --------------------------------------------------------------------- VINs

def random_vin(rng: np.random.Generator, region: str | None = None) -> str:
    """A plausible random VIN: 'na' (1-5, check digit), 'cn' (L.., check digit) or 'eu'."""
    region = region or rng.choice(REGIONS, p=[0.45, 0.2, 0.35])
    pick = lambda s: s[rng.integers(len(s))]  # noqa: E731
    wmi = pick(_WMI[region]) if rng.random() < 0.8 else (
        pick("12345") + pick(_LETTERS) + pick(ALPHABET) if region == "na" else
        "L" + pick(_LETTERS) + pick(ALPHABET) if region == "cn" else
        pick("WVSJKZYT") + pick(_LETTERS) + pick(ALPHABET))
    vds = "ZZZ" + "".join(pick(ALPHABET) for _ in range(2)) if wmi[:2] in ("WV", "WA") and rng.random() < .6 \
        else "".join(pick(ALPHABET) for _ in range(5))
    year, plant = pick(_YEAR_CODES), pick(ALPHABET)
    n_alpha = 0 if region == "na" and rng.random() < 0.7 else int(rng.integers(0, 3))
    serial = "".join(pick(_LETTERS if i < n_alpha else _DIGITS) for i in range(6))
    vin = wmi + vds + "0" + year + plant + serial
    if region != "eu" or rng.random() < 0.5:
        check = calc_check_digit(vin)
    else:
        check = pick("Z0123456789" + _LETTERS)
    return vin[:8] + check + vin[9:]


# ------------------------------------------------------------------ helpers

@dataclass
class Scene:
    """One synthetic photo and its ground truth."""
    image: np.ndarray                  # H x W x 3 uint8 BGR
    vin: str
    kind: str
    variant: str | None
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # 17 x (x, y, w, h)
    angle: float = 0.0                 # VIN line angle in degrees; image y down, + = clockwise
    quads: np.ndarray | None = field(default=None, repr=False)  # 17 x 4 x 2 ink corners TL, TR, BR, BL

    def meta(self, file: str = "") -> dict:
        """The JSON record the CLI writes next to the image."""
        return {"file": file, "vin": self.vin, "kind": self.kind, "variant": self.variant,
                "boxes": [list(map(int, b)) for b in self.boxes], "angle": round(self.angle, 2)}


@dataclass
class _Obj:
    """A flat object in its own pixel coordinates; pasted onto a background."""
    quads: np.ndarray                  # 17 x 4 x 2 glyph corners
    background: object                 # callable(rng, h, w) -> float32 BGR
    img: np.ndarray | None = None      # float32 BGR, composited with alpha
    alpha: np.ndarray | None = None    # float32 0..1
    gain: np.ndarray | None = None     # float32, multiplies the background (relief)
    delta: np.ndarray | None = None    # float32, added (relief shading)
    post: object = None                # callable(rng, img, vin_quads) in output space


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


@functools.lru_cache(maxsize=None)
def _face_path(name: str) -> str | None:
    path = os.path.join(_DEJAVU, name)
    if os.path.exists(path):
        return path
    try:  # another module may know more fonts
        from train.fonts import font_paths
        for p in font_paths():
            if os.path.basename(str(p)) == name:
                return str(p)
    except Exception:
        pass
    return None


def missing_faces() -> list[str]:
    """The scenes' font files not found on this machine (Pillow's default face stands in)."""
    names = sorted(set(_VIN_FACES + _TEXT_FACES + ("DejaVuSans-ExtraLight.ttf",)))
    return [n for n in names if _face_path(n) is None]


@functools.lru_cache(maxsize=512)
def _font(name: str, cap: int) -> ImageFont.FreeTypeFont:
    """Font ``name`` sized so that a capital letter is ``cap`` pixels tall."""
    path = _face_path(name)
    if path is None:
        return ImageFont.load_default(size=max(4, int(cap / 0.72)))
    probe = ImageFont.truetype(path, 100)
    l, t, r, b = probe.getbbox("H", anchor="ls")
    return ImageFont.truetype(path, max(4, round(cap * 100 / (b - t))))


@functools.lru_cache(maxsize=4096)
def _ink_box(name: str, cap: int, char: str) -> tuple[int, int, int, int]:
    """Tight ink box (l, t, r, b) of ``char`` relative to its left baseline point."""
    font = _font(name, cap)
    pad = cap
    im = Image.new("L", (3 * cap + 2 * pad, 3 * cap), 0)
    ImageDraw.Draw(im).text((pad, 2 * cap), char, font=font, fill=255, anchor="ls")
    ys, xs = np.nonzero(np.asarray(im) > 60)
    if len(xs) == 0:
        return (0, -cap, cap // 2, 0)
    return (xs.min() - pad, ys.min() - 2 * cap, xs.max() + 1 - pad, ys.max() + 1 - 2 * cap)


def _text(draw: ImageDraw.ImageDraw, xy, s, face, cap, fill) -> float:
    """Draw ``s`` at left-baseline ``xy``; return its advance."""
    font = _font(face, int(cap))
    draw.text(xy, s, font=font, fill=fill, anchor="ls")
    return font.getlength(s)


def _text_len(s, face, cap) -> float:
    return _font(face, int(cap)).getlength(s)


def _vin_line(draw, x, base, vin, face, cap, fill, track=0.0, mono_pitch=None):
    """Draw the VIN glyph by glyph; return 17 quads and the end x."""
    font = _font(face, int(cap))
    quads = []
    for c in vin:
        draw.text((x, base), c, font=font, fill=fill, anchor="ls")
        l, t, r, b = _ink_box(face, int(cap), c)
        quads.append([(x + l, base + t), (x + r, base + t), (x + r, base + b), (x + l, base + b)])
        x += (mono_pitch or font.getlength(c)) + track
    return np.array(quads, np.float32), x


def _lowfreq(rng, h, w, cells=4, amp=1.0):
    """Smooth random field in [-amp, amp]."""
    small = rng.uniform(-amp, amp, (cells, cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


@functools.lru_cache(maxsize=1)
def _noise_table() -> np.ndarray:
    return np.random.default_rng(3779).standard_normal(1 << 23, dtype=np.float32)


def _normal(rng, shape) -> np.ndarray:
    """Standard normal noise of ``shape`` (a random window of a fixed table: fast)."""
    n, table = int(np.prod(shape)), _noise_table()
    if n > len(table):
        return rng.standard_normal(shape, dtype=np.float32)
    start = int(rng.integers(0, len(table) - n + 1))
    return table[start:start + n].reshape(shape)


def _grain(rng, h, w, sigma, blur=0.0, streak=0):
    """Fine noise, optionally blurred or streaked horizontally (brushed metal)."""
    n = _normal(rng, (h, w)) * np.float32(sigma)
    if streak:
        n = cv2.blur(n, (streak, 1)) * np.sqrt(streak) * 0.6
    if blur:
        n = cv2.GaussianBlur(n, (0, 0), blur)
    return n


def _color(bgr, h, w):
    return np.broadcast_to(np.asarray(bgr, np.float32), (h, w, 3)).copy()


def _scratches(rng, img, n, amp):
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    for _ in range(n):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        a, ln = rng.uniform(0, np.pi), rng.uniform(0.05, 0.4) * max(h, w)
        x1, y1 = x0 + ln * np.cos(a), y0 + ln * np.sin(a)
        cv2.line(layer, (int(x0), int(y0)), (int(x1), int(y1)), float(rng.uniform(-1, 1)), 1, cv2.LINE_AA)
    img += (layer * amp)[..., None]


# -------------------------------------------------------------- backgrounds

def _bg_paint(rng, h, w):
    """Car body paint in a door jamb: colour, shading, flakes, a rubber seal."""
    color = _pick(rng, [(235, 235, 235), (190, 190, 195), (40, 40, 45), (40, 40, 170), (140, 90, 30),
                        (120, 120, 125), (60, 80, 40), (170, 150, 120), (20, 20, 20)])
    img = _color(color, h, w) * (1 + 0.25 * _lowfreq(rng, h, w, 3))[..., None]
    img += _grain(rng, h, w, 6, 0.7)[..., None]
    for _ in range(int(rng.integers(0, 3))):  # folds / edges of the jamb
        y, hb = int(rng.uniform(0, h)) // 4, int(rng.uniform(0.03, 0.2) * h / 4) + 1
        band = np.zeros((h // 4 + 1, 1), np.float32)
        band[y:y + hb] = rng.uniform(-0.45, 0.3)
        band = cv2.GaussianBlur(band, (0, 0), max(0.7, h / 320))
        img *= (1 + cv2.resize(band, (1, h), interpolation=cv2.INTER_LINEAR))[..., None]
    if rng.random() < 0.5:  # black rubber seal on one side
        x = int(rng.uniform(0.85, 0.97) * w) if rng.random() < .5 else int(rng.uniform(0.03, 0.15) * w)
        seal = np.zeros((h, w), np.float32)
        if x > w / 2:
            seal[:, x:] = 1
        else:
            seal[:, :x] = 1
        seal = cv2.blur(seal, (7, 1))[..., None]
        img = img * (1 - seal) + 18 * seal
    return img


def _bg_dash(rng, h, w):
    """Dark grained dashboard plastic with defroster slots."""
    v = rng.uniform(20, 60)
    img = _color((v, v, v * rng.uniform(0.95, 1.1)), h, w)
    img += (_grain(rng, h, w, 10, 1.2) + 10 * _lowfreq(rng, h, w, 4))[..., None]
    if rng.random() < 0.6:  # defroster grille
        y = int(rng.uniform(0.05, 0.3) * h)
        step = max(6, int(rng.uniform(0.01, 0.03) * w))
        for x in range(int(rng.uniform(0, step)), w, step):
            cv2.rectangle(img, (x, y), (x + step // 2, y + max(3, h // 12)), (8, 8, 8), -1)
    return img


def _bg_metal(rng, h, w):
    """Steel or painted frame metal: brushed grain, blotches, scratches."""
    painted = rng.random() < 0.35
    base = (np.array(_pick(rng, [(25, 25, 25), (45, 45, 50), (70, 60, 55)])) if painted
            else np.full(3, rng.uniform(80, 175)) * rng.uniform(0.97, 1.03, 3))
    img = _color(base, h, w)
    img *= (1 + 0.15 * _lowfreq(rng, h, w, 4))[..., None]
    img += _grain(rng, h, w, rng.uniform(6, 18), 0, streak=int(rng.choice([1, 9, 25])))[..., None]
    img += _grain(rng, h, w, rng.uniform(3, 12))[..., None]  # sensor-like speckle
    blot = np.clip(_lowfreq(rng, h, w, 10, 1.0) - 0.6, 0, None) * rng.uniform(0, 40)
    img -= blot[..., None]
    _scratches(rng, img, int(rng.integers(3, 25)), rng.uniform(15, 50))
    return img


def _bg_desk(rng, h, w):
    """A desk or clipboard under the paper form."""
    color = _pick(rng, [(60, 90, 130), (40, 60, 90), (110, 110, 110), (150, 170, 190), (30, 30, 30)])
    img = _color(color, h, w) * (1 + 0.2 * _lowfreq(rng, h, w, 3))[..., None]
    img += _grain(rng, h, w, 5, 0, streak=int(rng.choice([1, 31])))[..., None]
    return img


# ------------------------------------------------------------------ stickers

_MAKERS = ["BAYERISCHE MOTOREN WERKE AG", "DAIMLERCHRYSLER AG STUTTGART", "FORD MOTOR COMPANY",
           "GENERAL MOTORS LLC", "HONDA OF AMERICA MFG., INC.", "TOYOTA MOTOR MANUFACTURING",
           "HYUNDAI MOTOR COMPANY", "VOLVO CAR CORPORATION", "NISSAN NORTH AMERICA, INC.",
           "VOLKSWAGEN AG", "KIA MOTORS CORPORATION", "SUBARU OF INDIANA AUTOMOTIVE",
           "TESLA, INC.", "SAIC GENERAL MOTORS", "FCA US LLC"]
_LEGAL = ("THIS VEHICLE CONFORMS TO ALL APPLICABLE U.S. FEDERAL MOTOR VEHICLE SAFETY, BUMPER, "
          "AND THEFT PREVENTION STANDARDS IN EFFECT ON THE DATE OF MANUFACTURE SHOWN ABOVE.")


def _wrap(s, face, cap, width):
    lines, cur = [], ""
    for word in s.split():
        t = (cur + " " + word).strip()
        if _text_len(t, face, cap) > width and cur:
            lines.append(cur)
            cur = word
        else:
            cur = t
    return lines + [cur]


def _barcode(vin: str, fmt: str, module: int, height: int) -> np.ndarray:
    """Code 39 / Code 128 of the VIN from zxing-cpp's writer: uint8, 0 = bar."""
    import zxingcpp
    f = zxingcpp.BarcodeFormat.Code39 if fmt == "code39" else zxingcpp.BarcodeFormat.Code128
    row = np.asarray(zxingcpp.create_barcode(vin, f).to_image(scale=1))[0]
    row = np.repeat(row, module)
    return np.repeat(row[None], height, axis=0)


def _draw_sticker(rng, vin, g):
    """Door-jamb certification label: small print, 'VIN' caption, VIN, barcode."""
    dark = rng.random() < 0.35
    paper = np.full(3, rng.uniform(25, 45)) if dark else (
        np.full(3, rng.uniform(225, 250)) if rng.random() < .6 else np.full(3, rng.uniform(185, 215)))
    paper = paper * rng.uniform(0.96, 1.03, 3)
    ink = tuple(int(v) for v in (np.full(3, rng.uniform(215, 245)) if dark else np.full(3, rng.uniform(10, 50))))
    face, bold = _pick(rng, _TEXT_FACES[:2]), _pick(rng, ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf"))
    vface = _pick(rng, _VIN_FACES)
    small = g * rng.uniform(0.42, 0.7)
    track = g * rng.uniform(-0.02, 0.12)
    caption = _pick(rng, ["VIN", "VIN:", "V.I.N.", "V.I.N", "VEHICLE IDENTIFICATION NO."])
    cap_above = rng.random() < 0.3 or len(caption) > 6
    stars = rng.random() < 0.2
    vin_w = sum(_font(vface, int(g)).getlength(c) + track for c in vin)
    star_w = _text_len("*", vface, g) if stars else 0
    m = g * rng.uniform(0.6, 1.2)
    cap_size = small if rng.random() < .5 else g * 0.8
    cap_w = 0 if cap_above else _text_len(caption, bold, cap_size) + g * rng.uniform(0.3, 1.0)
    width = max(vin_w + 2 * star_w + cap_w, g * 14, 330) * rng.uniform(1.0, 1.35)  # room for a barcode
    lh = small * 1.55
    # rows: ("text", [(dx, s, face)]), ("vin",), ("bar",)
    maker = _pick(rng, _MAKERS)
    mm, yy = int(rng.integers(1, 13)), int(rng.integers(0, 25))
    kg = int(rng.integers(1500, 3200))
    f_kg, r_kg = int(kg * rng.uniform(0.45, 0.55)), int(kg * rng.uniform(0.5, 0.6))
    header = [("MFD BY " + maker, 0), (f"{mm:02d}/{yy:02d}", 1)]
    rows = [("text", header, face)]
    rows.append(("text", [(f"GVWR {kg} KG ({int(kg * 2.2046)} LB)", 0), ("GAWR FRT " + str(f_kg) + " KG", 0.55)], face))
    rows.append(("text", [(f"GAWR RR {r_kg} KG ({int(r_kg * 2.2046)} LB)", 0),
                          (f"{int(rng.integers(200, 260))} KPA ({int(rng.integers(30, 38))} PSI) COLD", 0.55)], face))
    legal = [("text", [(line, 0)], face) for line in _wrap(_LEGAL, face, small, width)]
    rows += legal[: int(rng.integers(2, len(legal) + 1))]
    vin_rows = [("vin",)]
    if cap_above:
        vin_rows = [("text", [(caption, 0)], bold)] + vin_rows
    bar = ("bar",) if rng.random() < 0.85 else None
    if bar:
        vin_rows = vin_rows + [bar] if rng.random() < 0.7 else [bar] + vin_rows
    rows += vin_rows
    rows.append(("text", [("TYPE: " + _pick(rng, ["PASS CAR", "MPV", "TRUCK", "PASSENGER CAR"]), 0),
                          ("PAINT " + "".join(_pick(rng, ALPHABET) for _ in range(3)), 0.45),
                          ("MADE IN " + _pick(rng, ["U.S.A.", "GERMANY", "JAPAN", "KOREA", "CHINA", "CANADA"]),
                           0.7)], face))
    if rng.random() < 0.5:  # keep the top rows only sometimes: short labels
        rows = rows[int(rng.integers(0, 3)):]
    bar_h = int(g * rng.uniform(1.2, 2.2))
    for r in rows:  # lay out columns left to right without overlaps
        if r[0] == "text":
            x, items = 0.0, []
            for t, dx in r[1]:
                x = max(x, dx * width)
                items.append((t, x))
                x += _text_len(t, r[2], small) + small * 1.5
            r[1][:] = items
            width = max(width, x - small * 1.5)
    heights = [lh if r[0] == "text" else (g * 1.6 if r[0] == "vin" else bar_h + g * 0.5) for r in rows]
    H, W = int(sum(heights) + 2 * m), int(width + 2 * m)
    img = _color(paper, H, W) + _grain(rng, H, W, 3 if not dark else 2, 0.6)[..., None]
    if not dark and paper[0] < 220:  # silver foil
        img += _grain(rng, H, W, 6, 0, streak=15)[..., None]
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy())
    draw = ImageDraw.Draw(pil)
    y, quads = m, None
    fill = ink[::-1]
    for r, h in zip(rows, heights):
        if r[0] == "text":
            for s, dx in r[1]:
                _text(draw, (m + dx, y + small * 1.2), s, r[2], small, fill)
        elif r[0] == "vin":
            x, base = m, y + g * 1.25
            if not cap_above:
                _text(draw, (x, base), caption, bold, cap_size, fill)
                x += cap_w
            if stars:
                x += _text(draw, (x, base), "*", vface, g, fill) + track
            quads, x = _vin_line(draw, x, base, vin, vface, g, fill, track)
            if stars:
                _text(draw, (x, base), "*", vface, g, fill)
        else:
            code = _barcode(vin, _pick(rng, ["code39", "code128"]), 1, bar_h)
            module = max(1, int(width * rng.uniform(0.7, 1.0) / code.shape[1]))
            code = np.repeat(code, module, axis=1)[:, : int(width)]
            bx = int(m + rng.uniform(0, max(0, width - code.shape[1])))
            if dark:  # bars on a white field
                pil.paste((245, 245, 245), (bx - 4, int(y), bx + code.shape[1] + 4, int(y) + bar_h))
            pil.paste((15, 15, 15), (bx, int(y)), Image.fromarray(255 - code))
        y += h
    img = np.asarray(pil)[..., ::-1].astype(np.float32)
    img += _grain(rng, H, W, 2)[..., None]
    amask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(amask).rounded_rectangle([0, 0, W - 1, H - 1], int(g * rng.uniform(0, 0.6)), fill=255)
    alpha = cv2.GaussianBlur(np.asarray(amask, np.float32) / 255, (0, 0), 0.7)
    if rng.random() < 0.4:  # lifted, darker edge band
        edge = 1 - cv2.GaussianBlur(cv2.erode(alpha, None, iterations=max(2, int(g / 5))), (0, 0), 2)
        img *= (1 - 0.25 * edge)[..., None]
    return _Obj(quads, _bg_paint, img, alpha)


# ------------------------------------------------------ windshield VIN plate

def _windshield(rng, img, quads):
    """Glass between camera and plate: haze, tint, reflections, frit dots."""
    h, w = img.shape[:2]
    tint = np.array([rng.uniform(1.0, 1.15), rng.uniform(1.0, 1.1), rng.uniform(0.85, 1.0)], np.float32)
    img *= tint
    img += rng.uniform(5, 35)  # haze
    refl = np.zeros((h // 8 + 1, w // 8 + 1), np.float32)
    for _ in range(int(rng.integers(1, 4))):  # skewed bright reflections of the sky / dashboard
        pts = np.array([[rng.uniform(-.2, 1.2) * w / 8, rng.uniform(-.2, 1.2) * h / 8] for _ in range(4)], np.int32)
        cv2.fillConvexPoly(refl, cv2.convexHull(pts), float(rng.uniform(15, 70)))
    refl = cv2.GaussianBlur(refl, (0, 0), max(h, w) / 8 / rng.uniform(6, 20))
    img += cv2.resize(refl, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    if rng.random() < 0.4:  # ceramic frit dots along the glass edge, away from the VIN
        top = quads[..., 1].min()
        if top > h * 0.3:
            step = max(6, int(w / rng.uniform(60, 120)))
            band = top * rng.uniform(0.4, 0.8)
            for y in range(0, int(band), step):
                rad = step * 0.45 * (1 - y / band)
                if rad >= 1:
                    for x in range((y // step % 2) * step // 2, w, step):
                        cv2.circle(img, (x, y), int(rad), (10, 10, 10), -1, cv2.LINE_AA)
    return img


def _draw_plate(rng, vin, g):
    """Riveted VIN plate on the dashboard: dark plate, light characters."""
    vface = _pick(rng, _VIN_FACES[:4])
    track = g * rng.uniform(0.0, 0.15)
    vin_w = sum(_font(vface, int(g)).getlength(c) + track for c in vin)
    barcode = rng.random() < 0.3
    pad_x = g * rng.uniform(1.2, 2.5)
    W = int(vin_w + 2 * pad_x)
    H = int(g * rng.uniform(1.8, 2.4) + (g * 2.2 if barcode else 0))
    v = rng.uniform(10, 55)
    img = _color((v, v, v * rng.uniform(0.9, 1.2)), H, W) + _grain(rng, H, W, 4, 0, 11)[..., None]
    light = np.clip(np.full(3, rng.uniform(150, 235)) * rng.uniform(0.95, 1.05, 3), 0, 255)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy())
    draw = ImageDraw.Draw(pil)
    base = g * rng.uniform(1.3, 1.6)
    quads, _ = _vin_line(draw, pad_x, base, vin, vface, g, tuple(int(c) for c in light[::-1]), track)
    if barcode:
        code = _barcode(vin, "code39" if rng.random() < .6 else "code128", 1, int(g * 1.6))
        module = max(1, int(vin_w / code.shape[1]))
        code = np.repeat(code, module, axis=1)
        bx = int((W - code.shape[1]) / 2)
        pil.paste(tuple(int(c) for c in light[::-1]), (max(bx, 0), int(base + g * 0.4)), Image.fromarray(code[:, :W]))
    img = np.asarray(pil)[..., ::-1].astype(np.float32)
    if rng.random() < 0.7:  # aluminium rim and rivets
        rim = np.full(3, rng.uniform(120, 190), np.float32)
        t = max(2, int(g * 0.12))
        cv2.rectangle(img, (0, 0), (W - 1, H - 1), rim.tolist(), t)
        for x in (pad_x * 0.45, W - pad_x * 0.45):
            c = (int(x), H // 2 if not barcode else int(base - g / 2))
            cv2.circle(img, c, max(2, int(g * 0.22)), (rim * 0.8).tolist(), -1, cv2.LINE_AA)
            cv2.circle(img, (c[0] - 1, c[1] - 1), max(1, int(g * 0.1)), (rim * 1.2).tolist(), -1, cv2.LINE_AA)
    alpha = np.ones((H, W), np.float32)
    return _Obj(quads, _bg_dash, img, alpha, post=_windshield)


# ------------------------------------------------------------- stamped metal

def _relief(rng, mask, width, depth):
    """Gain and shading of a groove whose footprint is ``mask`` (float 0..1)."""
    hmap = cv2.GaussianBlur(mask, (0, 0), max(0.6, width * 0.5))
    gx = cv2.Sobel(hmap, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(hmap, cv2.CV_32F, 0, 1, ksize=3)
    a = rng.uniform(0, 2 * np.pi)
    shade = gx * np.cos(a) + gy * np.sin(a)
    shade /= max(1e-3, float(np.percentile(np.abs(shade), 99.5)))
    inner = rng.uniform(-0.35, 0.45)  # groove darker (dirt) or brighter (fresh cut)
    gain = 1 + inner * hmap
    delta = depth * shade + rng.uniform(0, 25) * hmap * (1 if inner > 0 else 0)
    return gain[..., None], delta[..., None]


def _draw_engraved(rng, vin, g):
    """VIN stamped into metal: thin grooves lit from one side, often *...*."""
    face = _pick(rng, ("DejaVuSans-ExtraLight.ttf", "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf",
                       "DejaVuSans.ttf"))
    stars = rng.random() < 0.7
    track = g * rng.uniform(0.05, 0.3)
    font = _font(face, int(g))
    text_w = sum(font.getlength(c) + track for c in vin) + (2 * (font.getlength("*") + track) if stars else 0)
    pad = int(g * 1.5)
    W, H = int(text_w + 2 * pad), int(g + 2 * pad)
    pil = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(pil)
    base = pad + g
    x = pad
    if stars:
        x += _text(draw, (x, base), "*", face, g, 255) + track
    quads, x = _vin_line(draw, x, base, vin, face, g, 255, track)
    if stars:
        _text(draw, (x, base), "*", face, g, 255)
    mask = np.asarray(pil, np.float32) / 255
    if "ExtraLight" not in face:  # stamps cut thin lines: keep only a core
        mask = cv2.erode(mask, None, iterations=max(1, int(g / 22)))
    mask *= np.clip(1 + 0.3 * _lowfreq(rng, H, W, 8), 0.4, 1.3)  # uneven stamping depth
    gain, delta = _relief(rng, mask, g / 14, rng.uniform(30, 90))
    return _Obj(quads, _bg_metal, gain=gain, delta=delta)


@functools.lru_cache(maxsize=None)
def _hershey(font: str = "futural"):
    from HersheyFonts import HersheyFonts
    f = HersheyFonts()
    f.load_default_font(font)
    f.normalize_rendering(100)
    return f


@functools.lru_cache(maxsize=None)
def _strokes(char: str, font: str = "futural") -> tuple:
    """Segments of a Hershey glyph, in cap-height units, y down (0 = cap top, 1 = baseline)."""
    f = _hershey(font)
    (_, ytop), (_, ybase) = list(f.lines_for_text("H"))[0]
    segs = [((x0 / (ytop - ybase), (ytop - y0) / (ytop - ybase)), (x1 / (ytop - ybase), (ytop - y1) / (ytop - ybase)))
            for (x0, y0), (x1, y1) in f.lines_for_text(char)]
    xs = [p[0] for s in segs for p in s]
    x0 = min(xs)
    return tuple(((a[0] - x0, a[1]), (b[0] - x0, b[1])) for a, b in segs), max(xs) - x0


def _dots(char, spacing):
    """Dot centres along the glyph strokes, about ``spacing`` apart (cap units)."""
    segs, _ = _strokes(char)
    pts = []
    for (x0, y0), (x1, y1) in segs:
        n = max(1, int(round(np.hypot(x1 - x0, y1 - y0) / spacing)))
        for t in np.linspace(0, 1, n + 1):
            p = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
            if all((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 > (0.6 * spacing) ** 2 for q in pts):
                pts.append(p)
    return pts


def _draw_dotpeen(rng, vin, g):
    """Dot-matrix (dot-peen) VIN on a metal plate or frame."""
    spacing = rng.uniform(0.11, 0.17)
    rad = max(1.0, g * spacing * rng.uniform(0.25, 0.4))
    wscale = rng.uniform(0.75, 1.0)  # condensed glyphs
    pitch = g * wscale * rng.uniform(0.92, 1.15)
    stars = rng.random() < 0.4
    pad = int(g * 1.5)
    chars = ("*" if stars else "") + vin + ("*" if stars else "")
    W, H = int(2 * pad + len(chars) * pitch), int(g + 2 * pad)
    mask = np.zeros((H, W), np.float32)
    quads, x = [], float(pad)
    jit = g * rng.uniform(0, 0.015)
    for i, c in enumerate(chars):
        pts = np.array(_dots(c, spacing), np.float32).reshape(-1, 2)
        if pts.size == 0:  # no strokes: skip
            x += pitch
            continue
        pts[:, 0] *= g * wscale
        pts[:, 1] *= g
        pts += (x, pad) + rng.normal(0, jit, pts.shape)
        for px, py in pts:
            cv2.circle(mask, (int(px * 4), int(py * 4)), int(rad * 4), rng.uniform(0.7, 1.0), -1, cv2.LINE_AA, 2)
        if not (stars and i in (0, len(chars) - 1)):
            x0, y0 = pts.min(0) - rad
            x1, y1 = pts.max(0) + rad
            quads.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        x += pitch
    gain, delta = _relief(rng, mask, rad * 0.5, rng.uniform(40, 90))
    gain = gain * (1 - rng.uniform(0.25, 0.6) * cv2.GaussianBlur(mask, (0, 0), rad * 0.3)[..., None])
    return _Obj(np.array(quads, np.float32), _bg_metal, gain=gain, delta=delta)


# --------------------------------------------------------------- handwriting

def _hand_char(rng, c, h):
    """Ink coverage (float 0..1) of a handwritten ``c`` about ``h`` px tall."""
    try:
        from train.render import render_char
        gray = np.asarray(render_char(c, "handwriting", rng, h), np.float32)
        if gray.ndim == 3:
            gray = gray.mean(2)
        return np.clip((gray.max() - gray) / max(1.0, gray.max() - gray.min()), 0, 1) ** 0.7
    except ImportError:
        pass
    # fallback: jittered Hershey strokes, slanted, with a pen of random width
    segs, adv = _strokes(c)
    slant, sx = rng.uniform(-0.25, 0.1), rng.uniform(0.8, 1.15)
    pen = max(1, int(h * rng.uniform(0.06, 0.11)))
    m = pen + 2
    W, H = int(h * (adv * sx + 0.5)) + 2 * m, h + 2 * m
    img = np.zeros((H * 4, W * 4), np.uint8)
    jit = rng.normal(0, 0.03, (len(segs), 2, 2))
    for (a, b), j in zip(segs, jit):
        p = [((q[0] * sx + slant * (1 - q[1]) + 0.25 + d[0]) * h + m, (q[1] + d[1]) * h + m) for q, d in zip((a, b), j)]
        cv2.line(img, (int(p[0][0] * 4), int(p[0][1] * 4)), (int(p[1][0] * 4), int(p[1][1] * 4)), 255, pen * 4,
                 cv2.LINE_AA)
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _draw_handwritten(rng, vin, g):
    """Paper form: printed fields and a row of 17 boxes, one handwritten character each."""
    face = _pick(rng, _TEXT_FACES)
    small = g * rng.uniform(0.35, 0.55)
    cell = g * rng.uniform(1.1, 1.5)
    box_h = g * rng.uniform(1.3, 1.7)
    m = g * rng.uniform(1.0, 2.0)
    W = int(17 * cell + 2 * m + g * rng.uniform(0, 4))
    title = _pick(rng, ["APPLICATION FOR CERTIFICATE OF TITLE", "VEHICLE INSPECTION REPORT",
                        "BILL OF SALE", "VIN VERIFICATION", "VEHICLE REGISTRATION"])
    fields = ["YEAR", "MAKE", "BODY STYLE", "MODEL", "ODOMETER READING", "PLATE NUMBER", "COLOR"]
    rng.shuffle(fields)
    n_above, n_below = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    row_h = small * 4.2
    H = int(2 * m + small * 2.5 + (n_above + n_below) * row_h + small * 2 + box_h)
    paper = np.full(3, rng.uniform(225, 250)) * np.array([rng.uniform(.9, 1), rng.uniform(.97, 1), 1])
    img = _color(paper, H, W) + _grain(rng, H, W, 3, 0.6)[..., None]
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)[..., ::-1].copy())
    draw = ImageDraw.Draw(pil)
    pr = (20, 20, 20) if rng.random() < .7 else (120, 60, 20)  # printed ink (RGB)
    lw = max(1, int(g / 30))
    _text(draw, (m, m + small * 1.5), title, "DejaVuSans-Bold.ttf", small * 1.3, pr)
    y = m + small * 2.5
    ink = np.array(_pick(rng, [(140, 40, 20), (30, 30, 30), (120, 30, 30)]), np.float32)  # BGR pen
    hand_spots = []

    def field_row(y, names):
        x = m
        for name in names:
            wbox = (W - 2 * m) / len(names)
            _text(draw, (x, y + small * 1.0), name, face, small * 0.8, pr)
            draw.line([(x, y + row_h - small * 0.4), (x + wbox - g * 0.3, y + row_h - small * 0.4)], fill=pr, width=lw)
            if rng.random() < 0.7:
                chars = _DIGITS if rng.random() < .5 else ALPHABET
                s = "".join(_pick(rng, chars) for _ in range(int(rng.integers(2, 6))))
                hand_spots.append((s, x + g * 0.2, y + row_h - small * 0.55))
            x += wbox

    def field_rows(y, fields, n):
        for _ in range(n):
            k = int(rng.integers(1, 3))
            field_row(y, fields[:k])
            fields = fields[k:] + fields[:k]
            y += row_h
        return y, fields

    y, fields = field_rows(y, fields, n_above)
    _text(draw, (m, y + small * 1.4), _pick(rng, ["VEHICLE IDENTIFICATION NUMBER (VIN)", "VIN",
                                                 "VEHICLE IDENTIFICATION NUMBER", "V.I.N."]),
          "DejaVuSans-Bold.ttf" if rng.random() < .5 else face, small, pr)
    y += small * 2
    by = y
    for i in range(18):
        x = m + i * cell
        draw.line([(x, by), (x, by + box_h)], fill=pr, width=lw)
    draw.rectangle([m, by, m + 17 * cell, by + box_h], outline=pr, width=lw)
    y += box_h
    y, fields = field_rows(y, fields, n_below)
    img = np.asarray(pil)[..., ::-1].astype(np.float32)
    cover = np.zeros((H, W), np.float32)
    quads = []
    for i, c in enumerate(vin):
        h = int(g * rng.uniform(0.8, 1.05))
        a = _hand_char(rng, c, h)
        ys, xs = np.nonzero(a > 0.25)
        if len(xs) == 0:
            ys, xs = np.array([0, a.shape[0] - 1]), np.array([0, a.shape[1] - 1])
        a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        ah, aw = a.shape
        if aw > cell * 0.95:  # keep inside the box
            a = cv2.resize(a, (int(cell * 0.9), max(1, int(ah * cell * 0.9 / aw))))
            ah, aw = a.shape
        x0 = int(m + i * cell + (cell - aw) / 2 + rng.normal(0, cell * 0.05))
        y0 = int(by + (box_h - ah) / 2 + rng.normal(0, box_h * 0.05))
        x0, y0 = int(np.clip(x0, 0, W - aw)), int(np.clip(y0, 0, H - ah))
        region = cover[y0:y0 + ah, x0:x0 + aw]
        np.maximum(region, a, out=region)
        quads.append([(x0, y0), (x0 + aw, y0), (x0 + aw, y0 + ah), (x0, y0 + ah)])
    for s, x, base in hand_spots:  # other handwritten fields
        h = int(small * 1.8)
        for c in s:
            a = _hand_char(rng, c, h)
            ah, aw = a.shape
            y0, xi = int(base - ah), int(x)
            if xi + aw < W and y0 >= 0:
                region = cover[y0:y0 + ah, xi:xi + aw]
                np.maximum(region, a, out=region)
            x += aw * 0.8
    cover = cover[..., None] * rng.uniform(0.75, 1.0)
    img = img * (1 - cover) + ink * cover
    alpha = np.ones((H, W), np.float32)
    return _Obj(np.array(quads, np.float32), _bg_desk, img, alpha)


_DRAW = {"sticker": _draw_sticker, "plate": _draw_plate, "engraved": _draw_engraved,
         "dotpeen": _draw_dotpeen, "handwritten": _draw_handwritten}


# --------------------------------------------------------------- the camera

def _homography(rng, W, H, s, angle, shear, persp):
    """Flat (VIN centre at origin) -> output centre: scale, shear, rotate, perspective."""
    a = np.deg2rad(angle)
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    Sh = np.array([[1, np.tan(np.deg2rad(shear)), 0], [0, 1, 0], [0, 0, 1]])
    S = np.diag([s, s, 1.0])
    P = np.array([[1, 0, 0], [0, 1, 0], [persp[0] / W, persp[1] / H, 1]])
    T = np.array([[1, 0, W / 2], [0, 1, H / 2], [0, 0, 1]])
    return T @ P @ R @ Sh @ S


def _warp_pts(M, pts):
    p = np.asarray(pts, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(p, M).reshape(np.shape(pts))


def _paste(canvas, obj, ox, oy):
    """Composite ``obj`` onto ``canvas`` with its top-left at (ox, oy) (may be negative)."""
    ref = obj.img if obj.img is not None else obj.gain
    h, w = ref.shape[:2]
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + w, W), min(oy + h, H)
    if x1 <= x0 or y1 <= y0:
        return canvas
    dst = canvas[y0:y1, x0:x1]
    sl = (slice(y0 - oy, y1 - oy), slice(x0 - ox, x1 - ox))
    if obj.img is not None:
        a = obj.alpha[sl][..., None]
        dst[:] = dst * (1 - a) + obj.img[sl] * a
    if obj.gain is not None:
        dst *= obj.gain[sl]
    if obj.delta is not None:
        dst += obj.delta[sl]
    return canvas


def _photo_params(rng, variant):
    L = rng.uniform(640, 1600)
    aspect = _pick(rng, [4 / 3, 3 / 2, 16 / 9, 1.0, 2.0])
    W, H = int(L), int(L / aspect)
    if variant == "lowres":
        g_out = rng.uniform(18, 26)
    else:
        g_out = float(np.exp(rng.uniform(np.log(20), np.log(min(80, W * 0.85 / 15)))))
    strong = variant == "skew"
    angle = rng.uniform(6, 15) * rng.choice([-1, 1]) if strong else rng.uniform(-4, 4)
    shear = rng.uniform(-12, 12) if strong else rng.uniform(-4, 4)
    persp = rng.uniform(-0.3, 0.3, 2) if strong else rng.uniform(-0.1, 0.1, 2)
    return W, H, g_out, angle, shear, persp


def _effects(rng, img, variant, g_out, quads):
    """Uneven light, glare, blur, noise on a float32 image (in place where possible)."""
    h, w = img.shape[:2]
    light = 1 + rng.uniform(0.1, 0.45) * _lowfreq(rng, h, w, 3)  # uneven light
    img *= light[..., None] * rng.uniform(0.93, 1.07, 3).astype(np.float32)  # and white balance
    if variant == "glare" or rng.random() < 0.25:
        strong = variant == "glare"
        c = quads.reshape(-1, 2)
        cx, cy = (c[rng.integers(len(c))] if strong and rng.random() < 0.7
                  else (rng.uniform(0, w), rng.uniform(0, h)))
        sx = g_out * rng.uniform(1.5, 6) if strong else max(h, w) * rng.uniform(0.05, 0.2)
        sy = sx * rng.uniform(0.3, 1.0)
        yy, xx = np.mgrid[0:h:4, 0:w:4].astype(np.float32)
        a = rng.uniform(0, np.pi)
        u = ((xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)) / sx
        v = (-(xx - cx) * np.sin(a) + (yy - cy) * np.cos(a)) / sy
        blob = cv2.resize(np.exp(-(u * u + v * v)), (w, h), interpolation=cv2.INTER_LINEAR)
        img += (blob * rng.uniform(120, 230) if strong else blob * rng.uniform(40, 120))[..., None]
    if variant == "blur":
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (0, 0), g_out * rng.uniform(0.05, 0.09))
        else:  # motion blur
            k = max(3, int(g_out * rng.uniform(0.15, 0.3)) | 1)
            ker = np.zeros((k, k), np.float32)
            ker[k // 2] = 1
            ker = cv2.warpAffine(ker, cv2.getRotationMatrix2D((k / 2 - .5, k / 2 - .5), rng.uniform(0, 180), 1), (k, k))
            img = cv2.filter2D(img, -1, ker / max(ker.sum(), 1e-6))
    else:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.9))
    noise = rng.uniform(2, 7) * (1.5 if variant == "lowres" else 1)
    img += _normal(rng, img.shape) * np.float32(noise)
    return img


def _jpeg(img, q):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def render_scene(kind: str, seed: int, vin: str | None = None, variant: str | None = None) -> Scene:
    """A deterministic synthetic photo of a VIN of ``kind`` (see KINDS, VARIANTS)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {VARIANTS}")
    rng = np.random.default_rng([int(seed), KINDS.index(kind), VARIANTS.index(variant)])
    vin = vin.upper() if vin else random_vin(rng)
    if len(vin) != 17 or any(c not in ALPHABET for c in vin):
        raise ValueError(f"not a 17-character VIN: {vin!r}")
    W, H, g_out, angle, shear, persp = _photo_params(rng, variant)
    g = int(np.clip(round(g_out * rng.uniform(1.0, 1.12)), 20, 100))
    obj = _DRAW[kind](rng, vin, g)
    quads = obj.quads.astype(np.float64)
    centre = quads.reshape(-1, 2).mean(0)
    margin = max(4.0, 0.3 * g_out)
    s = g_out / g
    for _ in range(6):  # shrink until the VIN fits
        M = _homography(rng, W, H, s, angle, shear, persp) @ np.array(
            [[1, 0, -centre[0]], [0, 1, -centre[1]], [0, 0, 1]])
        q = _warp_pts(M, quads)
        lo, hi = q.reshape(-1, 2).min(0), q.reshape(-1, 2).max(0)
        if np.all(hi - lo < np.array([W, H]) - 2 * margin):
            break
        s *= 0.85
    # random placement keeping the VIN inside the frame
    shift = np.array([rng.uniform(margin - lo[0], W - margin - hi[0]),
                      rng.uniform(margin - lo[1], H - margin - hi[1])]) * rng.uniform(0.2, 0.9)
    M = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]]) @ M
    # flat region the frame sees, then background + object there
    corners = _warp_pts(np.linalg.inv(M), [[0, 0], [W, 0], [W, H], [0, H]])
    fx0, fy0 = np.floor(corners.min(0)) - 2
    fx1, fy1 = np.ceil(corners.max(0)) + 2
    fw, fh = int(min(fx1 - fx0, 5000)), int(min(fy1 - fy0, 5000))
    canvas = obj.background(rng, fh, fw).astype(np.float32)
    canvas = _paste(canvas, obj, int(-fx0), int(-fy0))
    q = _warp_pts(M, quads)
    M = M @ np.array([[1, 0, fx0], [0, 1, fy0], [0, 0, 1]])
    if s < 0.75:
        canvas = cv2.GaussianBlur(canvas, (0, 0), 0.35 / s)
    img = cv2.warpPerspective(canvas, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if obj.post is not None:
        img = obj.post(rng, img, q)
    img = _effects(rng, img, variant, g_out, q)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if variant == "lowres":  # few real pixels, heavy compression, upscaled back
        f = rng.uniform(0.45, 0.65)
        small = cv2.resize(img, (int(W * f), int(H * f)), interpolation=cv2.INTER_AREA)
        small = _jpeg(small, rng.uniform(30, 60))
        img = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
    img = _jpeg(img, rng.uniform(55, 95))
    boxes = []
    for quad in q:
        x0, y0 = np.floor(quad.min(0))
        x1, y1 = np.ceil(quad.max(0))
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(W, int(x1)), min(H, int(y1))
        boxes.append((x0, y0, x1 - x0, y1 - y0))
    c = q.mean(1)
    ang = float(np.degrees(np.arctan2(c[-1, 1] - c[0, 1], c[-1, 0] - c[0, 0])))
    return Scene(img, vin, kind, variant, boxes, ang, q.astype(np.float32))


# ----------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    ap.add_argument("--variants", nargs="+", default=["none"], choices=["none"] + list(VARIANTS[1:]),
                    help="variants to cycle through ('none' = random mild)")
    ap.add_argument("--n", type=int, default=10, help="scenes per kind")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--ext", default="jpg", choices=["jpg", "png"])
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    variants = [None if v == "none" else v for v in args.variants]
    total, t0 = len(args.kinds) * args.n, time.perf_counter()
    done = 0
    for kind in args.kinds:
        for i in range(args.n):
            seed, variant = args.seed + i, variants[i % len(variants)]
            scene = render_scene(kind, seed, variant=variant)
            name = f"{kind}_{seed:05d}" + (f"_{variant}" if variant else "")
            file = f"{name}.{args.ext}"
            params = [cv2.IMWRITE_JPEG_QUALITY, 95] if args.ext == "jpg" else []
            cv2.imwrite(os.path.join(args.out, file), scene.image, params)
            with open(os.path.join(args.out, name + ".json"), "w") as fh:
                json.dump(scene.meta(file), fh)
            done += 1
            print(f"\r{done}/{total} {file}  {(time.perf_counter() - t0) / done:.2f} s/scene",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
