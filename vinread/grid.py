"""Monospace re-cut: a line's reading re-segmented at one even pitch.

Stamped, dot-peened and most plate VINs are set in a monospaced face. Where
:func:`vinread.segment.decode_line` went astray on such a line (a W's
diagonals split into two glyphs and the next glyph's half taken for the
rest, a dot-peen glyph's columns of dots taken for two), most of its
glyph centres still sit on the line's true grid. :func:`regular_recut` fits
that grid (centre = offset + i x pitch) robustly to the reading's centres
(:func:`fit_cells` when a stray piece or two glyphs read as one put the
glyphs after it a cell off their index) and reads one glyph per grid cell,
each made of the pieces whose centres fall in the cell or bounded by the
emptiest columns between grid points (where grain cut the pieces across
the glyphs), whichever reads better. The result is one more hypothesis for the search to
weigh against the others: on proportional print its crops cut glyphs and
it loses. :func:`periodic_cut` needs no reading to start from: it takes the
pitch from the autocorrelation of the line's ink (:func:`line_pitches`), for
lines too grainy for the pieces to be decoded at all.
"""
from __future__ import annotations

import numpy as np

from .alphabet import ALPHABET
from .segment import Hypothesis, Line, Scorer, glyph_log_scores, scoring_polarity

MIN_INLIERS = 0.7
"""Fraction of a reading's glyph centres that must lie on one even grid for the line to be
re-cut (within :data:`INLIER_TOL` pitches)."""
INLIER_TOL = 0.2
"""How far, in pitches, a glyph centre may sit from its grid point and still count as on it."""
ALIGNED = 0.08
"""A reading whose every centre lies within this many pitches of the grid is already regular:
no re-cut."""
SLIDE = 2
"""The re-cut's 17 cells may start up to this many cells before or after the reading's first."""
MAX_MONO_WIDTH = 1.2
"""A reading with a W or M wider than this many pitches is proportional print (a W or M wider
than its neighbours' spacing): not re-cut."""
MAX_SPAN_WIDTH = 1.4
"""... or with any glyph on the grid wider than this many pitches (the span of a monospaced
glyph runs up to about 1.3 pitches where a stroke of the next glyph or grain clings to it)."""
WIDE_LETTERS = [ALPHABET.index(c) for c in "WM"]
REACH = 0.6
"""A cell's glyph spans at most this many pitches either side of its grid point."""


def fit_grid(centres: np.ndarray, tol: float = INLIER_TOL, rounds: int = 3) -> tuple[float, float, np.ndarray]:
    """Robust least-squares ``centre_i ~ offset + i x pitch``.

    Parameters
    ----------
    centres : (n,) float, glyph centres along the line, in reading order.

    Returns
    -------
    (offset, pitch, inliers): inliers is an (n,) bool array of the centres within ``tol``
    pitches of their grid point after the last round.
    """
    c = np.asarray(centres, np.float64)
    i = np.arange(len(c), dtype=np.float64)
    # Theil-Sen start (median of pairwise slopes): a few misplaced centres cannot pull it
    a, b = np.triu_indices(len(c), 1)
    pitch = float(np.median((c[b] - c[a]) / (b - a)))
    offset = float(np.median(c - pitch * i))
    for _ in range(rounds):
        resid = np.abs(c - (offset + pitch * i))
        keep = resid <= tol * abs(pitch)
        if keep.sum() < 2:
            break
        pitch, offset = np.polyfit(i[keep], c[keep], 1)
    resid = np.abs(c - (offset + pitch * i))
    return float(offset), float(pitch), resid <= tol * abs(pitch)


PITCH_SPAN = (0.8, 1.25)
""":func:`fit_cells` tries pitches from these fractions of the median spacing of centres."""
PITCH_STEPS = 41
""":func:`fit_cells` tries this many pitches, evenly on a log scale, in :data:`PITCH_SPAN`."""


def fit_cells(centres: np.ndarray, tol: float = INLIER_TOL, rounds: int = 3
              ) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Even grid ``offset + k x pitch`` through centres whose cells ``k`` are not known.

    Unlike :func:`fit_grid`, centre ``i`` need not sit in cell ``i``: a stray piece read
    as a glyph, two glyphs read as one or one read as two shift the cells of the rest,
    and each centre takes its nearest cell. Each of :data:`PITCH_STEPS` pitches around
    the median spacing gets the offset at the circular mean of the centres' phases; the
    pitch that puts centres in the most distinct cells (within ``tol`` pitches) wins and
    is refined by least squares on them.

    Parameters
    ----------
    centres : (n,) float, glyph centres along the line, increasing.

    Returns
    -------
    (offset, pitch, cells, inliers): cells is an (n,) int array of each centre's nearest
    cell, inliers an (n,) bool array of the centres within ``tol`` pitches of it, at most
    one per cell. Pitch 0 when the centres are too few or not increasing.
    """
    c = np.asarray(centres, np.float64)
    n = len(c)
    none = (0.0, 0.0, np.zeros(n, np.int64), np.zeros(n, bool))
    if n < 3:
        return none
    spacing = float(np.median(np.diff(c)))
    if spacing <= 0:
        return none

    def place(offset, pitch):
        cells = np.round((c - offset) / pitch).astype(np.int64)
        resid = np.abs(c - offset - pitch * cells)
        ok = resid <= tol * pitch
        # one centre per cell: the nearest to its grid point
        order = np.lexsort((resid, cells))
        first = np.ones(n, bool)
        first[1:] = cells[order][1:] != cells[order][:-1]
        keep = np.zeros(n, bool)
        keep[order[first]] = True
        return cells, ok & keep

    best = None
    for pitch in spacing * np.geomspace(*PITCH_SPAN, PITCH_STEPS):
        phase = np.angle(np.exp(2j * np.pi * c / pitch).mean())
        offset = phase / (2 * np.pi) * pitch
        cells, inl = place(offset, pitch)
        key = (int(inl.sum()), -abs(np.log(pitch / spacing)))
        if best is None or key > best[0]:
            best = (key, offset, pitch)
    _, offset, pitch = best
    cells, inl = place(offset, pitch)
    for _ in range(rounds):
        if len(np.unique(cells[inl])) < 2:
            break
        pitch, offset = np.polyfit(cells[inl].astype(np.float64), c[inl], 1)
        if pitch <= 0:
            return none
        cells, inl = place(offset, pitch)
    # cells counted from the first centre's
    shift = int(cells[0])
    return float(offset + shift * pitch), float(pitch), cells - shift, inl


def regular_recut(line: Line, hyp: Hypothesis, scorer: Scorer) -> Hypothesis | None:
    """``hyp`` re-cut at the even pitch most of its glyphs sit on, or None.

    The grid is extended by up to :data:`SLIDE` cells either way, within the line, and
    cut into cells two ways (:func:`_piece_cells`, :func:`_gap_cells`); every cell is
    read (one batch to ``scorer`` per way); of the ``n`` consecutive cells that each
    hold ink, those that read best (log top probability plus log glyph-or-not score,
    either way) are the re-cut reading, so a glyph the decoder skipped at one end and a
    ``*`` it took at the other are traded back.

    The grid is fitted with each centre in the cell of its index (:func:`fit_grid`) or,
    when too few centres fit that way, in its nearest cell (:func:`fit_cells`).

    None when the reading looks proportional (a W or M wider than :data:`MAX_MONO_WIDTH`
    pitches, another glyph on the grid wider than :data:`MAX_SPAN_WIDTH`, or fewer than
    :data:`MIN_INLIERS` of its centres on one grid), or when the
    best cells are the reading's own and it is already regular (every centre within
    :data:`ALIGNED` pitches of its grid point).
    """
    spans = np.asarray(hyp.spans, np.float64)
    n = len(spans)
    if n < 3:
        return None
    centres = spans.mean(1)
    offset, pitch, inliers = fit_grid(centres)
    own_cells = np.arange(n)
    if pitch <= 0 or inliers.mean() < MIN_INLIERS:
        # glyphs inserted, merged or split shift the cells of the rest: each centre its nearest
        offset, pitch, own_cells, inliers = fit_cells(centres)
    if pitch <= 0 or inliers.mean() < MIN_INLIERS:
        return None
    # a wide W or M is proportional print, and so is another wide glyph on the grid (one off
    # it may be two glyphs taken as one)
    widths = np.ptp(spans, 1)
    wide_letter = np.isin(np.asarray(hyp.probs).argmax(1), WIDE_LETTERS)
    if (widths > MAX_MONO_WIDTH * pitch)[wide_letter].any() or (widths > MAX_SPAN_WIDTH * pitch)[inliers].any():
        return None
    width = line.strip.shape[1]
    # the reading's own grid points and SLIDE more either way, those at least a quarter
    # pitch into the strip and not past its end
    ks = np.arange(own_cells.min() - SLIDE, own_cells.max() + 1 + SLIDE)
    ks = ks[(offset + pitch * ks >= 0.25 * pitch) & (offset + pitch * ks <= width)]
    if len(ks) < n:
        return None
    grid = offset + pitch * ks
    # two ways to cut the cells, each read in full: the pieces whose centres fall in a cell,
    # and the emptiest columns between grid points (pieces cut at grain inside glyphs)
    cuts = [_piece_cells(line, grid, pitch)] + ([_gap_cells(line, grid, pitch)] if line.ink is not None else [])
    read = [_read_cells(line, cells, empty, hyp.polarity, scorer, n) for cells, empty in cuts]
    read = [r for r in read if r is not None]
    if not read:
        return None
    best_read = max(read, key=lambda r: r[0])
    best = best_read[1]
    own = int(np.nonzero(ks == 0)[0][0]) if (ks == 0).any() else -1
    if (best == own and np.array_equal(own_cells, np.arange(n))
            and np.all(np.abs(centres - (offset + pitch * own_cells)) <= ALIGNED * pitch)):
        return None
    return _window_hypothesis(line, best_read, hyp.polarity, hyp.line_index, n)


def _piece_cells(line: Line, grid: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Cells (K, 2) ``[x0, x1)`` made of the pieces whose centres fall within half a pitch of
    each grid point (at most :data:`REACH` pitches from it), and which cells hold no piece."""
    width = line.strip.shape[1]
    pieces = np.asarray(line.pieces, np.float64)
    mids = pieces.mean(1)
    cells = np.empty((len(grid), 2), np.int64)
    empty = np.zeros(len(grid), bool)
    for k, g in enumerate(grid):
        inside = np.abs(mids - g) <= pitch / 2
        if inside.any():
            x0, x1 = pieces[inside, 0].min(), pieces[inside, 1].max()
        else:
            x0, x1 = g - 0.4 * pitch, g + 0.4 * pitch
            empty[k] = True
        x0 = int(round(min(max(x0, g - REACH * pitch, 0), width - 1)))
        cells[k] = x0, max(x0 + 1, int(round(min(x1, g + REACH * pitch, width))))
    return cells, empty


GAP_SEARCH = 0.2
""":func:`_gap_cells` looks for the emptiest column this many pitches either side of the
point halfway between two grid points."""


def _gap_cells(line: Line, grid: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Cells (K, 2) ``[x0, x1)`` bounded by the columns of least ink (over the glyph band)
    near each point halfway between grid points (the nearest of equal ones), and which
    cells hold no ink."""
    prof = _ink_profile(line)
    width = len(prof)
    halves = np.concatenate([[grid[0] - pitch / 2], (grid[:-1] + grid[1:]) / 2, [grid[-1] + pitch / 2]])
    bounds = []
    for m in halves:
        lo = int(np.clip(np.floor(m - GAP_SEARCH * pitch), 0, width))
        hi = int(np.clip(np.ceil(m + GAP_SEARCH * pitch) + 1, lo, width))
        if hi == lo:
            bounds.append(int(np.clip(round(m), 0, width)))
            continue
        least = np.nonzero(prof[lo:hi] == prof[lo:hi].min())[0] + lo
        bounds.append(int(least[np.argmin(np.abs(least - m))]))
    bounds = np.maximum.accumulate(np.array(bounds, np.int64))
    cells = np.stack([np.minimum(bounds[:-1], width - 1), np.maximum(bounds[1:], bounds[:-1] + 1)], axis=1)
    empty = np.array([prof[a:z].sum() <= 0 for a, z in cells])
    return cells, empty


def _ink_profile(line: Line) -> np.ndarray:
    """(W,) float, the line's ink per column of the strip over the glyph band, smoothed over
    3 columns."""
    t, b = line.band
    return np.convolve(line.ink[t:b].sum(0).astype(np.float64), np.ones(3) / 3, mode="same")


def _read_cells(line: Line, cells: np.ndarray, empty: np.ndarray, polarity: str, scorer: Scorer,
                n: int):
    """Read every cell (one batch) and find the ``n`` consecutive cells, each holding ink,
    that read best (log top probability plus log glyph-or-not score): (their summed score,
    the first one's index, cells, crops, probs, glyph-or-not scores), or None."""
    crops = [line.span_crop(int(a), int(b)) for a, b in cells]
    probs, glyph = scorer(crops, polarity)
    probs = np.asarray(probs, np.float64).reshape(len(cells), -1)
    glyph = np.asarray(glyph, np.float64).reshape(len(cells))
    cell_score = glyph_log_scores(probs, glyph)
    cell_score[empty] = -np.inf          # a glyph's cell holds ink
    window = np.convolve(cell_score, np.ones(n), "valid")
    if not np.isfinite(window).any():
        return None
    best = int(np.argmax(window))
    return float(window[best]), best, cells, crops, probs, glyph


def _window_hypothesis(line: Line, read: tuple, polarity: str, line_index: int, n: int) -> Hypothesis:
    """The ``n`` cells of a :func:`_read_cells` result's best window as a hypothesis (no
    geometric penalty: the grid is the geometry)."""
    window, best, cells, crops, probs, glyph = read
    sl = slice(best, best + n)
    return Hypothesis(
        boxes=np.array([line.span_box(int(a), int(b)) for a, b in cells[sl]], np.int32),
        crops=crops[sl], polarity=polarity, score=window, line_index=line_index,
        probs=probs[sl], glyphness=glyph[sl], spans=cells[sl].astype(np.int32), penalty=0.0)


PITCH_RANGE = (0.35, 1.4)
""":func:`line_pitches` looks for the pitch between these many glyph heights (the band's)."""
PITCH_PEAKS = 3
""":func:`line_pitches` returns at most this many pitches, strongest first."""


def line_pitches(line: Line, k: int = PITCH_PEAKS, span: tuple[float, float] = PITCH_RANGE) -> list[float]:
    """The pitches a line's ink repeats at: the ``k`` highest peaks (sub-pixel) of the
    autocorrelation of its ink profile (ink per column over the glyph band, from its first
    piece to its last), between ``span`` glyph heights; strongest first. Empty when the
    line has no ink mask or no positive peak."""
    if line.ink is None or len(line.pieces) < 2:
        return []
    t, b = line.band
    x0, x1 = int(line.pieces[0, 0]), int(line.pieces[-1, 1])
    prof = line.ink[t:b, x0:x1].sum(0).astype(np.float64)
    prof -= prof.mean()
    size = len(prof)
    # unbiased autocorrelation: each lag's sum over the columns it pairs
    ac = np.correlate(prof, prof, "full")[size - 1:] / np.maximum(1, size - np.arange(size))
    lo, hi = max(1, int(span[0] * (b - t))), min(int(span[1] * (b - t)), size - 2)
    j = np.arange(lo, hi)
    if len(j) == 0:
        return []
    peak = j[(ac[j] >= ac[j - 1]) & (ac[j] >= ac[j + 1]) & (ac[j] > 0)]
    peak = peak[np.argsort(-ac[peak], kind="stable")][:k]
    curve = ac[peak - 1] - 2 * ac[peak] + ac[peak + 1]
    shift = np.where(curve < 0, 0.5 * (ac[peak - 1] - ac[peak + 1]) / np.where(curve < 0, curve, 1), 0.0)
    return [float(p) for p in peak + shift]


PITCH_REFINE = 0.03
"""The autocorrelation's pitch is refined within this fraction either way (with the grid's
phase, :func:`_pitch_and_phase`): over 17 glyphs an error of 2 % moves the last cell a third of a pitch."""


def _pitch_and_phase(prof: np.ndarray, x0: int, x1: int, pitch: float, width: int) -> tuple[float, float]:
    """(pitch, phase) of the grid whose points between glyphs fall on the least ink (mean over
    the points from ``x0`` to ``x1`` of the ink profile ``prof``), the pitch within
    :data:`PITCH_REFINE` of ``pitch`` (quarter-pixel steps; of equally good ones, the nearest
    to ``pitch``), the phase within one pitch (pixel steps)."""
    steps = np.arange(0.0, PITCH_REFINE * pitch + 1e-9, 0.25)
    best = None
    for p in pitch + np.stack([steps, -steps], 1).ravel()[1:]:
        phases = np.arange(0.0, p, 1.0)
        ks = np.arange(int((x1 - x0) / p) + 1)
        gaps = np.clip(np.round(x0 + phases[:, None] + p * ks[None, :]).astype(np.int64), 0, width - 1)
        ink = prof[gaps].mean(1)
        i = int(np.argmin(ink))
        if best is None or ink[i] < best[0] - 1e-9:
            best = (float(ink[i]), float(p), float(phases[i]))
    return best[1], best[2]


def periodic_cut(line: Line, scorer: Scorer, n: int = 17, line_index: int = 0) -> list[Hypothesis]:
    """The line read as ``n`` cells of one even pitch found from its ink alone: one reading
    per way of cutting the cells (none when no pitch fits ``n`` cells in the line).

    For monospaced lines no decoding of the pieces got right (grain that cuts the glyphs
    into many pieces or runs them together, dots taken for glyphs): for each of
    :func:`line_pitches`, the grid's phase puts the points halfway between glyphs on the
    columns of least ink; the cells are cut both ways :func:`regular_recut` cuts them and,
    for each way, the ``n`` consecutive cells that read best, of any pitch, are a reading
    (the two ways fail on different glyphs: kept apart, each can win on the line's own
    score, and the search weighs both).
    """
    if line.ink is None or len(line.pieces) < 2:
        return []
    x0, x1 = int(line.pieces[0, 0]), int(line.pieces[-1, 1])
    width = line.strip.shape[1]
    prof = _ink_profile(line)
    polarity = scoring_polarity(line)
    read = []
    for pitch in line_pitches(line):
        if x1 - x0 < (n - 0.5) * pitch:
            continue
        pitch, phase = _pitch_and_phase(prof, x0, x1, pitch, width)
        grid = x0 + phase + pitch * np.arange(-1, int((x1 - x0) / pitch) + 2) + pitch / 2
        grid = grid[(grid >= 0.25 * pitch) & (grid <= width)]
        if len(grid) < n:
            continue
        ways = (_piece_cells(line, grid, pitch), _gap_cells(line, grid, pitch))
        for way, (cells, empty) in enumerate(ways):
            r = _read_cells(line, cells, empty, polarity, scorer, n)
            if r is not None:
                read.append((way, r))
    best = [max((r for w, r in read if w == way), key=lambda r: r[0], default=None) for way in (0, 1)]
    return [_window_hypothesis(line, r, polarity, line_index, n) for r in best if r is not None]
