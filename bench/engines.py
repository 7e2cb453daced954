"""The engines compared by the benchmark: vinread and the OCR engines people use for VINs.

Each engine reads a BGR image and returns the VIN it found (or None). The
peers get the standard VIN post-processing of :func:`vin_from_texts`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import cv2
import numpy as np

from vinread.alphabet import ALPHABET
from vinread.vin import LENGTH, check

CONFUSABLE = str.maketrans({"O": "0", "I": "1", "Q": "0"})
TESSERACT_PSMS = (6, 7, 11)
RAPIDOCR_MAX_SIDE = 960


def vin_from_texts(texts: list[str]) -> str | None:
    """Standard VIN post-processing of OCR output lines.

    Upper-case, map O->0, I->1, Q->0, drop everything but letters and digits,
    then take the 17-character window that best fits the VIN alphabet,
    preferring one whose check digit validates (then one valid without a
    mandatory check digit), else the first full window.
    """
    best: tuple[int, str] | None = None
    for text in texts:
        clean = re.sub(r"[^0-9A-Z]", "", text.upper().translate(CONFUSABLE))
        for i in range(len(clean) - LENGTH + 1):
            window = clean[i:i + LENGTH]
            if any(c not in ALPHABET for c in window):
                continue
            report = check(window)
            rank = 0 if report.valid and report.check_digit_ok else 1 if report.valid else 2
            if best is None or rank < best[0]:
                best = (rank, window)
    return best[1] if best else None


class VinreadEngine:
    """vinread itself (the shipped model through LiteRT)."""

    name = "vinread"

    def __init__(self):
        from vinread import Reader

        self.reader = Reader()

    def read(self, image: np.ndarray) -> str | None:
        return self.reader.read_vin(image).vin

    def read_char(self, image: np.ndarray) -> str | None:
        return self.reader.classify([image])[0].char


class TesseractEngine:
    """Tesseract 5 (Debian's tesseract-ocr), 36 characters whitelisted, one page segmentation mode."""

    def __init__(self, psm: int = 6):
        self.exe = shutil.which("tesseract")
        if self.exe is None:
            raise RuntimeError("tesseract not found: install Debian's tesseract-ocr (apt-get install tesseract-ocr)")
        self.psm = psm
        self.name = f"tesseract psm {psm}"

    def _run(self, image: np.ndarray, psm: int) -> str:
        ok, png = cv2.imencode(".png", image)
        cmd = [self.exe, "stdin", "stdout", "--psm", str(psm), "-c",
               "tessedit_char_whitelist=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        out = subprocess.run(cmd, input=png.tobytes(), capture_output=True, timeout=120)
        return out.stdout.decode("utf-8", "replace")

    def read(self, image: np.ndarray) -> str | None:
        return vin_from_texts(self._run(image, self.psm).splitlines())

    def read_char(self, image: np.ndarray) -> str | None:
        text = re.sub(r"[^0-9A-Z]", "", self._run(image, 10).upper().translate(CONFUSABLE))
        return text[:1] or None


class RapidOcrEngine:
    """RapidOCR (PP-OCRv4 through onnxruntime), detector input limited to a 960 px long side."""

    name = "rapidocr"

    def __init__(self):
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise RuntimeError("rapidocr not found: pip install 'rapidocr-onnxruntime==1.4.4'") from exc
        self.ocr = RapidOCR(det_limit_side_len=RAPIDOCR_MAX_SIDE, det_limit_type="max")

    def read(self, image: np.ndarray) -> str | None:
        result, _ = self.ocr(image)
        return vin_from_texts([r[1] for r in result or []])

    def read_char(self, image: np.ndarray) -> str | None:
        result, _ = self.ocr(image, use_det=False, use_cls=False)
        text = re.sub(r"[^0-9A-Z]", "", "".join(r[0] for r in result or []).upper().translate(CONFUSABLE))
        return text[:1] or None


def make_engine(name: str):
    """Engine by name: ``vinread``, ``tesseract6`` / ``tesseract7`` / ``tesseract11``, ``rapidocr``."""
    if name == "vinread":
        return VinreadEngine()
    if name.startswith("tesseract"):
        return TesseractEngine(int(name[len("tesseract"):] or 6))
    if name == "rapidocr":
        return RapidOcrEngine()
    raise ValueError(f"unknown engine {name!r}")


ENGINES = ("vinread", *(f"tesseract{p}" for p in TESSERACT_PSMS), "rapidocr")


def missing() -> list[str]:
    """What the peers need and this machine lacks, as install instructions."""
    out = []
    if shutil.which("tesseract") is None:
        out.append("Tesseract: apt-get install tesseract-ocr")
    try:
        import rapidocr_onnxruntime  # noqa: F401  (only asks whether it is installed)
    except ImportError:
        out.append(f"RapidOCR: {sys.executable} -m pip install 'rapidocr-onnxruntime==1.4.4'")
    return out
