"""Barcode cross-check: read the VIN from the barcodes printed next to it.

Door-jamb and certification labels often carry the VIN as a Code 39 (in North
America frequently with a leading ``I`` "import" marker: 18 characters), a
Code 128, or a DataMatrix / QR code whose payload may hold more than the VIN.
Barcodes carry their own error detection, so a barcode read is a strong second
opinion on the glyph reader's result.

Decoding uses `zxing-cpp <https://github.com/zxing-cpp/zxing-cpp>`_
(``import zxingcpp``; tested with 3.1 and 2.3).

>>> vin_from_text('I1HGCM82633A004352')          # Code 39 with the import marker
'1HGCM82633A004352'
>>> vin_from_text('*1HGCM-82633-A004352*')
'1HGCM82633A004352'
>>> vin_from_text('VIN:1HGCM82633A004352;MDL:ACCORD;YR:2003')
'1HGCM82633A004352'
>>> vin_from_text('4006381333931') is None       # an EAN, not a VIN
True
>>> cross_check('1HGCM82633A004352', [])['source']
'ocr'
"""
from __future__ import annotations

from collections.abc import Sequence

import re
from dataclasses import dataclass

import cv2
import numpy as np

from .alphabet import ALPHABET
from .images import gray_u8
from .vin import LENGTH, calc_check_digit, check, check_digit_required

__all__ = ["BarcodeVin", "FORMATS", "LINEAR_FORMATS", "DOWNSCALE_ABOVE", "MIN_LEVEL_ANGLE",
           "read_vin_barcodes", "vin_from_text", "vins_from_text", "cross_check"]

FORMATS = "Code39,Code128,DataMatrix,QRCode"
"""zxing-cpp formats looked for; fewer formats read faster (DataMatrix costs the most)."""
LINEAR_FORMATS = "Code39,Code128"
"""Formats of the levelled and upscaled passes (cheap to look for; 2-D codes need neither)."""
MIN_LEVEL_ANGLE = 1.5
"""A VIN line tilted at least this much (degrees) gets a levelled pass for linear codes."""
LEVEL_SWEEP = (-3.0, 3.0)
"""Tilts (degrees) also tried for linear codes after the text lines' own: perspective can
tilt a label's barcode a few degrees away from its text (each try costs under 10 ms)."""
MAX_LEVELLED = 4
"""Most levelled passes tried for linear codes."""
DOWNSCALE_ABOVE = 2000
"""Long side (px) above which passes 2 and 3 read half-size copies; at or below it pass 3 reads 1.5x."""

_VIN_RUN = re.compile(f"[{ALPHABET}]+")
_LABEL = re.compile(r"\bV\.?I\.?N\.?\s*(?:NO\.?|NUMBER)?\s*[:#=]?\s*")
_CODE39 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"


@dataclass
class BarcodeVin:
    """A VIN found in one barcode of a photo."""

    vin: str
    """The compact 17-character VIN."""
    raw: str
    """The barcode's whole text as decoded."""
    format: str
    """zxing-cpp's format name: ``Code39``, ``Code128``, ``DataMatrix``, ``QRCode``, ``PDF417``."""
    box: tuple[int, int, int, int]
    """(x, y, w, h) of the barcode in the input image's pixels."""
    angle: float | None = None
    """Direction of the code's top edge in the photo, degrees (image y down, + = clockwise, as
    ``VinResult.angle``; about 90 or -90 for a label turned on its side); for 1-D codes the direction
    of the scan line that read it. None if zxing-cpp gave no position."""
    valid: bool = False
    """True when :func:`vinread.vin.check` accepts the VIN (check digit included where mandatory)."""

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"vin": self.vin, "raw": self.raw, "format": self.format, "box": list(self.box),
                "angle": self.angle, "valid": self.valid}


def _code39_mod43(s: str) -> str | None:
    try:
        return _CODE39[sum(_CODE39.index(c) for c in s) % 43]
    except ValueError:
        return None


def _check_digit_holds(vin: str) -> bool:
    return calc_check_digit(vin) == vin[8]


def vins_from_text(text: str) -> list[str]:
    """Every VIN a barcode text holds, in order of appearance.

    The text is upper-cased and a ``VIN:`` style label dropped, then cut into runs
    of VIN-alphabet characters, both as it is and with spaces, dashes, dots and
    ``*`` removed. ``I`` + VIN (Code 39's import marker) cuts itself, as VINs
    never hold ``I``. A run of exactly 17 is a VIN; a run of 18 whose last
    character is the Code 39 mod-43 check of the first 17 gives those 17; a
    longer run (a payload without separators, as-is text only) gives its first or
    last 17 characters when their check digit holds where it is mandatory.
    """
    t = _LABEL.sub(" ", text.upper())
    found: list[str] = []
    for view, joined in ((t, False), (re.sub(r"[-*.\s]+", "", t), True)):
        for run in _VIN_RUN.findall(view):
            if len(run) == LENGTH:
                found.append(run)
            elif len(run) == LENGTH + 1 and _code39_mod43(run[:LENGTH]) == run[LENGTH]:
                found.append(run[:LENGTH])
            elif len(run) > LENGTH and not joined:
                found += [w for w in (run[:LENGTH], run[-LENGTH:])
                          if check_digit_required(w) and _check_digit_holds(w)]
    return list(dict.fromkeys(found))


def vin_from_text(text: str) -> str | None:
    """The VIN a barcode text holds (one that validates first), or None."""
    vins = vins_from_text(text)
    vins.sort(key=lambda v: not check(v).valid)
    return vins[0] if vins else None


def _formats(formats: str):
    import zxingcpp
    return zxingcpp.barcode_formats_from_str(formats)


def _format_name(fmt) -> str:
    return getattr(fmt, "name", None) or str(fmt).replace(" ", "")


def _corners(pos) -> np.ndarray:
    """(4, 2) float: zxing-cpp's top-left, top-right, bottom-right, bottom-left corners."""
    return np.array([[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)],
                    np.float64)


def _box(pts: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, w, h) around (4, 2) corner points, clipped to an image of ``shape``."""
    x0, y0 = np.floor(pts.min(0)).astype(int)
    x1, y1 = np.ceil(pts.max(0)).astype(int)
    x0, y0 = min(max(0, x0), shape[1] - 1), min(max(0, y0), shape[0] - 1)
    x1, y1 = min(shape[1], max(x1, x0 + 1)), min(shape[0], max(y1, y0 + 1))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def _read(view: np.ndarray, back: np.ndarray, formats, shape: tuple[int, int], **options) -> list[BarcodeVin]:
    """Decode ``view``; ``back`` (2x3 affine) maps view pixels to the original image's."""
    import zxingcpp
    out = []
    try:
        codes = zxingcpp.read_barcodes(view, formats=formats, **options)
    except TypeError:  # an older zxing-cpp without one of the options
        codes = zxingcpp.read_barcodes(view, formats=formats)
    for bc in codes:
        text = bc.text or ""
        vins = vins_from_text(text)
        if not vins:
            continue
        pts = _corners(bc.position) @ back[:, :2].T + back[:, 2]
        d = pts[1] - pts[0]
        angle = round(float(np.degrees(np.arctan2(d[1], d[0]))), 1) if d.any() else None
        out += [BarcodeVin(v, text, _format_name(bc.format), _box(pts, shape), angle, check(v).valid)
                for v in vins]
    return out


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

LIGHT_SCALE = 0.05
"""Scale of the light falling on a label, as a fraction of the photo's longer side: the
Gaussian that :func:`flat_field` estimates it with (far wider than a bar)."""


def flat_field(gray: np.ndarray, scale: float = LIGHT_SCALE) -> np.ndarray:
    """(H, W) uint8 gray -> the same divided by its smooth light (flash fall-off, a shadow).

    The light is a Gaussian blur of ``scale`` x the longer side, taken at an eighth of the
    size (the same light, 64 times less work); the ratio is scaled so that the mean light
    maps to 192, paper white.
    """
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA).astype(np.float32)
    light = cv2.GaussianBlur(small, (0, 0), max(1.0, scale * max(h, w) / 8))
    light = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(gray.astype(np.float32) / np.maximum(light, 1.0) * 192.0, 0, 255).astype(np.uint8)


def _warp(gray: np.ndarray, angle: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``gray`` turned by ``-angle`` degrees (levelling a line at ``angle``) and scaled, whole.

    Returns (view, back): the new image and the 2x3 affine map from its pixels
    back to ``gray``'s.
    """
    h, w = gray.shape
    if not angle:
        W, H = max(1, round(w * scale)), max(1, round(h * scale))
        view = cv2.resize(gray, (W, H), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        return view, np.array([[w / W, 0.0, 0.0], [0.0, h / H, 0.0]])
    fwd = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    c, s = abs(fwd[0, 0]), abs(fwd[0, 1])
    W, H = int(np.ceil(w * c + h * s)), int(np.ceil(w * s + h * c))  # keeps every corner
    fwd[:, 2] += (W - w) / 2, (H - h) / 2
    view = cv2.warpAffine(gray, fwd, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return view, cv2.invertAffineTransform(fwd)


def read_vin_barcodes(image: np.ndarray, angle: float | Sequence[float] | None = None, formats: str = FORMATS,
                      downscale_above: int = DOWNSCALE_ABOVE) -> list[BarcodeVin]:
    """VINs in the barcodes of a photo, ones that validate first.

    Passes, stopping at the first that finds a VIN:

    1. the image as given, all ``formats`` (zxing-cpp itself also tries 90/180/270
       degrees, inverted colours and its own downscaled copies; not inverted
       colours for DataMatrix, whose detector is the slow one on textured metal);
    2. large photos (long side above ``downscale_above``): a half-size copy
       (area-averaged: less noise and blur per module), all formats;
    3. Code 39 / Code 128 only: when the VIN line is tilted, a copy turned
       level by ``angle`` (1-D scan lines do not cross a tilted barcode; 2-D
       codes read at any angle in pass 1), at half size for large photos, and so
       for each further angle given, then for the tilts of :data:`LEVEL_SWEEP`
       (:data:`MAX_LEVELLED` tries in all); photos up to ``downscale_above`` whose
       VIN line is level first get a 1.5x bicubic copy (bars only 1-1.5 px wide).
    4. the photo with its uneven light divided out (:func:`flat_field`), all formats but
       DataMatrix: a label lit from one side reads dark at that end, and zxing-cpp's own
       thresholds lose its bars there.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) BGR / (H, W, 4) BGRA array, uint8 (other
        dtypes as :func:`vinread.images.gray_u8` converts them).
    angle : the VIN line's angle in degrees (image y down, + = clockwise, as
        ``VinResult.angle``), or several: the VIN line's first, then the photo's other
        text lines' (the label's barcode runs parallel to its text).
    formats : zxing-cpp format names, comma-separated (see :data:`FORMATS`).
    downscale_above : long side (px) above which pass 2 runs and pass 3 works at half size.

    Returns
    -------
    list of :class:`BarcodeVin`, one per distinct VIN (boxes and angles in
    ``image``'s pixels), valid VINs first, then in zxing-cpp's order; empty when none.
    """
    a = gray_u8(image)
    if a.ndim != 2 or min(a.shape) < 8:
        return []
    fmts = _formats(formats)
    names = formats.replace(" ", "").split(",")
    linear = ",".join(f for f in LINEAR_FORMATS.split(",") if f in names)
    rest = ",".join(f for f in names if f != "DataMatrix")
    big = max(a.shape) > downscale_above
    angles = [] if angle is None else [float(angle)] if np.isscalar(angle) else [float(x) for x in angle]
    tilts = [x for x in angles if abs(x) >= MIN_LEVEL_ANGLE]
    tilted = bool(tilts)
    levels: list[float] = []
    for x in tilts + list(LEVEL_SWEEP):    # distinct tilts, to the degree
        if all(abs(x - y) >= 1.0 for y in levels):
            levels.append(x)
    levels = levels[:MAX_LEVELLED]
    found = _read(a, _IDENTITY, _formats(rest), a.shape) if rest else []
    if not found and "DataMatrix" in names:  # the costly detector: dark-on-light only here
        found = _read(a, _IDENTITY, _formats("DataMatrix"), a.shape, try_invert=False)
    if not found and big:
        found = _read(*_warp(a, 0.0, 0.5), fmts, a.shape)
    if linear:
        scale = 0.5 if big else 1.0 if tilted else 1.5
        for level in levels if tilted or big else [0.0] + levels:
            if found:
                break
            found = _read(*_warp(a, level, scale), _formats(linear), a.shape, try_rotate=False)
    if not found and rest:
        found = _read(flat_field(a), _IDENTITY, _formats(rest), a.shape)
    unique: dict[str, BarcodeVin] = {}
    for b in found:
        unique.setdefault(b.vin, b)
    return sorted(unique.values(), key=lambda b: not b.valid)


MAX_MISREAD = 3
"""Most positions in which an OCR reading and a barcode may differ and still be one VIN
misread; beyond this they are two different strings (the OCR read another line)."""


def _strength(vin: str) -> tuple[bool, bool]:
    """(validates, check digit holds): how much the VIN's own rules vouch for it."""
    c = check(vin)
    return c.valid, bool(c.check_digit_ok)


def differing_positions(a: str, b: str) -> list[int] | None:
    """The 1-based positions where two readings differ; None when their lengths differ.

    >>> differing_positions('1HGCM82633A004352', '1HGCM82B33A004352')
    [8]
    """
    if len(a) != len(b):
        return None
    return [i + 1 for i, (x, y) in enumerate(zip(a, b)) if x != y]


def _differ(a: str, b: str) -> str:
    pos = differing_positions(a, b)
    if pos is None:
        return "lengths differ"
    return "position" + ("s " if len(pos) > 1 else " ") + ", ".join(map(str, pos))


def cross_check(ocr_vin: str | None, barcodes: list[BarcodeVin]) -> dict:
    """Compare the glyph reader's VIN with the barcode VINs; the JSON ``barcode`` object.

    Returns ``{"source", "barcode", "agree", "chosen", "warning"}``:

    - both read the same VIN: ``source="both"``, ``agree=True``;
    - they differ in a few positions (at most :data:`MAX_MISREAD`, one VIN misread):
      the one that validates (check digit included where mandatory; then: whose
      check digit holds) wins, the barcode on a tie (barcodes have their own error
      detection); ``agree=False`` and ``warning`` says what differed and which was chosen;
    - they differ in more: the OCR read some other line, and a check digit that holds
      there by chance (one string in eleven) is no evidence; a barcode that validates wins;
    - only one of them: that one (``source`` ``"ocr"`` or ``"barcode"``, ``agree=None``);
    - neither: ``source=None``, ``chosen=None``.

    When the photo has several barcode VINs, the one equal to the OCR VIN is
    compared, else the first (valid ones come first).

    >>> from vinread.barcode import BarcodeVin
    >>> bc = [BarcodeVin('1HGCM82633A004352', 'I1HGCM82633A004352', 'Code39', (0, 0, 9, 9), 0.0, True)]
    >>> r = cross_check('1HGCM82B33A004352', bc)
    >>> r['source'], r['agree'], r['chosen']
    ('barcode', False, '1HGCM82633A004352')
    >>> print(r['warning'])       # doctest: +NORMALIZE_WHITESPACE
    OCR read 1HGCM82B33A004352 but the barcode says 1HGCM82633A004352 (position 8);
    chose the barcode: it validates, the OCR reading does not
    """
    ocr = "".join(ocr_vin.split()).upper() if ocr_vin else None
    bar = next((b.vin for b in barcodes if b.vin == ocr), None) or (barcodes[0].vin if barcodes else None)
    out = {"source": None, "barcode": bar, "agree": None, "chosen": None, "warning": None}
    if ocr and bar:
        if ocr == bar:
            out.update(source="both", agree=True, chosen=ocr)
            return out
        so, sb = _strength(ocr), _strength(bar)
        differ = differing_positions(ocr, bar)
        apart = differ is None or len(differ) > MAX_MISREAD
        pick_bar = sb >= so or (apart and sb[0])
        why = ("it validates, the OCR reading does not" if pick_bar and sb[0] and not so[0] else
               "it validates, and the OCR reading differs too much to be the same VIN misread"
               if pick_bar and apart and sb < so else
               "its check digit holds, the OCR reading's does not" if pick_bar and sb > so else
               "it validates, the barcode does not" if not pick_bar and so[0] and not sb[0] else
               "its check digit holds, the barcode's does not" if not pick_bar else
               "barcodes carry their own error detection")
        out.update(source="barcode" if pick_bar else "ocr", agree=False, chosen=bar if pick_bar else ocr,
                   warning=f"OCR read {ocr} but the barcode says {bar} ({_differ(ocr, bar)}); "
                           f"chose the {'barcode' if pick_bar else 'OCR reading'}: {why}")
    elif bar:
        out.update(source="barcode", chosen=bar)
    elif ocr:
        out.update(source="ocr", chosen=ocr)
    return out
