"""Monospace re-cut (vinread.grid): grid fit and the re-segmented reading."""
import numpy as np
import pytest

from vinread.alphabet import ALPHABET
from vinread.grid import _pitch_and_phase, fit_cells, fit_grid, line_pitches, periodic_cut, regular_recut
from vinread.segment import STRIP_H, Hypothesis, Line

PITCH, INK, X0 = 30, 22, 20
PAD = int(round(0.2 * STRIP_H))


def grid_line(split: int = 4) -> tuple[Line, np.ndarray]:
    """A monospaced line of 17 glyphs (``INK`` px of ink every ``PITCH`` px); glyph ``split``
    comes in two pieces (a W's diagonals). Returns the line and the true glyph spans."""
    truth = np.array([(X0 + i * PITCH, X0 + i * PITCH + INK) for i in range(17)])
    pieces = []
    for i, (a, b) in enumerate(truth):
        if i == split:
            pieces += [(a, a + INK // 2), (a + INK // 2 + 1, b)]
        else:
            pieces.append((a, b))
    W = int(truth[-1, 1]) + 20
    strip = np.full((80, W), 200, np.uint8)
    for a, b in pieces:
        strip[20:60, a:b] = 40
    line = Line(pieces=np.array(pieces), boxes=np.zeros((len(pieces), 4), np.int32), polarity="dark",
                angle=0.0, strip=strip, band=(20, 60), source="test", height=40.0,
                strip_to_image=np.array([[1.0, 0, 0], [0, 1.0, 0]]), ink=None)
    return line, truth


def width_scorer(crops, polarity):
    """Reads a crop by its ink width: a whole glyph (``INK`` px) is A, anything else 7 at low odds."""
    probs = np.full((len(crops), 33), 1e-4)
    glyph = np.zeros(len(crops))
    for k, c in enumerate(crops):
        inked = np.nonzero((c < 128).any(0))[0]
        whole = len(inked) and inked[-1] - inked[0] + 1 == INK
        probs[k, ALPHABET.index("A" if whole else "7")] = 0.99 if whole else 0.3
        glyph[k] = 0.99 if whole else 0.3
    return probs / probs.sum(1, keepdims=True), glyph


def hypothesis(spans: np.ndarray) -> Hypothesis:
    n = len(spans)
    return Hypothesis(boxes=np.zeros((n, 4), np.int32), crops=[], polarity="dark", score=0.0,
                      line_index=3, probs=np.full((n, 33), 1 / 33), glyphness=np.ones(n),
                      spans=np.asarray(spans, np.int32))


def test_fit_grid_ignores_misplaced_centres():
    centres = 12.0 + 31.0 * np.arange(17)
    centres[[4, 5, 11]] += [13.0, -12.0, 15.0]
    offset, pitch, inliers = fit_grid(centres)
    assert pitch == pytest.approx(31.0, abs=0.01) and offset == pytest.approx(12.0, abs=0.1)
    assert inliers.tolist() == [i not in (4, 5, 11) for i in range(17)]


def test_fit_cells_after_a_stray_glyph_and_a_merged_pair():
    """A stray piece read before glyph 0 and glyphs 6 and 7 read as one: every index from
    there on is off by one, but each centre still finds its own cell."""
    truth = 12.0 + 31.0 * np.arange(17)
    centres = np.concatenate([[truth[0] - 31.0], truth[:6], [(truth[6] + truth[7]) / 2], truth[8:]])
    offset, pitch, inliers = fit_grid(centres)
    assert inliers.mean() < 0.7                 # no one grid explains the indices
    offset, pitch, cells, inliers = fit_cells(centres)
    assert pitch == pytest.approx(31.0, abs=0.01) and offset == pytest.approx(truth[0] - 31.0, abs=0.1)
    assert cells.tolist() == list(range(7)) + [cells[7]] + list(range(9, 18))
    assert inliers.tolist() == [k != 7 for k in range(17)]


def test_fit_cells_of_too_few_or_unordered_centres():
    assert fit_cells(np.array([5.0, 9.0]))[1] == 0.0
    assert fit_cells(np.array([50.0, 40.0, 30.0, 20.0]))[1] == 0.0


def test_recut_puts_each_glyph_in_its_cell():
    """The decoder took the split glyph's left half for glyph 4 and its right half with the next
    glyph's left half for glyph 5 (centres off the grid there): the re-cut reads whole glyphs."""
    line, truth = grid_line(split=4)
    spans = truth.copy()
    spans[4] = (truth[4, 0], truth[4, 0] + INK // 2)
    spans[5] = (truth[4, 0] + INK // 2 + 1, truth[5, 0] + INK // 2)
    recut = regular_recut(line, hypothesis(spans), width_scorer)
    assert recut is not None and recut.line_index == 3
    assert np.array_equal(recut.spans, truth)
    assert recut.text == "A" * 17
    assert len(recut.crops) == 17 and recut.boxes.shape == (17, 4)


def test_recut_of_pieces_cut_across_the_glyphs():
    """Grain ran the glyphs' columns together and the line was cut into even slivers that
    straddle the glyphs' edges (a cell made of the pieces whose centres fall in it loses an
    edge of its glyph): cells bounded by the empty columns between grid points hold whole
    glyphs."""
    line, truth = grid_line()
    line.ink = line.strip < 128
    width = line.strip.shape[1]
    line.pieces = np.array([(x, min(x + 10, width)) for x in range(1, width - 2, 10)])
    spans = truth + np.where(np.arange(17) % 2, 4, -4)[:, None]
    recut = regular_recut(line, hypothesis(spans), width_scorer)
    assert recut is not None and recut.text == "A" * 17
    assert ((recut.spans[:, 0] <= truth[:, 0]) & (recut.spans[:, 1] >= truth[:, 1])).all()
    assert (recut.spans[1:, 0] >= truth[:-1, 1]).all()


def test_regular_reading_is_left_alone():
    line, truth = grid_line()
    assert regular_recut(line, hypothesis(truth), width_scorer) is None


def test_proportional_reading_is_not_recut():
    """Centres that no even grid explains (proportional print) give no re-cut."""
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.uniform(12, 60, 17)) + 20
    spans = np.stack([x - 5, x + 5], 1).astype(np.int64)
    line, _ = grid_line()
    assert regular_recut(line, hypothesis(spans), width_scorer) is None


def test_recut_takes_the_best_cells_of_the_line():
    """A reading shifted two cells past the line's end (a grid point beyond the strip): the
    re-cut reads only cells on the line, and the best 17 of them are the true glyphs."""
    line, truth = grid_line()
    spans = truth + 2 * PITCH
    spans[5] += 10
    assert spans[-1].mean() > line.strip.shape[1]
    recut = regular_recut(line, hypothesis(spans), width_scorer)
    assert recut is not None and np.array_equal(recut.spans, truth)


def test_recut_trades_a_skipped_glyph_for_a_delimiter():
    """The decoder skipped the first glyph and took a trailing ``*`` (narrow, not a glyph)
    instead, on the right grid: the re-cut slides the window back."""
    line, truth = grid_line()
    star = (X0 + 17 * PITCH + 6, X0 + 17 * PITCH + 16)
    line.pieces = np.vstack([line.pieces, [star]])
    line.strip = np.pad(line.strip, ((0, 0), (0, PITCH)), constant_values=200)
    line.strip[30:50, star[0]:star[1]] = 40
    spans = np.vstack([truth[1:], [star]])
    recut = regular_recut(line, hypothesis(spans), width_scorer)
    assert recut is not None and np.array_equal(recut.spans, truth)


def test_recut_after_a_merged_pair_and_a_trailing_delimiter():
    """The decoder took glyphs 6 and 7 as one wide glyph and made up the count with a
    trailing ``*``: the glyphs after the merge are one cell off their index, yet the re-cut
    finds the grid and reads the 17 glyphs."""
    line, truth = grid_line()
    star = (X0 + 17 * PITCH + 6, X0 + 17 * PITCH + 16)
    line.pieces = np.vstack([line.pieces, [star]])
    line.strip = np.pad(line.strip, ((0, 0), (0, PITCH)), constant_values=200)
    line.strip[30:50, star[0]:star[1]] = 40
    spans = np.vstack([truth[:6], [(truth[6, 0], truth[7, 1])], truth[8:], [star]])
    recut = regular_recut(line, hypothesis(spans), width_scorer)
    assert recut is not None and np.array_equal(recut.spans, truth)
    assert recut.text == "A" * 17


def test_wide_glyph_means_proportional_print():
    """A glyph span much wider than the pitch (a proportional W): no re-cut."""
    line, truth = grid_line()
    spans = truth.copy()
    spans[3] = (truth[3, 0] - 12, truth[3, 1] + 12)
    spans[8] += 9
    assert regular_recut(line, hypothesis(spans), width_scorer) is None


@pytest.mark.parametrize("seed", range(20))
def test_recut_of_any_reading_is_well_formed(seed):
    """Random readings of a line: no re-cut, or 17 non-empty cells inside the strip."""
    rng = np.random.default_rng(seed)
    line, truth = grid_line()
    width = line.strip.shape[1]
    spans = truth + rng.integers(-20, 20, (17, 1))
    spans[rng.integers(17)] += rng.integers(-60, 60)
    spans = np.clip(np.sort(spans, 0), 0, width)
    out = regular_recut(line, hypothesis(spans), width_scorer)
    if out is not None:
        assert len(out.crops) == 17 and (out.spans[:, 0] < out.spans[:, 1]).all()
        assert out.spans.min() >= 0 and out.spans.max() <= width


def sliver_line(glyphs: int = 17) -> tuple[Line, np.ndarray]:
    """A monospaced line of ``glyphs`` glyphs whose pieces are even 10 px slivers straddling
    the glyphs' edges (grain ran the columns together), with its ink mask; and the true spans."""
    line, truth = grid_line()
    if glyphs < 17:
        line.strip[:, int(truth[glyphs - 1, 1]) + 1:] = 200
        line.strip = line.strip[:, :int(truth[glyphs - 1, 1]) + 20]
        truth = truth[:glyphs]
    line.ink = line.strip < 128
    width = line.strip.shape[1]
    line.pieces = np.array([(x, min(x + 10, width)) for x in range(1, width - 2, 10)])
    return line, truth


def test_line_pitches_finds_the_glyph_pitch():
    line, _ = sliver_line()
    pitches = line_pitches(line)
    assert pitches and pitches[0] == pytest.approx(PITCH, abs=0.5)
    line.ink = None
    assert line_pitches(line) == []


def test_periodic_cut_reads_whole_glyphs_with_no_reading_to_start_from():
    """One reading per way of cutting the cells; the cut at the gaps reads the 17 glyphs whole
    (the cut around the pieces takes in slivers of the neighbours here)."""
    line, truth = sliver_line()
    hyps = periodic_cut(line, width_scorer, 17, line_index=5)
    assert len(hyps) == 2
    for hyp in hyps:
        assert hyp.line_index == 5 and hyp.penalty == 0.0
        assert len(hyp.crops) == 17 and hyp.boxes.shape == (17, 4)
    whole = [hyp for hyp in hyps if hyp.text == "A" * 17]
    assert len(whole) == 1
    spans = whole[0].spans
    assert ((spans[:, 0] <= truth[:, 0]) & (spans[:, 1] >= truth[:, 1])).all()
    assert (spans[1:, 0] >= truth[:-1, 1]).all()


@pytest.mark.parametrize("start", [0.975, 1.0, 1.025])
def test_grid_pitch_is_refined_to_fall_between_every_glyph(start):
    """17 glyphs at a pitch of 27.4 px: from an autocorrelation's estimate up to 2.5 % off, the
    grid's points between glyphs all fall in the gaps, the last as well as the first (an
    uncorrected 2.5 % puts the 17th point 11 px off, inside a glyph)."""
    pitch, ink, x0 = 27.4, 20, 30
    width = int(x0 + 18 * pitch)
    prof = np.zeros(width)
    lefts = [int(round(x0 + i * pitch)) for i in range(17)]
    for a in lefts:
        prof[a:a + ink] = 30.0
    got, phase = _pitch_and_phase(prof, lefts[0], lefts[-1] + ink, pitch * start, width)
    assert got == pytest.approx(pitch, abs=0.5)
    points = np.round(lefts[0] + phase + got * np.arange(18)).astype(int)
    assert (prof[np.clip(points, 0, width - 1)] == 0).all()


def test_periodic_cut_of_a_line_too_short_for_a_vin():
    line, _ = sliver_line(glyphs=12)
    assert line_pitches(line)
    assert periodic_cut(line, width_scorer, 17) == []
