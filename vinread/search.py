"""Choosing the VIN among all candidate lines of a photo.

Segmentation proposes lines and 17-glyph readings of each; this module
scores every reading with the classifier's probabilities, the glyph-or-not
score and the validation stage, and keeps the best one, or none when no
reading is good enough (vinread never invents a VIN from nothing).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .alphabet import ALPHABET
from .comb import find_comb, read_comb
from .correct import choose_vin
from .decode import known_wmi
from .grid import periodic_cut, regular_recut
from .images import gray_u8
from .segment import STRIP_H, _line_quad, decode_line, find_lines, vin_windows
from .vin import LENGTH, check, plausibility_warnings, tail_letters

MIN_MEAN_LOG_PROB = np.log(0.45)
"""A reading whose chosen characters average a lower log-probability is not a VIN."""
MIN_GLYPHNESS = 0.5
"""A reading whose mean glyph-or-not score is lower is not a VIN."""
CHECK_BONUS = 4.0
"""Log-score bonus of a reading whose mandatory check digit holds without correction."""
WARNING_PENALTY = 2.5
"""Log-score penalty per plausibility warning (letters at 14-17, a North American year U/Z/0)."""
KNOWN_WMI_BONUS = 2.0
"""Log-score bonus of a reading whose first three characters name a manufacturer that
:func:`vinread.decode.known_wmi` knows: real VINs begin with an assigned code, while a
misread or a line of other text seldom lands on one (one string in twenty does)."""
COMB_BONUS = 4.0
"""Log-score bonus of a reading from a row of exactly 17 printed boxes (a form's VIN field)."""
FAINT_COMB_BONUS = 0.0
"""The bonus of a row of boxes found only in faint ruling (:attr:`vinread.comb.Comb.faint`):
the paper's grain there can line up as box sides, so the row's reading competes on its
characters alone."""
MAX_TAIL_LETTERS = 1
"""A reading with more letters at positions 14-17 is not a VIN: ISO 3779 and 49 CFR 565
keep them numeric, so one letter there is a misread, two are words (a form's heading)."""
GAP_PENALTY = 4.0
"""Log-score penalty per glyph height by which a gap exceeds the reading's usual gap: a VIN
is printed at an even pitch, words of other text are not."""


@dataclass
class Candidate:
    """One 17-glyph reading of a photo with the score it was chosen by."""

    probs: np.ndarray
    glyphness: np.ndarray
    boxes: np.ndarray
    angle: float
    score: float
    line_index: int
    crops: list = field(repr=False, default_factory=list)
    warnings: list[str] = field(default_factory=list)
    polarity: str = "auto"
    line_angles: list[float] = field(default_factory=list)
    """Angles of every line read in the photo, in reading order, this one's first (a label's
    barcode runs parallel to its text, whichever line the VIN was read from)."""
    mixture: list = field(default_factory=list)
    """``(weight, (17, 33) probabilities)`` of this reading and the rivals blended into it
    (:func:`rival_mixture`), once :func:`best_hypothesis` has chosen it."""


def gap_irregularity(spans: np.ndarray, height: float) -> float:
    """Sum, in glyph heights, of how far each gap between glyphs exceeds the median gap + 0.3 height.

    ``spans`` is (n, 2) ``[x0, x1)`` of the glyphs along the upright line.
    """
    spans = np.asarray(spans, np.float64)
    if len(spans) < 3:
        return 0.0
    gaps = spans[1:, 0] - spans[:-1, 1]
    excess = gaps - np.median(gaps) - 0.3 * height
    return float(np.clip(excess, 0, None).sum() / height)


def score_reading(probs: np.ndarray, glyphness: np.ndarray, spans: np.ndarray | None = None,
                  height: float = STRIP_H) -> tuple[float, bool]:
    """(score, plausible) of a 17-glyph reading.

    The score adds the chosen characters' log-probabilities and the log
    glyph-or-not scores, with a bonus when the check digit is mandatory and
    holds as read, and penalties for plausibility warnings and uneven gaps.
    ``plausible`` says whether the reading is good enough to be reported at all: probable
    characters that look like glyphs, and at most :data:`MAX_TAIL_LETTERS` letters where
    a VIN's serial number is numeric.
    """
    decision = choose_vin(probs)
    eps = 1e-6
    logp = np.log(np.asarray(decision.char_probs) + eps)
    logg = np.log(np.asarray(glyphness, np.float64) + eps)
    report = check(decision.vin)
    bonus = CHECK_BONUS if report.check_digit_required and report.check_digit_ok and not decision.corrections else 0.0
    bonus += KNOWN_WMI_BONUS if known_wmi(decision.vin) else 0.0
    score = float(logp.sum() + logg.sum() + bonus - WARNING_PENALTY * len(report.warnings))
    if spans is not None:
        score -= GAP_PENALTY * gap_irregularity(spans, height)
    plausible = bool(logp.mean() >= MIN_MEAN_LOG_PROB and np.mean(glyphness) >= MIN_GLYPHNESS
                     and tail_letters(decision.vin) <= MAX_TAIL_LETTERS)
    return score, plausible


MAX_DECODED_LINES = 10
"""Most lines decoded per photo (find_lines ranks them, most promising first)."""
SURE_CHAR_PROB = 0.9
"""A reading whose every character is at least this probable, whose glyphs all look like
glyphs and whose check digit holds as read stops the search early."""


SECOND_LOOKS = 2
"""After a sure reading, at most this many more lines of the same glyph height are read, for
a second VIN in the photo (only lines that could hold exactly one VIN are)."""


def is_sure(probs: np.ndarray, glyphness: np.ndarray, spans: np.ndarray | None = None,
            height: float = STRIP_H, known_maker: bool = False) -> bool:
    """Whether a reading is so clearly a VIN that no other line need be read.

    A valid VIN read without correction and breaking no plausibility rule, an even pitch,
    every glyph glyph-like, every character at least :data:`SURE_CHAR_PROB` probable, and
    its check digit holding (1 chance in 11 for a random reading, even where it is
    optional: without it a label's other lines, ``GAWR 1161KG``, can pass).

    With ``known_maker``, where the check digit is optional (outside North America and
    China) and does not hold, a first three characters that name a manufacturer
    (:func:`vinread.decode.known_wmi`: 7 % of random triples, none of a label's ``GAWR``,
    ``GVWR``, ``TIRE``, ``MFD BY`` lines) take its place. That says which line is the VIN,
    not that its characters are right (a check digit would catch most misreads): the
    search then reads that row again only (:func:`candidates`).
    """
    decision = choose_vin(probs)
    report = check(decision.vin)
    if not report.valid or decision.corrections or plausibility_warnings(decision.vin):
        return False
    if not report.check_digit_ok and (report.check_digit_required or not known_maker or
                                      not known_wmi(decision.vin)):
        return False
    if float(np.min(glyphness)) < 0.5 or float(np.mean(glyphness)) < 0.9:
        return False
    if spans is not None and gap_irregularity(spans, height) >= 0.5:
        return False
    return bool(min(decision.char_probs) >= SURE_CHAR_PROB)


def _same_box(a, b) -> bool:
    """Whether two ``(x, y, w, h)`` boxes are mostly the same place."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return ix > 0 and iy > 0 and ix * iy > 0.5 * min(a[2] * a[3], b[2] * b[3])


def _same_row(a, b) -> bool:
    """Whether two lines (of different binarisations, say) lie on one text row: same glyph
    height, same angle, and each one's centre on the other's axis. Only one of them need be
    searched for a row of boxes around it (:func:`~vinread.comb.find_comb` frames the row
    over tens of glyph heights either way)."""
    if abs(np.log(a.height / b.height)) > 0.25 or abs(a.angle - b.angle) > 3.0:
        return False
    (ax, ay), (bx, by) = (_line_quad(ln).mean(0) for ln in (a, b))
    t = np.deg2rad(a.angle)
    across = abs(-(bx - ax) * np.sin(t) + (by - ay) * np.cos(t))
    return bool(across < 0.5 * min(a.height, b.height))


def _same_place(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two readings' glyph boxes ``(x, y, w, h)`` lie mostly in one place of the photo
    (one row read through two binarisations), by the boxes' overall bounds."""
    def bounds(boxes):
        boxes = np.asarray(boxes).reshape(-1, 4)
        return (boxes[:, 0].min(), boxes[:, 1].min(), (boxes[:, 0] + boxes[:, 2]).max() - boxes[:, 0].min(),
                (boxes[:, 1] + boxes[:, 3]).max() - boxes[:, 1].min())
    return len(a) > 0 and len(b) > 0 and _same_box(bounds(a), bounds(b))


def _vin_pieces(line) -> int:
    """How many of a line's pieces lie in runs that could hold a VIN."""
    return int(vin_windows(line.pieces, LENGTH).sum())


def _one_vin(pieces: int) -> bool:
    """Whether runs of this many pieces have room for about one VIN (17 to 42 pieces: glyphs
    cut in two, or a short caption run into the VIN, ``Chassis No.`` on a document)."""
    return LENGTH <= pieces <= 2.5 * LENGTH


def _ranked_lines(image: np.ndarray, passes: tuple[str, ...]) -> list:
    """Candidate lines of one :func:`find_lines` pass with their :func:`_vin_pieces` counts,
    best first; of the threshold pass, lines that could hold one VIN and little else come
    first (a label's sentences after)."""
    counted = [(ln, _vin_pieces(ln)) for ln in find_lines(image, passes=passes)]
    if passes != ("threshold",):
        return counted
    return sorted(counted, key=lambda lp: not _one_vin(lp[1]))


def candidates(image: np.ndarray, scorer, top_per_line: int = 2,
               max_lines: int = MAX_DECODED_LINES, early_exit: bool = True,
               line_angles: list[float] | None = None,
               stop: Callable[[], bool] | None = None) -> list[Candidate]:
    """Plausible 17-glyph readings of the photo, best first.

    Lines are decoded in :func:`find_lines`' order, at most ``max_lines`` of
    them (lines that cannot hold a VIN and sit in no row of boxes do not
    count): first the threshold pass's lines, then, only while none read
    surely, the dot pass's (the fallback for dot-peen lost in grain) and the
    dense pass's (bands of dense edges: glyphs in fragments). A line that read
    unsurely is re-cut on an even grid through its reading (:func:`regular_recut`);
    one the re-cut took for monospaced, or one with no run of pieces that could hold a
    VIN (grain cut it too finely, or words broke it up), is also cut at
    the pitch its ink repeats at (:func:`periodic_cut`, never sure on its own). Rows of
    17 boxes (a form's VIN field, :mod:`vinread.comb`) are looked for, and
    read box by box, around each line that did not read surely, after all the
    lines of a pass are decoded and only while no line read surely: the search
    for boxes is the costly part on a label that has none. With ``early_exit``
    the search stops soon after the first line whose best reading
    :func:`is_sure`: only up to :data:`SECOND_LOOKS` lines of the same glyph
    height, that could each hold one VIN, are then read. ``stop``, when given, is asked
    once a line has been decoded, before each further line, row of boxes and fallback
    pass: once it says True the search ends with what it has found. A reading sure but for its optional
    check digit, whose maker is known (``is_sure(..., known_maker=True)``), does not stop the
    search: only the lines on its own row are read from then on (its other binarisations and
    the fallback passes read its characters again), and no boxes are looked for. ``line_angles``, when
    given, receives the angle of every line read.
    """
    found: list[Candidate] = []
    gray = gray_u8(image)
    combs: list[tuple[int, int, int, int]] = []
    unsure: list = []                   # (index, line, decodable) of lines to look for boxes around
    sure_line = None                    # the first line read surely
    vin_row = None                      # the first line read surely but for its optional check digit
    second_looks = SECOND_LOOKS
    decoded = 0                         # lines that count against ``max_lines``
    rows_read: list = []                # the lines decoded
    index = 0                           # every line's place in reading order, both passes

    def time_up() -> bool:
        # asked only once a line has been decoded: the photo's first line is always read
        return bool(decoded) and stop is not None and stop()

    def add(hyps, line, i):
        for hyp, height, bonus in hyps:
            score, plausible = score_reading(hyp.probs, hyp.glyphness, hyp.spans, height)
            score += bonus - hyp.penalty      # the segmentation's geometric costs
            if plausible:
                found.append(Candidate(hyp.probs, hyp.glyphness, hyp.boxes, line.angle, score, i,
                                       hyp.crops, polarity=hyp.polarity))

    def read_lines(ranked, new_rows: bool = False) -> bool:
        """Decode a pass's lines (with ``new_rows``, only those on no row decoded before);
        False once the line budget is spent."""
        nonlocal sure_line, second_looks, decoded, index, vin_row
        for line, pieces in ranked:
            i = index
            index += 1
            if decoded >= max_lines or time_up():
                return False
            if new_rows and any(_same_row(line, other) for other in rows_read):
                continue
            if sure_line is None and vin_row is not None and not _same_row(line, vin_row):
                # a VIN known by its maker was read: only its own row is read again, through
                # the other binarisations and passes (a second reading of its characters)
                continue
            # lines with no run of pieces that could hold a VIN (texture, a knurled or
            # perforated plate) do not use up the budget, unless they lie in a row of boxes
            decodable = pieces >= LENGTH
            if sure_line is not None:
                # a sure VIN was read: only lines that could be a second VIN like it are read
                # (for the "another VIN" warning), and only a few of them
                if second_looks <= 0:
                    return False
                if abs(np.log(line.height / sure_line.height)) > 0.25 or not _one_vin(pieces):
                    continue
                second_looks -= 1
            hyps = [(h, STRIP_H, 0.0) for h in decode_line(line, scorer, n=LENGTH, top=top_per_line,
                                                           line_index=i)] if decodable else []
            sure = any(is_sure(h.probs, h.glyphness, h.spans, STRIP_H) for h, _, _ in hyps)
            recut = None
            if hyps and not sure:
                # a monospaced line the pieces' decoding cut unevenly: its glyphs re-cut on one grid
                recut = regular_recut(line, hyps[0][0], scorer)
                if recut is not None:
                    hyps.append((recut, STRIP_H, 0.0))
                    sure = is_sure(recut.probs, recut.glyphness, recut.spans, STRIP_H)
            if early_exit and vin_row is None and not sure and \
                    any(is_sure(h.probs, h.glyphness, h.spans, STRIP_H, known_maker=True) for h, _, _ in hyps):
                vin_row = line
            if not sure and (recut is not None or not decodable) and len(line.pieces) >= LENGTH:
                # a monospaced line (one its reading says is, or one with no run of pieces to
                # decode: grain cut it too finely) whose pieces no decoding got right: cells at
                # the pitch its ink repeats at. Found from
                # the ink alone, it is never sure: the fallback passes still look
                hyps += [(h, STRIP_H, 0.0) for h in periodic_cut(line, scorer, LENGTH, line_index=i)]
            # a printed VIN read surely (or known by its maker) needs no boxes around it
            if not sure and sure_line is None and vin_row is None and \
                    not any(_same_row(line, other) for _, other, _ in unsure):
                unsure.append((i, line, decodable))
            if decodable:
                decoded += 1
                rows_read.append(line)
                if line_angles is not None:
                    line_angles.append(line.angle)
            add(hyps, line, i)
            if sure and early_exit and sure_line is None:
                sure_line = line
        return True

    def read_boxes() -> None:
        """Look for rows of boxes around the unsure lines read so far (a line that cannot hold
        a VIN only while the line budget lasts: it counts when boxes are found around it)."""
        nonlocal sure_line, decoded
        pending = list(unsure)
        unsure.clear()
        for i, line, decodable in pending:
            if sure_line is not None or vin_row is not None or time_up():
                break
            if decoded >= max_lines and not decodable:
                continue
            comb = find_comb(gray, line, LENGTH)
            if comb is None:
                continue
            if not decodable:
                decoded += 1
                if line_angles is not None:
                    line_angles.append(line.angle)
            first_box = comb.box(*comb.cells[0])
            if any(_same_box(first_box, b) for b in combs):
                continue
            combs.append(first_box)
            boxed, height = read_comb(comb, scorer, line_index=i), comb.rows[1] - comb.rows[0]
            bonus = FAINT_COMB_BONUS if comb.faint else COMB_BONUS
            add([(boxed, height, bonus)], line, i)
            if is_sure(boxed.probs, boxed.glyphness, boxed.spans, height) and early_exit:
                sure_line = line

    for passes in (("threshold",), ("dots",), ("dense",)):
        if passes != ("threshold",) and (sure_line is not None or decoded >= max_lines or time_up()):
            break
        # bands of dense edges only where no binarisation found a line
        budget_left = read_lines(_ranked_lines(image, passes), new_rows=passes == ("dense",))
        if sure_line is None:
            read_boxes()
        if not budget_left:
            break
    found.sort(key=lambda c: -c.score)
    return found


RIVAL_WINDOW = 6.0
"""Readings within this many log units of the best one share in its per-position probabilities."""


MAX_VIEWED = 3
"""At most this many of the best readings (those within :data:`RIVAL_WINDOW`) are read again
in several views (:meth:`vinread.pipeline.Reader.score_views`) before they are blended, those
not sure as read (:func:`is_sure`) only."""


def rival_mixture(found: list[Candidate], window: float = RIVAL_WINDOW) -> list[tuple[float, np.ndarray]]:
    """``(weight, (17, 33) probabilities)`` of the best reading and of every candidate scoring
    within ``window`` of it, weighed by ``exp(score - best score)``; the weights sum to 1.

    The reported per-position probabilities are the mixture's blend: where rival readings
    (another segmentation of the line, W against VV, or another line) disagree, the
    position's probability drops, so an ambiguous photo is reported with low-confidence
    positions rather than as a confident VIN; positions all rivals agree on keep their
    probability. The joint probability of the VIN is the mixture's own
    (:func:`mixture_confidence`).
    """
    best = found[0].score
    close = [c for c in found if c.score >= best - window]
    w = np.array([np.exp(c.score - best) for c in close])
    w /= w.sum()
    return [(float(wi), np.asarray(c.probs, np.float64)) for wi, c in zip(w, close)]


def mixture_confidence(vin: str, mixture: list[tuple[float, np.ndarray]]) -> float:
    """The probability of ``vin`` under a :func:`rival_mixture`: each reading's joint probability
    of its 17 characters, weighed. Unlike the product of the blended per-position probabilities,
    a rival that disagrees everywhere (the same glyphs read one place along, the window shifted
    by a glyph) costs its weight once, not once per position.

    >>> read = np.eye(33)[[0] * 17]                 # 17 zeros, sure
    >>> shifted = np.eye(33)[[1] * 17]              # a rival reading 17 ones
    >>> round(mixture_confidence("0" * 17, [(0.7, read), (0.3, shifted)]), 3)
    0.7
    >>> round(float(np.prod((0.7 * read + 0.3 * shifted)[:, 0])), 4)   # the blend's product
    0.0023
    """
    idx = np.array([ALPHABET.index(c) for c in vin])
    total = 0.0
    for w, p in mixture:
        p = np.asarray(p, np.float64)
        p = p / p.sum(axis=1, keepdims=True)
        total += w * float(np.exp(np.log(p[np.arange(len(idx)), idx] + 1e-12).sum()))
    return total


def best_hypothesis(image: np.ndarray, reader) -> Candidate | None:
    """The best reading of the photo, or None when nothing reads as a VIN.

    The glyphs of the best reading and of its closest rivals are read again in several
    views (``reader.score_views``, at most :data:`MAX_VIEWED` readings; a reading already sure
    as read, :func:`is_sure`, is reported as read), and its
    probabilities are blended with the rivals' (:func:`rival_mixture`, kept in ``mixture``
    for :func:`mixture_confidence`). When another
    line reads surely as a different valid VIN with a known manufacturer code, a warning
    says so.
    """
    angles: list[float] = []
    found = candidates(image, reader.score_crops, line_angles=angles, stop=getattr(reader, "out_of_time", None))
    if not found:
        return None
    best = found[0]
    # the readings that will be reported or blended: every glyph of those not sure as read
    # read in several views (on the bench, the views of sure readings changed none of them)
    for c in found[:MAX_VIEWED]:
        if c.score >= best.score - RIVAL_WINDOW and c.crops and not is_sure(c.probs, c.glyphness):
            c.probs, c.glyphness = reader.score_views(c.crops, c.polarity)
    best.line_angles = [best.angle] + angles
    best_vin = choose_vin(best.probs).vin
    other_lines: set[int] = set()
    for other in found[1:]:
        vin = choose_vin(other.probs).vin
        if other.line_index != best.line_index and vin != best_vin and check(vin).valid \
                and check(vin).check_digit_ok and not _same_place(best.boxes, other.boxes):
            # named only when it could be reported on its own: a row of strokes read as
            # 1111111J111111111 passes its check digit too
            if not other_lines and is_sure(other.probs, other.glyphness) and known_wmi(vin):
                best.warnings.append(f"another VIN is also in the image: {vin}")
            other_lines.add(other.line_index)
    # a second VIN is not a rival reading of the first one
    best.mixture = rival_mixture([c for c in found if c.line_index not in other_lines])
    best.probs = sum(w * p for w, p in best.mixture)
    return best
