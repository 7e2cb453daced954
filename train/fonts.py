"""Font faces available offline for rendering training glyphs.

Three kinds of faces:

* TrueType/OpenType files (:func:`font_paths`): files shipped in ``train/fonts/``,
  matplotlib's bundled DejaVu faces, the OFL/Apache ``font-*`` PyPI packages
  (font-roboto, font-fjallaone, font-source-sans-pro, font-lato, font-hanken-grotesk)
  and the system's ``/usr/share/fonts``. Faces that lack any alphabet character
  (math, symbol, icon fonts) are dropped.
* OpenCV's ``cv2.FONT_HERSHEY_*`` faces (:data:`CV2_FACES`), drawn by ``cv2.putText``.
* Hershey stroke fonts (:data:`HERSHEY_STROKE_FONTS`) from the ``Hershey-Fonts`` package,
  used as pen paths for handwriting and dot-peen glyphs (:func:`hershey_strokes`).
"""
from __future__ import annotations

import functools
import glob
import os
import site
import sys

import cv2
import numpy as np

from vinread.alphabet import ALPHABET

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED_DIR = os.path.join(HERE, "fonts")

CV2_FACES = tuple(getattr(cv2, n) for n in (
    "FONT_HERSHEY_SIMPLEX", "FONT_HERSHEY_PLAIN", "FONT_HERSHEY_DUPLEX",
    "FONT_HERSHEY_COMPLEX", "FONT_HERSHEY_TRIPLEX", "FONT_HERSHEY_COMPLEX_SMALL")
    if hasattr(cv2, n))
"""OpenCV faces usable for printed capitals (the script faces are left out)."""

HERSHEY_STROKE_FONTS = ("futural", "rowmans", "futuram", "rowmand", "timesr")
"""Single-line Hershey fonts whose capitals look like block handwriting / stencil paths."""

_SKIP = ("cmsy", "cmex", "cmmi", "stix", "lastresort", "math", "symbol", "awesome",
         "icon", "emoji", "display")
"""Lower-case file-name fragments of faces never used (no Latin glyphs or near-duplicates)."""


def _search_dirs() -> list[str]:
    dirs = [SHIPPED_DIR]
    roots = list(dict.fromkeys(site.getsitepackages() + [p for p in sys.path if p.endswith("site-packages")]))
    for root in roots:
        dirs.append(os.path.join(root, "matplotlib", "mpl-data", "fonts", "ttf"))
        dirs.extend(glob.glob(os.path.join(root, "font_*", "files")))
    dirs.append("/usr/share/fonts")
    return [d for d in dirs if os.path.isdir(d)]


def _covers_alphabet(path: str) -> bool:
    """True when the face maps every alphabet character (checked with fontTools when present)."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:  # pragma: no cover - fontTools comes with matplotlib
        return True
    try:
        cmap = TTFont(path, lazy=True, fontNumber=0).getBestCmap() or {}
    except Exception:
        return False
    return all(ord(c) in cmap for c in ALPHABET)


@functools.lru_cache(maxsize=1)
def font_paths() -> list[str]:
    """Sorted, de-duplicated paths of TrueType/OpenType faces that cover the alphabet.

    A face found in several places (e.g. DejaVuSans.ttf in matplotlib and the
    system) is kept once; ``.ttf`` is preferred over ``.otf`` of the same name.
    """
    by_name: dict[str, str] = {}
    for d in _search_dirs():
        for path in sorted(glob.glob(os.path.join(d, "**", "*.[to]tf"), recursive=True)):
            base, ext = os.path.splitext(os.path.basename(path))
            if any(s in base.lower() for s in _SKIP):
                continue
            if base in by_name and (ext == ".otf" or by_name[base].endswith(".ttf")):
                continue
            by_name[base] = path
    return sorted(p for p in by_name.values() if _covers_alphabet(p))


def font_traits(path: str) -> set[str]:
    """Style tags guessed from the file name: mono, condensed, bold, italic, light, serif."""
    n = os.path.basename(path).lower()
    tags = set()
    for tag, keys in (("mono", ("mono",)), ("condensed", ("condensed", "fjalla", "narrow")),
                      ("bold", ("bold", "black", "semibold", "heavy")),
                      ("italic", ("italic", "oblique", "it.", "-it")),
                      ("light", ("light", "thin")), ("serif", ("serif", "caladea"))):
        if any(k in n for k in keys):
            tags.add(tag)
    if "sans" in n:
        tags.discard("serif")
    return tags


def upright_font_paths() -> list[str]:
    """:func:`font_paths` without italic/oblique faces (stickers are upright)."""
    return [p for p in font_paths() if "italic" not in font_traits(p)]


@functools.lru_cache(maxsize=None)
def _hershey(font: str):
    from HersheyFonts import HersheyFonts
    h = HersheyFonts()
    h.load_default_font(font)
    return h


@functools.lru_cache(maxsize=None)
def hershey_strokes(char: str, font: str = "futural") -> tuple[np.ndarray, ...]:
    """Pen paths of ``char`` in a Hershey stroke font, in cap-height units.

    Returns a tuple of (K, 2) float32 arrays of (x, y) points, y down, the
    glyph's ink box scaled so that its height is 1 and its top-left is (0, 0).
    """
    strokes = [np.asarray(s, np.float32) for s in _hershey(font).strokes_for_text(char)]
    strokes = [s for s in strokes if len(s) >= 2]
    if not strokes:
        raise KeyError(f"{font} has no strokes for {char!r}")
    allp = np.concatenate(strokes)
    lo = allp.min(axis=0)
    h = max(float(allp[:, 1].max() - lo[1]), 1e-6)
    return tuple(((s - lo) / h).astype(np.float32) for s in strokes)
