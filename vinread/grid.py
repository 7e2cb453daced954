"""Monospace re-cut: a line's reading re-segmented at one even pitch.

Stamped, dot-peened and most plate VINs are set in a monospaced face. Where
:func:`vinread.segment.decode_line` went astray on such a line (a W's
diagonals split into two glyphs and the next glyph's half taken for the
rest, a dot-peen glyph's columns of dots taken for two), most of its
glyph centres still sit on the line's true grid. :func:`regular_recut` fits
that grid (centre = offset + i x pitch) robustly to the reading's centres
and reads one glyph per grid cell, each made of the pieces whose centres
fall in the cell. The result is one more hypothesis for the search to
weigh against the others: on proportional print its crops cut glyphs and
it loses.
"""
from __future__ import annotations

import numpy as np

from .segment import Hypothesis, Line, Scorer, glyph_log_scores

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
"""A reading with a glyph wider than this many pitches is proportional print (a W or M
wider than its neighbours' spacing): not re-cut."""
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


def regular_recut(line: Line, hyp: Hypothesis, scorer: Scorer) -> Hypothesis | None:
    """``hyp`` re-cut at the even pitch most of its glyphs sit on, or None.

    The grid is extended by up to :data:`SLIDE` cells either way, within the line, and
    every cell is read (one batch to ``scorer``); of the ``n`` consecutive cells that
    each hold a piece of ink, those that read best (log top probability plus log
    glyph-or-not score) are the re-cut reading, so a glyph the decoder skipped at one end
    and a ``*`` it took at the other are traded back.

    None when the reading looks proportional (a glyph wider than :data:`MAX_MONO_WIDTH`
    pitches, or fewer than :data:`MIN_INLIERS` of its centres on one grid), or when the
    best cells are the reading's own and it is already regular (every centre within
    :data:`ALIGNED` pitches of its grid point).
    """
    spans = np.asarray(hyp.spans, np.float64)
    n = len(spans)
    if n < 3:
        return None
    centres = spans.mean(1)
    offset, pitch, inliers = fit_grid(centres)
    if pitch <= 0 or inliers.mean() < MIN_INLIERS or np.ptp(spans, 1).max() > MAX_MONO_WIDTH * pitch:
        return None
    width = line.strip.shape[1]
    # the reading's own grid points and SLIDE more either way, those at least a quarter
    # pitch into the strip and not past its end
    ks = np.arange(-SLIDE, n + SLIDE)
    ks = ks[(offset + pitch * ks >= 0.25 * pitch) & (offset + pitch * ks <= width)]
    if len(ks) < n:
        return None
    grid = offset + pitch * ks
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
    crops = [line.span_crop(int(a), int(b)) for a, b in cells]
    polarity = hyp.polarity
    probs, glyph = scorer(crops, polarity)
    probs = np.asarray(probs, np.float64).reshape(len(cells), -1)
    glyph = np.asarray(glyph, np.float64).reshape(len(cells))
    cell_score = glyph_log_scores(probs, glyph)
    cell_score[empty] = -np.inf          # a glyph's cell holds ink
    window = np.convolve(cell_score, np.ones(n), "valid")
    if not np.isfinite(window).any():
        return None
    best = int(np.argmax(window))
    own = int(np.nonzero(ks == 0)[0][0]) if (ks == 0).any() else -1
    if best == own and np.all(np.abs(centres - (offset + pitch * np.arange(n))) <= ALIGNED * pitch):
        return None
    sl = slice(best, best + n)
    return Hypothesis(
        boxes=np.array([line.span_box(int(a), int(b)) for a, b in cells[sl]], np.int32),
        crops=crops[sl], polarity=polarity, score=float(window[best]), line_index=hyp.line_index,
        probs=probs[sl], glyphness=glyph[sl], spans=cells[sl].astype(np.int32), penalty=0.0)
