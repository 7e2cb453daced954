"""Debug pictures: what the reader chose, drawn on the photo, and the crops the model saw.

``write_debug`` writes two PNGs per photo into a folder:

- ``NAME.overlay.png``: the photo (long side at most :data:`MAX_SIDE` px) under a
  caption band (VIN, status, confidence, barcode check), with the 17 glyph
  boxes of the chosen line, each labelled with its character and confidence
  (percent); low-confidence positions in :data:`LOW`, the others in :data:`OK`,
  barcodes (when given) in :data:`BARCODE`;
- ``NAME.crops.png``: the normalised 28x28 crops, white ink on black as the
  classifier saw them, scaled :data:`CROP_SCALE` times, the character under each.

Files are written atomically (a temporary file in the same folder, then a rename).
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

__all__ = ["MAX_SIDE", "CAPTION_H", "CROP_SCALE", "CROP_GAP", "CROP_TEXT_H", "OK", "LOW", "BARCODE",
           "safe_name", "low_positions", "overlay", "crops_strip", "write_debug"]

MAX_SIDE = 1600
"""Long side (px) of the overlay's photo; larger photos are scaled down."""
CAPTION_H = 44
"""Height (px) of the caption band above the photo."""
CROP_SCALE = 3
"""Crops are drawn this many times their 28 px."""
CROP_GAP = 6
"""Pixels between crops and around the strip."""
CROP_TEXT_H = 34
"""Height (px) of the character row under the crops."""
OK = (60, 200, 60)
"""BGR colour of confident positions (green)."""
LOW = (0, 0, 255)
"""BGR colour of low-confidence positions (red)."""
BARCODE = (255, 160, 0)
"""BGR colour of barcode boxes (blue)."""
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{dev}{i}" for dev in ("COM", "LPT") for i in range(1, 10))}


def safe_name(name: str | os.PathLike | None) -> str:
    """A file-name stem from an image name: base name, image suffix dropped, odd characters -> ``_``.

    >>> safe_name('photos/Door jamb #2.JPG')
    'Door_jamb_2'
    >>> safe_name('../../etc/passwd'), safe_name(None), safe_name('..'), safe_name('nul.png')
    ('passwd', 'image', 'image', '_nul')
    """
    base = os.path.basename(os.fspath(name)) if name is not None else ""
    stem, ext = os.path.splitext(base)
    if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", ext):
        base = stem
    base = re.sub(r"[^\w.-]+", "_", base).strip("._-")[:100]
    if base.split(".")[0].upper() in _RESERVED:
        base = "_" + base
    return base or "image"


def low_positions(result: dict, low_threshold: float) -> set[int]:
    """1-based positions flagged low: ``low_confidence_positions`` plus characters below ``low_threshold``."""
    low = {int(p) for p in result.get("low_confidence_positions") or []}
    for c in result.get("characters") or []:
        conf = c.get("confidence")
        if conf is not None and conf < low_threshold:
            low.add(int(c.get("position", 0)))
    return low


def _bgr(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = a.astype(np.float32)
        a = (a * 255 if a.max(initial=0) <= 1.0 else a / 257 if a.max(initial=0) > 255 else a)
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2 or a.shape[2] == 1:
        return cv2.cvtColor(a.reshape(a.shape[:2]), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(a, cv2.COLOR_BGRA2BGR) if a.shape[2] == 4 else a.copy()


def _text(img: np.ndarray, s: str, org: tuple[int, int], scale: float, colour, thick: int) -> None:
    """Text with a dark outline, legible on any background."""
    cv2.putText(img, s, org, _FONT, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(img, s, org, _FONT, scale, colour, thick, cv2.LINE_AA)


def _fit_scale(s: str, width: float, height: float, thick: int = 1) -> float:
    """Font scale at which ``s`` fits ``width`` x ``height`` px."""
    (w, h), _ = cv2.getTextSize(s, _FONT, 1.0, thick)
    return max(0.3, min(width / max(w, 1), height / max(h, 1)))


def _chars(result: dict) -> list[tuple[str, float | None]]:
    chars = [(str(c.get("char", "?")), c.get("confidence")) for c in result.get("characters") or []]
    return chars or [(c, None) for c in (result.get("vin") or "")]


def _caption(result: dict, low: set[int]) -> str:
    parts = [result.get("vin") or "-", str(result.get("status") or "")]
    if result.get("confidence") is not None and result.get("vin"):
        parts.append(f"p={float(result['confidence']):.2f}")
    if low:
        parts.append("low:" + ",".join(map(str, sorted(low))))
    bc = result.get("barcode")
    if isinstance(bc, dict) and bc.get("barcode"):
        parts.append("barcode agrees" if bc.get("agree") else f"barcode {bc['barcode']} differs"
                     if bc.get("agree") is False else f"barcode {bc['barcode']}")
    return "  ".join(p for p in parts if p)


def overlay(image_bgr: np.ndarray, result: dict, low_threshold: float = 0.8,
            barcodes: Sequence | None = None) -> np.ndarray:
    """The overlay picture.

    Parameters
    ----------
    image_bgr : (H, W, 3) BGR, (H, W, 4) BGRA or (H, W) gray photo.
    result : the JSON object of a ``VinResult`` (``vin``, ``status``, ``characters``,
        ``boxes`` as (x, y, w, h) in ``image_bgr``'s pixels, ``low_confidence_positions``...).
    low_threshold : characters below this confidence are drawn as low too.
    barcodes : optional ``BarcodeVin``-like objects (``box``, ``vin``) to outline.

    Returns
    -------
    (CAPTION_H + h, w, 3) uint8 BGR, where (h, w) is the photo scaled to a long side
    of at most :data:`MAX_SIDE`.
    """
    img = _bgr(image_bgr)
    H, W = img.shape[:2]
    s = min(1.0, MAX_SIDE / max(H, W, 1))
    if s < 1.0:
        img = cv2.resize(img, (max(1, round(W * s)), max(1, round(H * s))), interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    low = low_positions(result, low_threshold)
    chars = _chars(result)
    for b in barcodes or []:
        x, y, bw, bh = (v * s for v in b.box)
        cv2.rectangle(img, (round(x), round(y)), (round(x + bw), round(y + bh)), BARCODE, 2)
        _text(img, f"{getattr(b, 'format', '')} {b.vin}", (round(x), max(12, round(y) - 4)), 0.5, BARCODE, 1)
    boxes = [[float(v) * s for v in box] for box in result.get("boxes") or []]
    if boxes:  # one label size for the whole line, from its median glyph box
        med_w, med_h = np.median([b[2] for b in boxes]), np.median([b[3] for b in boxes])
        label_h = max(8.0, min(med_h * 0.45, 40.0))
        cs = _fit_scale("W", max(med_w, 8) * 1.1, label_h)
        ps = _fit_scale("99", max(med_w, 8) * 1.1, label_h * 0.7)
        (_, ch), _ = cv2.getTextSize("W", _FONT, cs, 1)
        (_, ph), _ = cv2.getTextSize("99", _FONT, ps, 1)
        cthick, bthick = max(1, round(cs * 1.5)), max(1, round(med_h / 25))
    for i, (x, y, bw, bh) in enumerate(boxes):
        colour = LOW if i + 1 in low else OK
        cv2.rectangle(img, (round(x), round(y)), (round(x + bw), round(y + bh)), colour, bthick)
        char, conf = chars[i] if i < len(chars) else ("?", None)
        pct = "" if conf is None else f"{min(99, int(round(float(conf) * 100)))}"
        y_pct = round(y) - 3
        y_char = y_pct - ph - 4
        if y_char - ch < 0:  # no room above: below the box
            y_char, y_pct = round(y + bh) + ch + 3, round(y + bh) + ch + ph + 7
        (tw, _), _ = cv2.getTextSize(char, _FONT, cs, cthick)
        _text(img, char, (round(x + (bw - tw) / 2), y_char), cs, colour, cthick)
        if pct:
            (tw, _), _ = cv2.getTextSize(pct, _FONT, ps, 1)
            _text(img, pct, (round(x + (bw - tw) / 2), y_pct), ps, colour, 1)
    band = np.full((CAPTION_H, w, 3), 24, np.uint8)
    cap = _caption(result, low)
    status_colour = (OK if result.get("status") == "valid" and not low else
                     LOW if result.get("vin") else (200, 200, 200))
    cs = min(1.0, _fit_scale(cap, w - 16, CAPTION_H * 0.5, 2))
    cv2.putText(band, cap, (8, CAPTION_H - 14), _FONT, cs, status_colour, 2, cv2.LINE_AA)
    return np.vstack([band, img])


def crops_strip(crops_28x28: np.ndarray | Sequence[np.ndarray], result: dict,
                low_threshold: float = 0.8) -> np.ndarray:
    """The crops picture.

    Parameters
    ----------
    crops_28x28 : (N, 28, 28) or (N, 28, 28, 1) array (or N such arrays): the
        normalised crops, float in [0, 1] or uint8, white ink on black.
    result : the result's JSON object (``characters`` or ``vin`` give the labels).

    Returns
    -------
    (CROP_GAP + 28*CROP_SCALE + CROP_TEXT_H, N*(28*CROP_SCALE + CROP_GAP) + CROP_GAP, 3) uint8 BGR.
    """
    crops = [np.asarray(c).reshape(np.asarray(c).shape[:2]) for c in crops_28x28]
    side = 28 * CROP_SCALE
    n = len(crops)
    strip = np.full((CROP_GAP + side + CROP_TEXT_H, n * (side + CROP_GAP) + CROP_GAP, 3), 40, np.uint8)
    low = low_positions(result, low_threshold)
    chars = _chars(result)
    cs = _fit_scale("W", side * 0.6, CROP_TEXT_H * 0.6, 2)
    for i, c in enumerate(crops):
        g = c.astype(np.float32)
        g = g * 255 if g.max(initial=0) <= 1.0 else g
        g = cv2.resize(np.clip(g, 0, 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
        x = CROP_GAP + i * (side + CROP_GAP)
        strip[CROP_GAP:CROP_GAP + side, x:x + side] = g[..., None]
        colour = LOW if i + 1 in low else OK
        cv2.rectangle(strip, (x - 1, CROP_GAP - 1), (x + side, CROP_GAP + side), colour, 1)
        char = chars[i][0] if i < len(chars) else "?"
        (tw, _), _ = cv2.getTextSize(char, _FONT, cs, 2)
        cv2.putText(strip, char, (x + (side - tw) // 2, CROP_GAP + side + CROP_TEXT_H - 8), _FONT, cs,
                    colour, 2, cv2.LINE_AA)
    return strip


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"could not encode {path.name}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, unlike mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.tobytes())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_debug(out_dir: str | os.PathLike, name: str | os.PathLike | None, image_bgr: np.ndarray,
                result_dict: dict, crops_28x28: np.ndarray | None = None, low_threshold: float = 0.8,
                barcodes: Sequence | None = None) -> list[Path]:
    """Write ``NAME.overlay.png`` (and ``NAME.crops.png`` when crops are given) into ``out_dir``.

    Parameters
    ----------
    out_dir : folder, created if missing.
    name : the image's name or path; :func:`safe_name` makes the file-name stem.
    image_bgr : the photo, (H, W, 3) BGR (gray and BGRA work too).
    result_dict : ``VinResult.to_dict()``, its ``boxes`` in ``image_bgr``'s pixels.
    crops_28x28 : (17, 28, 28) normalised crops of the chosen line, or None.
    low_threshold : characters below this confidence are flagged too.
    barcodes : optional ``BarcodeVin`` list to outline on the overlay.

    Returns
    -------
    The paths written, overlay first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = safe_name(name)
    paths = [out / f"{stem}.overlay.png"]
    _write_png(paths[0], overlay(image_bgr, result_dict, low_threshold, barcodes))
    if crops_28x28 is not None and len(crops_28x28):
        paths.append(out / f"{stem}.crops.png")
        _write_png(paths[1], crops_strip(crops_28x28, result_dict, low_threshold))
    return paths
