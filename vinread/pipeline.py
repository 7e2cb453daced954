"""The reader: segmentation -> glyph model -> validation, composed with defaults.

Usage (the README shows more)::

    from vinread import Reader
    reader = Reader()                          # loads the shipped model once
    reader.read_vin("samples/sticker.jpg").vin
    reader.classify(["images/z.png"])[0].char
"""
from __future__ import annotations

import hashlib
import os
import time
from typing import Sequence, Union

import cv2
import numpy as np

from .alphabet import ALPHABET, ascii_of
from .correct import LOW_CONFIDENCE, MIN_CONFIDENCE, choose_vin
from .images import MAX_SIDE, ImageReadError, LoadedImage, decode_image, even_exposure, load_image
from .model import GlyphModel
from .normalize import BlankGlyphError, normalize_glyph, stretch_contrast, to_gray
from .results import Alternative, CharResult, GlyphResult, VinResult, error_dict
from .segment import pick_either
from .vin import check, implausible_positions

ImageLike = Union[str, os.PathLike, np.ndarray, bytes]
"""A path (``-``: standard input), an image array (BGR or gray), or an encoded file's bytes."""


_ENCODED = (bytes, bytearray, memoryview)
"""The types of an image file's bytes passed in memory."""


def _is_data(image) -> bool:
    """An in-memory image (array or encoded bytes): it has no file name."""
    return isinstance(image, (np.ndarray, *_ENCODED))


def _load(image, flags: int = cv2.IMREAD_COLOR, max_side: int | None = MAX_SIDE) -> LoadedImage:
    """A path's or encoded bytes' image (:func:`vinread.images.load_image`), its long side
    reduced to ``max_side`` (``None``: full size)."""
    if isinstance(image, _ENCODED):
        return decode_image(bytes(image), flags, max_side)
    return load_image(image, flags, max_side)


UNREADABLE_PREFIX = "unreadable: "
"""How :meth:`Reader.read_consensus` names a photo it could not read in its warnings."""
ALTERNATIVES = 3
"""Alternatives reported per character."""


def _alternatives(p: np.ndarray, skip: int, n: int = ALTERNATIVES) -> list[Alternative]:
    order = [int(k) for k in np.argsort(-p) if k != skip][:n]
    return [Alternative(ALPHABET[k], round(float(p[k]), 4)) for k in order]


VIEWS = ((0.0, 0.0), (3.0, 0.0), (-3.0, 0.0), (0.0, 0.12), (0.0, -0.12))
"""(rotation in degrees, horizontal shear) of the views :meth:`Reader.score_views` reads."""


FAINT_RATIO = 0.5
"""A glyph whose grey-level spread is under this fraction of its reading's median spread is
faint (glare, wear, a shallow stamping): its reading is flagged, however sure the model is,
as a stroke it lost would have made it another character (an R washed out to an F)."""


LOW_GLYPHNESS = 0.8
"""A position whose crop scores below this on the glyph-or-not output is flagged: the model doubts
it is one whole glyph (a logo letter or label edge taken into the window, two glyphs merged), so
its character is doubtful however sure the 33-way output is."""


def _confidence(hyp, decision) -> float:
    """The chosen VIN's joint probability: under the mixture of the reading and its rivals
    (:func:`vinread.search.mixture_confidence`) when the reading carries one, else the
    product of its per-position probabilities."""
    mixture = getattr(hyp, "mixture", None)
    if not mixture:
        return decision.confidence
    from .search import mixture_confidence

    return mixture_confidence(decision.vin, mixture)


def faint_positions(crops: Sequence[np.ndarray], ratio: float = FAINT_RATIO) -> list[int]:
    """1-based positions of the crops whose contrast is under ``ratio`` x the median crop's.

    Parameters
    ----------
    crops : the reading's glyph crops, gray or colour, any sizes.
    """
    if len(crops) == 0:
        return []

    def spread_of(crop) -> float:
        try:    # stretch_contrast's gain is 1 / spread (spreads under its MIN_SPREAD count as that)
            return 1.0 / stretch_contrast(to_gray(crop))[1]
        except BlankGlyphError:
            return 0.0
    spread = np.array([spread_of(c) for c in crops])
    return [i + 1 for i in np.nonzero(spread < ratio * np.median(spread))[0]]


def _crop_key(crop: np.ndarray, polarity: str) -> tuple:
    """What identifies a crop's score: its shape, dtype and pixels (a 128-bit digest) and
    the polarity it is read in."""
    a = np.ascontiguousarray(crop)
    return a.shape, a.dtype.str, polarity, hashlib.blake2b(a.view(np.uint8), digest_size=16).digest()


def view_of(crop: np.ndarray, degrees: float, shear: float) -> np.ndarray:
    """A gray crop (H, W) turned by ``degrees`` and sheared by ``shear`` about its centre,
    its borders replicated; the same (H, W). The identity view is the crop itself."""
    if degrees == 0 and shear == 0:
        return crop
    h, w = crop.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    M[0, 1] += shear
    M[0, 2] -= shear * h / 2
    return cv2.warpAffine(crop, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class Reader:
    """Reads VINs and single glyphs with one loaded model.

    Parameters
    ----------
    model_path : the ``.tflite`` model; default the shipped one.
    low_confidence : a position whose chosen character's probability is below
        this is listed in ``low_confidence_positions``, as is one that breaks a
        plausibility rule (:func:`vinread.vin.implausible_positions`) or that a
        barcode read in the same photo contradicts.
    min_confidence : a reading whose joint probability is below this is not
        reported (not found, with a warning naming it): see
        :data:`vinread.correct.MIN_CONFIDENCE`.
    barcodes : also read the VIN's barcode (Code 39/128, DataMatrix, QR) and
        cross-check it with the OCR reading.
    time_limit : seconds a photo's search may take (``None``: no limit). Past it no further
        line, row of boxes, turn or exposure is tried: the best reading found so far is
        reported (or none), with a warning that the search was cut short. The photo's
        first line is always read, so a photo may take a little longer than the limit.
    """

    def __init__(self, model_path: str | os.PathLike | None = None,
                 low_confidence: float = LOW_CONFIDENCE, barcodes: bool = True,
                 min_confidence: float = MIN_CONFIDENCE, time_limit: float | None = None):
        if time_limit is not None and not time_limit >= 0:
            raise ValueError(f"time_limit must be a number of seconds >= 0, not {time_limit!r}")
        self.model = GlyphModel(model_path)
        self.low_confidence = low_confidence
        self.min_confidence = min_confidence
        self.barcodes = barcodes
        self.time_limit = time_limit
        self._memo: dict | None = None
        """Scores of the crops already read in the photo being searched (:meth:`score_crops`)."""
        self._deadline: float | None = None
        """When the photo being searched runs out of time (``time.monotonic()``), or None."""
        self._cut_short = False
        """Whether the time limit stopped the search of the photo being read."""

    # -- scoring used by the segmentation search -------------------------------------------
    def score_crops(self, crops: Sequence[np.ndarray], polarity: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Gray crops -> (probs (N, 33), glyphness (N,)); blank crops get glyphness 0.

        ``polarity`` is ``"auto"``, ``"dark"``, ``"light"`` or ``"either"``: each crop is then
        read both ways and keeps the reading with the higher top probability x glyphness
        (engraving, where one wall of a groove is lit and the other in shadow).

        While a photo is searched, a crop already read in the same polarity (the same span of
        a line decoded again, a reading's crops in its upright view, a binarisation that cut
        the same glyph) is not normalised and classified again: its scores are remembered.
        """
        n = len(crops)
        both = polarity == "either"
        polarities = ["dark"] * n + ["light"] * n if both else [polarity] * n
        memo = self._memo
        if memo is None:
            todo, keys = list(range(len(polarities))), None
        else:
            keys = [_crop_key(crops[i % n], pol) for i, pol in enumerate(polarities)]
            todo, seen = [], set()
            for i, key in enumerate(keys):      # the first of each crop not read before
                if key not in memo and key not in seen:
                    seen.add(key)
                    todo.append(i)
        batch = np.zeros((len(todo), 28, 28, 1), np.float32)
        blank = np.zeros(len(todo), bool)
        for j, i in enumerate(todo):
            try:
                batch[j, :, :, 0] = normalize_glyph(crops[i % n], polarities[i])
            except BlankGlyphError:
                blank[j] = True
        probs, glyph = self.model.predict(batch)
        glyph[blank] = 0.0
        probs[blank] = 1.0 / probs.shape[1]
        if keys is not None:
            memo.update((keys[i], (probs[j], glyph[j])) for j, i in enumerate(todo))
            probs = np.array([memo[k][0] for k in keys], np.float32).reshape(len(keys), probs.shape[1])
            glyph = np.array([memo[k][1] for k in keys], np.float32)
        if both:
            probs, glyph = pick_either((probs[:n], glyph[:n]), (probs[n:], glyph[n:]))
        return probs, glyph

    def score_views(self, crops: Sequence[np.ndarray], polarity: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """:meth:`score_crops` averaged over :data:`VIEWS` slightly turned and sheared views of
        each crop: steadier than one view where a stroke is faint or broken (stamped and
        dot-peen glyphs). One batch of ``len(VIEWS)`` x as many crops."""
        k = len(VIEWS)
        many = [view_of(c, *v) for c in crops for v in VIEWS]
        probs, glyph = self.score_crops(many, polarity)
        probs = probs.reshape(len(crops), k, -1).mean(1)
        return probs / probs.sum(1, keepdims=True), glyph.reshape(len(crops), k).mean(1)

    # -- single glyphs -------------------------------------------------------------------------
    def classify(self, images: Sequence[ImageLike]) -> list[GlyphResult]:
        """Classify single-character images (paths, arrays or image files' bytes), one batch
        through the model."""
        results: list[GlyphResult] = []
        batch, where = [], []
        for img in images:
            name = None if _is_data(img) else str(img)
            res = GlyphResult(name)
            try:
                arr = img if isinstance(img, np.ndarray) else _load(img, cv2.IMREAD_UNCHANGED, None).image
                batch.append(normalize_glyph(arr))
                where.append(len(results))
            except ImageReadError as exc:
                res.error = error_dict("unreadable", str(exc))
            except BlankGlyphError as exc:
                res.error = error_dict("no_character", f"no character found ({exc})")
            results.append(res)
        if batch:
            probs, glyph = self.model.predict(np.stack(batch))
            for j, i in enumerate(where):
                k = int(np.argmax(probs[j]))
                r = results[i]
                r.char, r.ascii = ALPHABET[k], ascii_of(ALPHABET[k])
                r.confidence = round(float(probs[j, k]), 4)
                r.glyph_score = round(float(glyph[j]), 4)
                r.alternatives = _alternatives(probs[j], k)
        return results

    # -- whole VINs ------------------------------------------------------------------------------
    def read_vin(self, image: ImageLike, debug_dir: str | os.PathLike | None = None) -> VinResult:
        """Find and read the VIN in a photo (path, BGR/gray array or an image file's bytes).

        A file is decoded at a bounded size (see :func:`vinread.images.load_image`);
        the boxes are reported in the file's own pixels either way. With
        ``debug_dir``, an overlay and the strip of normalised crops are written there.
        """
        name = None if _is_data(image) else str(image)
        result = VinResult(name)
        scale = 1.0
        try:
            if isinstance(image, np.ndarray):
                arr = image
            else:
                loaded = _load(image)
                arr, scale = loaded.image, loaded.scale
        except ImageReadError as exc:
            result.status = "error"
            result.error = error_dict("unreadable", str(exc))
            return result
        hyp = self._read(result, arr)
        if debug_dir is not None:
            self._write_debug(debug_dir, name or "image", arr, result, hyp)
        if scale != 1.0 and result.boxes:
            result.boxes = [[int(round(v / scale)) for v in b] for b in result.boxes]
        return result

    def _read(self, result: VinResult, arr: np.ndarray):
        """Fill ``result`` from the photo; returns the chosen segmentation hypothesis (or None)."""
        hyp, arr = self._search(arr)
        if hyp is not None:
            self._describe(result, hyp)
            if result.confidence < self.min_confidence:
                self._withhold(result)
        if self._cut_short:
            result.warnings.append(self._cut_short_warning())
        if self.barcodes:
            self._cross_check(result, arr, hyp.line_angles if hyp is not None else None)
        if result.vin:
            from .decode import decode

            result.decoded = decode(result.vin)
        return hyp

    def _write_debug(self, out_dir, name: str, arr: np.ndarray, result: VinResult, hyp) -> None:
        """The debug pictures of one read; a failure to write is a warning, not an error."""
        from .debug import write_debug

        crops = None
        if hyp is not None and hyp.crops:
            polarity = "auto" if hyp.polarity == "either" else hyp.polarity
            crops = np.zeros((len(hyp.crops), 28, 28), np.float32)
            for i, crop in enumerate(hyp.crops):
                try:
                    crops[i] = normalize_glyph(crop, polarity)
                except BlankGlyphError:
                    pass
        try:
            write_debug(out_dir, name, arr, result.to_dict(), crops, self.low_confidence)
        except OSError as exc:
            result.warnings.append(f"debug pictures not written: {exc}")

    def read_consensus(self, images: Sequence[ImageLike]) -> VinResult:
        """One VIN from several photos of it: per-position probabilities multiplied over the photos.

        Photos that cannot be read or show no VIN are left out (and named in the warnings);
        ``boxes`` stays empty since they belong to different photos.
        """
        from types import SimpleNamespace

        result = VinResult(None)
        logs, warnings, used = [], [], []
        for image in images:
            name = "array" if isinstance(image, np.ndarray) else "bytes" if _is_data(image) else str(image)
            try:
                arr = image if isinstance(image, np.ndarray) else _load(image).image
            except ImageReadError as exc:
                warnings.append(f"{UNREADABLE_PREFIX}{name}: {exc}")
                continue
            hyp, _ = self._search(arr)
            if self._cut_short:
                warnings.append(f"{name}: {self._cut_short_warning()}")
            if hyp is None:
                warnings.append(f"{name}: no VIN found")
                continue
            logs.append(np.log(np.clip(hyp.probs, 1e-6, 1.0)))
            used.append(name)
        result.file = f"consensus of {len(used)} photos"
        if logs:
            joint = np.sum(logs, axis=0)
            probs = np.exp(joint - joint.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            self._describe(result, SimpleNamespace(probs=probs, boxes=[], angle=0.0, warnings=[]))
        result.warnings.extend(warnings)
        return result

    def _search(self, arr: np.ndarray):
        """(the best reading of the photo or None, the pixels it was read from).

        The photo is read upright, then turned where :meth:`_turns_to_try` says so. When that
        gives nothing good enough to report (below ``min_confidence``) and the photo is dim or
        hazy, it is read once more, upright, with its grey levels spread
        (:func:`vinread.images.even_exposure`), and the better-scoring reading wins. Only then:
        the segmentation's thresholds are tuned on photos as they come, and spreading every
        photo would lift the grain of metal along with its text.
        """
        self._memo = {}
        self._cut_short = False
        self._deadline = None if self.time_limit is None else time.monotonic() + self.time_limit
        try:
            return self._search_photo(arr)
        finally:
            self._memo = None
            self._deadline = None

    def _cut_short_warning(self) -> str:
        return f"search stopped at the {self.time_limit:g} s time limit: the photo was not searched in full"

    def out_of_time(self) -> bool:
        """Whether the photo being searched has used up :attr:`time_limit` (noted: the result
        then says its search was cut short)."""
        if self._deadline is None or time.monotonic() < self._deadline:
            return False
        self._cut_short = True
        return True

    def _search_photo(self, arr: np.ndarray):
        """:meth:`_search` with the crops' scores remembered."""
        from .search import best_hypothesis

        hyp = best_hypothesis(arr, self)
        if (hyp is None or not self._sure(hyp)) and not self.out_of_time():
            hyp = self._best_turned(arr, hyp)
        if (hyp is not None and not self._withheld(hyp)) or self.out_of_time():
            return hyp, arr
        spread = even_exposure(arr)
        if spread is arr:
            return hyp, arr
        other = best_hypothesis(spread, self)
        if other is not None and (hyp is None or other.score > hyp.score):
            return other, spread
        return hyp, arr

    def _withheld(self, hyp) -> bool:
        """A reading too unsure to report: its joint probability is below ``min_confidence``."""
        return _confidence(hyp, choose_vin(hyp.probs)) < self.min_confidence

    def _sure(self, hyp) -> bool:
        """A reading that needs no second look: valid, check digit holding, no uncertain position
        (none below ``low_confidence``, none breaking a plausibility rule)."""
        decision = choose_vin(hyp.probs)
        report = check(decision.vin)
        return report.valid and report.check_digit_ok is not False and \
            min(decision.char_probs) >= self.low_confidence and not implausible_positions(decision.vin)

    def _turns_to_try(self, upright) -> list[int]:
        """Which turns of the photo to read, given its upright reading (or None).

        With no upright reading, or only a weak one (score below :data:`WEAK_SCORE`, or so
        unsure that it would be withheld: :meth:`_withheld`), every turn. Otherwise only a
        half turn, and only when the upright reading's own crops, each turned 180 degrees
        and taken in reverse order, read nearly as well as upright or better
        (:data:`FLIP_MARGIN`): text upside down reads as glyphs too, but worse. The test costs
        a batch of 34 crops instead of three whole reads of the photo.
        """
        from .orient import TURNS
        from .search import score_reading

        if upright is None or upright.score < WEAK_SCORE or not upright.crops or self._withheld(upright):
            return list(TURNS)
        crops = list(upright.crops)
        flipped = [np.ascontiguousarray(np.rot90(c, 2)) for c in crops[::-1]]
        probs, glyph = self.score_crops(crops + flipped, upright.polarity)
        n = len(crops)
        as_read = score_reading(probs[:n], glyph[:n])[0]
        turned = score_reading(probs[n:], glyph[n:])[0]
        return [180] if as_read - turned < FLIP_MARGIN else []

    def _best_turned(self, arr: np.ndarray, upright):
        """The best reading over the photo turned by 90, 270 and 180 degrees (and ``upright``),
        as far as :meth:`_turns_to_try` says those are worth reading.

        Boxes come back in the photo's pixels; ``angle`` includes the turn.
        """
        from .orient import rotate, unrotate_boxes
        from .search import best_hypothesis

        best = upright
        for angle in self._turns_to_try(upright):
            if self.out_of_time():
                break
            hyp = best_hypothesis(rotate(arr, angle), self)
            if hyp is None or (best is not None and hyp.score <= best.score):
                continue
            hyp.boxes = np.array(unrotate_boxes(hyp.boxes, angle, arr.shape), np.int32)
            hyp.angle = (hyp.angle + angle + 180) % 360 - 180
            hyp.line_angles = [(a + angle + 180) % 360 - 180 for a in hyp.line_angles]
            best = hyp
            if self._sure(hyp):
                break
        return best

    def _cross_check(self, result: VinResult, arr: np.ndarray, angles: list[float] | None) -> None:
        """Read the VIN's barcode (``angles``: of the photo's text lines, the VIN's first);
        where it disagrees with the OCR, the one that validates wins."""
        from .barcode import cross_check, differing_positions, read_vin_barcodes

        xc = cross_check(result.vin, read_vin_barcodes(arr, angle=angles))
        result.barcode = xc
        if xc["warning"]:
            result.warnings.append(xc["warning"])
        differ = differing_positions(result.vin, xc["barcode"]) if xc["agree"] is False else None
        if differ and xc["chosen"] == result.vin:
            # the barcode contradicts these positions: doubtful, however sure the glyph model was
            result.low_confidence_positions = sorted(set(result.low_confidence_positions) | set(differ))
        if xc["chosen"] and xc["chosen"] != result.vin:
            # the OCR reading's own validation notes no longer describe the VIN reported
            ocr = check(result.vin) if result.vin else None
            stale = set(ocr.warnings) | {ocr.error} if ocr else set()
            report = check(xc["chosen"])
            result.warnings = list(report.warnings) + [w for w in result.warnings if w not in stale]
            result.vin, result.valid = xc["chosen"], report.valid
            result.status = "valid" if report.valid else "invalid"
            result.check_digit = report.check_digit_dict()

    def _withhold(self, result: VinResult) -> None:
        """Too uncertain to report: back to not found, with a warning that names the reading."""
        note = (f"best reading {result.vin} withheld: confidence {result.confidence:.4f} is below "
                f"{self.min_confidence}")
        fresh = VinResult(result.file)
        fresh.warnings = [note]
        result.__dict__.update(fresh.__dict__)

    def _describe(self, result: VinResult, hyp) -> VinResult:
        decision = choose_vin(hyp.probs)
        report = check(decision.vin)
        result.vin = decision.vin
        result.valid = report.valid
        result.status = "valid" if report.valid else "invalid"
        result.check_digit = report.check_digit_dict()
        result.confidence = round(_confidence(hyp, decision), 4)
        result.characters = [
            CharResult(i + 1, c, round(p, 4), _alternatives(hyp.probs[i], ALPHABET.index(c)))
            for i, (c, p) in enumerate(zip(decision.vin, decision.char_probs))]
        # a character that breaks a plausibility rule is doubtful however probable the model found it
        doubtful = set(implausible_positions(decision.vin))
        crops = getattr(hyp, "crops", None) or []       # a consensus of photos has none of its own
        faint = faint_positions(crops) if len(crops) == len(decision.vin) else []
        doubtful.update(faint)
        glyphness = getattr(hyp, "glyphness", None)
        partial = ([i + 1 for i, g in enumerate(glyphness) if g < LOW_GLYPHNESS]
                   if glyphness is not None and len(glyphness) == len(decision.vin) else [])
        doubtful.update(partial)
        result.low_confidence_positions = [i + 1 for i, p in enumerate(decision.char_probs)
                                           if p < self.low_confidence or i + 1 in doubtful]
        result.corrections = [vars(c) for c in decision.corrections]
        result.boxes = [[int(v) for v in b] for b in hyp.boxes]
        result.angle = round(float(hyp.angle), 1)
        result.warnings = list(report.warnings) + list(hyp.warnings)
        if faint:
            result.warnings.append(f"faint glyph at position {', '.join(map(str, faint))}: "
                                   "a stroke lost to glare or wear would change it")
        if partial:
            result.warnings.append(f"position {', '.join(map(str, partial))} may not be one whole glyph "
                                   f"(glyph-or-not score under {LOW_GLYPHNESS})")
        if report.error and report.error not in result.warnings:
            result.warnings.insert(0, report.error)
        return result


WEAK_SCORE = -35.0
"""An upright reading scoring below this (:func:`vinread.search.score_reading` plus the
segmentation's costs; sure readings score above -10) is so doubtful that the photo is also
read turned a quarter either way."""

FLIP_MARGIN = 7.0
"""The photo is read turned 180 degrees unless its upright reading outscores the same crops
turned over by this much (measured on generated scenes: upright text by 7 to 28, upside-down
text mostly by less than 6, often by a negative amount)."""

_DEFAULT: Reader | None = None


def _default_reader() -> Reader:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Reader()
    return _DEFAULT


def read_vin(image: ImageLike) -> VinResult:
    """Read the VIN in one photo with the shipped model (loaded once per process)."""
    return _default_reader().read_vin(image)


def classify_glyphs(images: Sequence[ImageLike]) -> list[GlyphResult]:
    """Classify single-character images with the shipped model (loaded once per process)."""
    return _default_reader().classify(images)
