"""Comb fields: a row of boxes printed on a form, one handwritten character per box.

Registration forms, bills of sale and inspection reports give the VIN a row
of 17 boxes. Their ruling defeats glyph-by-glyph segmentation (the box lines
touch the characters and read as 1s), but it also says exactly where each
character is. :func:`find_comb` looks for such a row around each text line
that segmentation finds; :func:`read_comb` turns one into a
:class:`~vinread.segment.Hypothesis` of one crop per box, scored by the same
classifier as every other reading.

Usage::

    comb = find_comb(image, line)         # line from segment.find_lines
    if comb is not None:
        hyp = read_comb(comb, scorer)
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .images import gray_u8
from .normalize import ink_is_dark
from .segment import STRIP_H, Hypothesis, Line, Scorer, _odd, glyph_log_scores, runs, strip_box

__all__ = ["Comb", "find_comb", "read_comb"]

RULE_COVER = 0.75
"""A column (row) is a box side (top or bottom rule) when ruling covers this fraction of it."""
SIDE_PEAK = 0.1
"""A box side is the columns whose coverage is within this much of the best in their run: a
handwritten stroke that touches the side (an O filling its box) widens the run, and its
inner edge would be taken for the box's."""
CELL_SPREAD = 2.0
"""A row's boxes, along the straight line fitted through their widths, end at most this many
times as wide as they start (perspective narrows a row of boxes towards its far end)."""
CELL_WOBBLE = 0.25
"""Every box is within this fraction of the width that line gives it (a box split in two or two
boxes taken for one are half or twice as wide)."""
RULING_CONTRASTS = (8.0, 3.0)
"""Gray levels below the local mean (above, for light ruling) that make a pixel ruling, tried
in order: a blurred photo's box sides and rules fade under the first and stand out from the
paper only at the second, which also takes more of the paper's grain (and is tried for dark
ruling only)."""
FAINT_PAIRS = 24
"""Most pairs of rules (tallest first) tried at a contrast past the first: in grain or
texture the faint ruling holds hundreds, and a row of boxes is among the first few."""
TALL = 6.0
"""Rows of the resampled frame above and below the line's centre, in glyph heights (the
line may be the row's caption, or the handwriting in it)."""
MIN_RULE = 6.0
"""Shortest top or bottom rule of a row of boxes, in glyph heights."""
MAX_RULE = 0.4
"""Thickest top or bottom rule, in glyph heights."""
RULE_SLOPE = 0.025
"""A rule may climb this many rows per column across the frame: the frame follows the
line's angle, and under perspective a row of boxes runs at a slightly different one than
its caption or its handwriting (half a degree is 4 rows over a shortest rule)."""
MIN_BOX = 0.8
"""Shortest box, in glyph heights of the line (a box holds a character at least as tall
as the line's, or the line is a caption of smaller print)."""
MAX_BOX = 3.5
"""Tallest box, in glyph heights of the line."""
MAX_SIDES = 6
"""Most column runs per box in a row of boxes (its sides and the characters' upright strokes);
a band with more is texture, and the search among them would be slow."""
FILL_GAIN = 0.1
"""How much more of its rows a row of boxes' sides must fill, inside the tallest pair of
rules that holds it, for the inner pair to be taken as its outline."""
MAX_MISSING = 2
"""Box sides a row may lack (glare, a fold, the photo's edge): each is put where the
pitch says, never two in a row nor among the first two."""
PITCH_MEMORY = 4
"""Boxes whose mean width, with the last one's, predicts where the next side is
(:func:`_recent_pitch`): few enough to follow a row that perspective narrows box by box (a
fifth over 17 boxes), enough to pass over one box drawn a little off."""
LOST_NEAR_END = 4
"""A row whose sides were followed to within this many of its end before the track was lost
is followed again from a line fitted through its last sides (:func:`_fitted_pitch`)."""
FIT_SIDES = 8
"""Sides of a row a line is fitted through to predict the next (:func:`_fitted_pitch`): enough
to outweigh one found a little off, few enough to follow a row that perspective narrows."""
WIDER = 30.0
"""Columns added before the line's first and after its last piece, in glyph heights."""
SHEARS = tuple(np.round(np.linspace(-0.3, 0.3, 13), 3))
"""Shears (columns per row) tried to make a row's sides upright (perspective, slanted forms)."""
INSET = 0.03
"""Fraction of a box's height cut off each side of its crop, past the ruling (a pixel or two:
handwriting often touches the box's sides, and a wider cut takes a stroke with it)."""
RULED_EDGE = 0.85
"""A crop's edge row (column) with at least this fraction of its length inked in the ruling is
the box's rule (side) that the perspective fit left in view, and is cut off."""
MAX_RULED = 0.2
"""At most this fraction of a box's height (width) is cut off each edge as ruling."""
RULED_GAP = 0.05
"""Unruled rows (columns) passed over between the edge and a rule, or between two rules, as a
fraction of the box's height (width); at least 3."""


@dataclass
class Comb:
    """A row of boxes, resampled upright.

    Attributes
    ----------
    strip : (S, W) uint8 gray, the frame around the line, upright (the line's glyphs
        :data:`STRIP_H` tall), holding the row of boxes.
    cells : (n, 2) int, each box's inner ``[x0, x1)`` columns in ``strip``, at mid-height.
    shears : (n, 2) float, the lean of each box's left and right side: the side
        at row ``y`` is at column ``x + shear * (y - mid)``, ``mid`` the rows' middle.
    rows : ``(top, bottom)``, the boxes' inner rows in ``strip``.
    polarity : ``"dark"`` or ``"light"`` ruling and ink.
    contrast : the :data:`RULING_CONTRASTS` value the ruling was found at.
    angle : the comb's angle in degrees in the original image.
    strip_to_image : (2, 3) affine map from strip ``(x, y, 1)`` to original ``(x, y)``.
    """

    strip: np.ndarray
    cells: np.ndarray
    shears: np.ndarray
    rows: tuple[int, int]
    polarity: str
    contrast: float
    angle: float
    strip_to_image: np.ndarray

    @property
    def faint(self) -> bool:
        """Whether the row was found only at a lower ruling contrast than the first (where
        grain can line up as box sides)."""
        return self.contrast != RULING_CONTRASTS[0]

    def box(self, x0: int, x1: int) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` in original coordinates of strip columns ``[x0, x1)`` over the rows."""
        return strip_box(self.strip_to_image, x0, x1, *self.rows)


def _rules(ruling: np.ndarray) -> list[tuple[int, int]]:
    """Candidate inner rows ``(top, bottom)`` between two horizontal rules (rows of an upright
    ruling mask (S, W) bool with a long unbroken run of ink), tallest first."""
    # a row holds an unbroken run of ink this long where an erosion as long leaves ink; the
    # rules are thickened first so that one that climbs a little across the frame counts
    length = int(np.ceil(MIN_RULE * STRIP_H))
    if length > ruling.shape[1]:
        return []
    k = max(1, int(np.ceil(RULE_SLOPE * length / 2)))
    u8 = cv2.dilate(ruling.astype(np.uint8), np.ones((2 * k + 1, 1), np.uint8))
    long_run = cv2.erode(u8, np.ones((1, length), np.uint8), anchor=(0, 0),
                         borderType=cv2.BORDER_CONSTANT, borderValue=0).any(axis=1)
    # a rule is thin: a long band of ink is the ground between lines of the other polarity
    # (a thin rule that climbs across the frame spans more rows, but each column few)
    def thin(a: int, z: int) -> bool:
        across = ruling[a:z].sum(axis=0)
        return z - a <= MAX_RULE * STRIP_H or float(np.median(across[across > 0])) <= MAX_RULE * STRIP_H
    rules = [(a, z) for a, z in runs(long_run) if thin(a, z)]
    pairs = []
    for i, (_, t) in enumerate(rules):
        for b, _ in rules[i + 1:]:
            t_in, b_in = int(t) - k, int(b) + k       # undo the thickening
            if MIN_BOX * STRIP_H <= b_in - t_in <= MAX_BOX * STRIP_H:
                pairs.append((t_in, b_in))
    # glyphs' bars joined by the boxes' sides can pass for a rule inside a row of
    # boxes: the tallest pair whose boxes close is the row's outline
    return sorted(pairs, key=lambda tb: tb[0] - tb[1])


NEAR_HALF = 1e-9
""":func:`sheared_cover` moves a row whose shift lies this close to half a column pixel by
pixel (where rounding goes either way), every other row as a whole."""


def sheared_cover(band: np.ndarray, shears) -> np.ndarray:
    """Ink per column of a band (h, W) (ink where not 0) after each horizontal shear about its middle row:
    row ``y``'s pixel in column ``x`` lands in column ``rint(x - k (y - h / 2))``; pixels
    landing off the band are dropped. Returns (len(shears), W) float, the counts over ``h``.

    Every row whose shift rounds the same way for all its pixels is added as a whole
    (runs of rows with one shift at once, from the band's cumulative sums); a row whose
    shift is exactly a half rounds each pixel to the even column (pairs of columns added
    at once); the few whose shift lies within :data:`NEAR_HALF` of a half otherwise are
    moved pixel by pixel. The counts are those of the per-pixel rule to the last one.
    """
    band = (band > 0).astype(np.uint8)
    h, W = band.shape
    shift = np.asarray(shears, np.float64)[:, None] * (np.arange(h) - h / 2)[None, :]
    whole = np.floor(shift)
    frac = shift - whole
    near_half = np.abs(frac - 0.5) < NEAR_HALF
    moves = (whole + (frac > 0.5)).astype(np.int64)     # x - shift rounds to x - moves
    cum = np.zeros((h + 1, W), np.int32)
    np.cumsum(band, axis=0, dtype=np.int32, out=cum[1:])
    cols = np.arange(W)
    pairs = np.zeros((h, W + 1), np.int64)      # pairs[y, x + 1]: ink in columns x and x + 1
    pairs[:, :W] += band
    pairs[:, 1:] += band
    cover = np.zeros((len(shears), W))
    for i in range(len(shears)):
        counts = np.zeros(W, np.int64)
        move, odd = moves[i].tolist(), near_half[i].tolist()
        y = 0
        while y < h:
            if odd[y] and frac[i, y] == 0.5:
                # x - shift is (x - whole) - 1/2 exactly, which rounds to even: columns x and
                # x + 1 with x - whole even both land on x - whole (an even column)
                j = int(whole[i, y])
                a = max(0, -j - 1)
                a += a % 2
                b = min(W - 1, W - j - 1)
                if b >= a:
                    counts[a:b + 1:2] += pairs[y, a + j + 1:b + j + 2:2]
                y += 1
                continue
            if odd[y]:
                to = np.rint(cols - shift[i, y]).astype(np.int64)
                ok = (to >= 0) & (to < W)
                counts += np.bincount(to[ok], weights=band[y, ok], minlength=W).astype(np.int64)
                y += 1
                continue
            z = y + 1
            while z < h and not odd[z] and move[z] == move[y]:
                z += 1
            rows, m = cum[z] - cum[y], move[y]
            if 0 <= m < W:
                counts[:W - m] += rows[m:]
            elif -W < m < 0:
                counts[-m:] += rows[:W + m]
            y = z
        cover[i] = counts / h
    return cover


def _cells(ruling: np.ndarray, rows: tuple[int, int], n: int, core: tuple[int, int],
           end: float = np.inf) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A row of ``n`` boxes in an upright ruling mask (S, W) bool: (n, 2) inner columns at
    mid-height, (n, 2) shears (columns per row) of each box's left and right sides, and the
    median fraction of the rows its sides fill.

    The sides are looked for over the whole width (the line that led here
    may cover only part of the row); among several candidate rows the one
    overlapping ``core`` most is kept. ``end``: the column where the photo ends.
    """
    t, b = rows
    band = cv2.dilate(ruling[t:b].astype(np.uint8), np.ones((1, 3), np.uint8))
    # perspective slants the sides, each by its own amount: a column's coverage is
    # the best over a range of shears about the band's middle (row y shifted by
    # k (y - mid) columns, every ink pixel counted where it lands)
    W = band.shape[1]
    cover = sheared_cover(band, SHEARS)
    wide = cover.max(0)
    lean = np.asarray(SHEARS)[cover.argmax(0)]
    sides = _sides(wide)
    if len(sides) > MAX_SIDES * n:
        return None     # grain or brushed metal: every column is a "side"
    # columns under the top rule and over the bottom rule: every box has both
    m = max(3, int(0.2 * (b - t)))      # the rules may slant a little across the frame
    ruled = (ruling[max(0, t - m):t + m].any(0) & ruling[b - m:b + m].any(0)).astype(np.float64)
    ruled_sum = np.concatenate([[0.0], np.cumsum(ruled)])
    best = None
    for cells, missing in _regular_rows(sides, n, min_pitch=0.3 * (b - t), end=end):
        cells = np.clip(cells, 0, W)
        widths = cells[:, 1] - cells[:, 0]
        if widths.min() < 0.3 * (b - t) or not _even_widths(widths):
            continue
        closed = (ruled_sum[cells[:, 1]] - ruled_sum[cells[:, 0]]) / np.maximum(widths, 1)
        # a box under glare may have lost its rules as well as its sides
        if np.sort(closed)[MAX_MISSING] < 0.5:
            continue
        overlap = min(cells[-1, 1], core[1]) - max(cells[0, 0], core[0])
        key = (-int(missing.sum()), round(float(closed.mean()), 2), overlap)
        if best is None or key > best[0]:
            best = (key, cells, missing)
    if best is None:
        return None
    _, cells, missing = best
    leans = np.stack([lean[np.maximum(cells[:, 0] - 1, 0)], lean[np.minimum(cells[:, 1], W - 1)]], axis=1)
    # a side that is not there has no lean of its own: the row's typical one
    real = np.concatenate([leans[:, 0], leans[-1:, 1]])[~missing]
    leans[missing[:-1], 0] = np.median(real)
    leans[missing[1:], 1] = np.median(real)
    edges = np.concatenate([cells[:, 0] - 1, cells[-1:, 1]])[~missing]
    return cells, leans, float(np.median(wide[np.clip(edges, 0, W - 1)]))


def _sides(cover: np.ndarray) -> list[tuple[int, int]]:
    """Box sides among column coverages (W,) of a band dilated one column each way: each run of
    columns covered at least :data:`RULE_COVER`, narrowed to the columns within
    :data:`SIDE_PEAK` of its best one. Returns ``(first, end)`` columns of each side's ink, the
    dilation undone (``end`` is the first column past the side)."""
    sides = []
    for a, z in runs(cover >= RULE_COVER):
        run = cover[a:z]
        best = int(np.argmax(run))
        c0, c1 = next((p, q) for p, q in runs(run >= run[best] - SIDE_PEAK) if p <= best < q)
        sides.append((a + c0 + 1, max(a + c0 + 1, a + c1 - 1)))
    return sides


def _even_widths(widths: np.ndarray) -> bool:
    """Whether box widths (n,) change evenly along a row: each within :data:`CELL_WOBBLE` of a
    straight line fitted through them, which ends at most :data:`CELL_SPREAD` times as wide
    as it starts (or the other way round)."""
    k = np.arange(len(widths), dtype=np.float64)
    slope, start = np.polyfit(k, widths.astype(np.float64), 1)
    line = start + slope * k
    lo, hi = min(line[0], line[-1]), max(line[0], line[-1])
    return bool(lo > 0 and hi <= CELL_SPREAD * lo and np.all(np.abs(widths - line) <= CELL_WOBBLE * line))


def _recent_pitch(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the next side of each of J rows is expected and the pitch there, from the places
    ``at`` (J, s) of their first ``s`` sides: the mean pitch of the last :data:`PITCH_MEMORY`
    boxes averaged with the last box's (quick to follow a row that perspective narrows box by
    box). Returns two (J,) arrays."""
    recent = at[:, -min(at.shape[1], PITCH_MEMORY + 1):]
    pitch = 0.5 * ((recent[:, -1] - recent[:, 0]) / (recent.shape[1] - 1) + (at[:, -1] - at[:, -2]))
    return at[:, -1] + pitch, pitch


def _fitted_pitch(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the next side of each of J rows is expected and the pitch there, from the places
    ``at`` (J, s) of their first ``s`` sides: a least-squares line through the last
    :data:`FIT_SIDES` of them, each weighing the same (a side found a few columns off does not
    throw the row off its pitch). Returns two (J,) arrays."""
    xs = at[:, -FIT_SIDES:]
    m = xs.shape[1]
    mean_k = (m - 1) / 2
    # running sums over the sides in order: a row's prediction does not depend on the others
    total = np.zeros(len(xs))
    for c in range(m):
        total = total + xs[:, c]
    mean_x = total / m
    moment = np.zeros(len(xs))
    for c in range(m):
        moment = moment + (c - mean_k) * (xs[:, c] - mean_x)
    slope = moment / (m * (m * m - 1) / 12)
    return mean_x + slope * (m - mean_k), slope


def _regular_rows(sides: list[tuple[int, int]], n: int, tolerance: float = 0.2, min_pitch: float = 0.0,
                  max_missing: int = MAX_MISSING, end: float = np.inf):
    """Rows of ``n`` boxes among column runs: ``n + 1`` sides at an even pitch (runs between
    them, a character's upright strokes, are passed over; up to ``max_missing`` sides may be
    absent; the last one only where the photo ends, at column ``end``, as the row may go on
    past it, otherwise a row of ``n - 1`` boxes would pass). Yields ``(cells (n, 2) inner
    columns, missing (n + 1,) bool)``.

    Each next side is looked for where the sides found so far say, in two ways: from the
    last few boxes (:func:`_recent_pitch`, quick to follow a row foreshortened by
    perspective) and, where that loses its track within :data:`LOST_NEAR_END` sides of the
    row's end, again from a line fitted through its last sides (:func:`_fitted_pitch`, steady
    where one side is found a few columns off). Rows whose first box is narrower than
    ``min_pitch`` are not tried. The search is quadratic in the runs (a barcode beside the
    boxes brings hundreds), so all rows are followed at once (:func:`_follow_rows`), each
    step finds the run nearest its expected place by bisection, and a first pitch too long
    for ``n`` boxes to fit (the running pitch shrinks by under half over a row) ends the scan.
    """
    centres = np.array([(a + z) / 2 for a, z in sides], np.float64)
    S = len(centres)
    # every row's first two sides (i, j), in the order they are tried: for each i, the j
    # whose pitch is positive and at least min_pitch, up to the first too long for the row
    firsts = max(0, S - n + max_missing)
    if firsts == 0:
        return
    longest = 2.0 * (centres[-1] - centres[:firsts]) / (n - max_missing)
    pitch = centres[None, :] - centres[:firsts, None]
    later = np.arange(S)[None, :] > np.arange(firsts)[:, None]
    skipped = ~later | (pitch <= 0) | (pitch < min_pitch)
    too_long = ~skipped & (pitch > longest[:, None])
    starts = np.argwhere(~skipped & (np.cumsum(too_long, axis=1) == 0))      # row-major: by i, then j
    if len(starts) == 0:
        return
    chosen, at, length = _follow_rows(centres, starts, n, tolerance, max_missing, end, _recent_pitch)
    # rows lost within LOST_NEAR_END sides of their end are followed again from a fitted line
    lost = np.nonzero((length < n + 1) & (length >= n + 1 - LOST_NEAR_END))[0]
    if len(lost):
        again = _follow_rows(centres, starts[lost], n, tolerance, max_missing, end, _fitted_pitch)
        done = again[2] == n + 1
        chosen[lost[done]], at[lost[done]], length[lost[done]] = again[0][done], again[1][done], n + 1
    for p in np.nonzero(length == n + 1)[0]:
        ks, xs = chosen[p].tolist(), at[p].tolist()
        edges = [sides[k] if k >= 0 else (int(round(x)), int(round(x))) for k, x in zip(ks, xs)]
        yield (np.array([(edges[m][1], edges[m + 1][0]) for m in range(n)], np.int64),
               np.array([k < 0 for k in ks]))


def _follow_rows(centres: np.ndarray, starts: np.ndarray, n: int, tolerance: float, max_missing: int,
                 end: float, predict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow J rows of sides at once from their first two (``starts`` (J, 2) indices into the
    sorted side ``centres``) with ``predict`` (:func:`_recent_pitch` or :func:`_fitted_pitch`),
    as :func:`_regular_rows` says: each next side is the run nearest where the pitch puts it,
    within ``tolerance`` x the pitch, or is put there, missing. Returns (chosen (J, n + 1)
    side indices, -1 where missing; at (J, n + 1) their places; length (J,) how many sides
    each row reached before it was lost)."""
    J, S = len(starts), len(centres)
    chosen = np.full((J, n + 1), -1, np.int64)
    at = np.zeros((J, n + 1), np.float64)
    chosen[:, :2] = starts
    at[:, :2] = centres[starts]
    length = np.full(J, 2, np.int64)
    missing = np.zeros(J, np.int64)
    last = starts[:, 1].copy()              # each row's last side found
    alive = np.arange(J)
    for s in range(2, n + 1):
        if len(alive) == 0:
            break
        want, pitch = predict(at[alive, :s])
        k = np.searchsorted(centres, want, side="left")
        before, after = np.maximum(k - 1, 0), np.minimum(k, S - 1)
        # the nearest side (the one before on a tie)
        k = np.where((k > 0) & ((k == S) | (want - centres[before] <= centres[after] - want)), before, after)
        found = (np.abs(centres[k] - want) <= tolerance * pitch) & (k > last[alive])
        put = ~found & (chosen[alive, s - 1] >= 0) & (missing[alive] < max_missing) & \
            ((s < n) | (want >= end - 0.15 * pitch))
        chosen[alive[found], s] = k[found]
        last[alive[found]] = k[found]
        at[alive[found], s] = centres[k[found]]
        at[alive[put], s] = want[put]
        missing[alive[put]] += 1
        alive = alive[found | put]
        length[alive] = s + 1
    return chosen, at, length


def _ruling(strip: np.ndarray, polarity: str, contrast: float = RULING_CONTRASTS[0]) -> np.ndarray:
    """(S, W) bool ink of an upright comb strip, ``contrast`` gray levels past the local mean:
    thin rules survive (no blur, small block)."""
    src = strip if polarity == "dark" else 255 - strip
    block = _odd(STRIP_H / 3)
    return cv2.adaptiveThreshold(src, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, contrast) > 0


def find_comb(image: np.ndarray, line: Line, n: int = 17) -> Comb | None:
    """The row of ``n`` boxes around a text line, if the line's characters sit in one.

    Parameters
    ----------
    image : the image the line was found in (gray, BGR or BGRA; gray saves a conversion).
    line : a :class:`~vinread.segment.Line` from :func:`~vinread.segment.find_lines`.
    n : number of boxes the row must have.

    The line's upright frame is resampled again, taller and wider, so that the
    boxes' top and bottom rules and the row's end boxes are in view; the line
    may be the characters in the boxes or a caption just above or below them.
    """
    if len(line.pieces) == 0:
        return None
    gray = gray_u8(image)
    mid = (line.band[0] + line.band[1]) / 2
    pad_y = int(TALL * STRIP_H)
    pad_x = int(WIDER * STRIP_H)
    x0, x1 = int(line.pieces[0, 0]) - pad_x, int(line.pieces[-1, 1]) + pad_x
    y0 = int(mid) - pad_y
    M = line.strip_to_image.astype(np.float64).copy()
    M[:, 2] += M[:, 0] * x0 + M[:, 1] * y0
    strip = cv2.warpAffine(gray, M, (x1 - x0, 2 * pad_y), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_AREA,
                           borderMode=cv2.BORDER_REPLICATE)
    core = (int(line.pieces[0, 0]) - x0, int(line.pieces[-1, 1]) - x0)
    # where the photo ends along the row (the strip's ends replicate its border): the last
    # column of the middle row whose nearest source pixel is in the photo
    cols = np.arange(x1 - x0)
    src_x, src_y = (np.rint(M[:, 0:1] * cols + M[:, 1:2] * pad_y + M[:, 2:3]))
    inside = (src_x >= 0) & (src_x < gray.shape[1]) & (src_y >= 0) & (src_y < gray.shape[0])
    end = float(cols[inside].max()) if inside.any() else np.inf
    # the ruling tells the ink's polarity (a line may have been found between the glyphs);
    # faint ruling (blur, pale print) is looked for only where the plain one finds no row, and
    # only dark on light: faint light "ruling" is the paper between dark lines of text
    tries = [(RULING_CONTRASTS[0], "dark"), (RULING_CONTRASTS[0], "light")] + \
        [(c, "dark") for c in RULING_CONTRASTS[1:]]
    for contrast, polarity in tries:
        ruling = _ruling(strip, polarity, contrast)
        pairs = _rules(ruling)
        for rows in pairs if contrast == RULING_CONTRASTS[0] else pairs[:FAINT_PAIRS]:
            found = _cells(ruling, rows, n, core, end)
            if found is None or not _ground_fits(strip, rows, found[0], polarity):
                continue
            # the tallest pair of rules can hold a caption above the boxes (the sides stop
            # short of its top rule): a pair inside it whose rows the sides fill is the row
            for inner in pairs:
                if inner != rows and rows[0] <= inner[0] and inner[1] <= rows[1]:
                    better = _cells(ruling, inner, n, core, end)
                    if better is not None and better[2] >= found[2] + FILL_GAIN and \
                            _ground_fits(strip, inner, better[0], polarity):
                        rows, found = inner, better
                        break
            return Comb(strip, found[0], found[1], rows, polarity, contrast, line.angle, M)
    return None


def _ground_fits(strip: np.ndarray, rows: tuple[int, int], cells: np.ndarray, polarity: str) -> bool:
    """Inside the boxes the ground is the majority: light ruling has dark ground (the gaps
    between dark text lines, taken for light rules, have text inside)."""
    return ink_is_dark(strip[rows[0]:rows[1], cells[0, 0]:cells[-1, 1]]) == (polarity == "dark")


def _ruled_edges(rules: np.ndarray) -> tuple[int, int, int, int]:
    """Rows (top, bottom) and columns (left, right) to cut off a box crop's edges: the runs of
    rows and columns from each edge inward that the ruling mask (H, W) bool mostly covers."""
    h, w = rules.shape
    rows, cols = rules.mean(1), rules.mean(0)

    def run(cover, size):
        # ruled rows from the edge in, each at most `gap` past the last (a rule a few pixels in
        # from the edge, a doubled one), up to MAX_RULED of the size; one more row past the last
        gap = max(3, int(round(RULED_GAP * size)))
        last = -1
        for j in range(max(1, int(MAX_RULED * size))):
            if cover[j] >= RULED_EDGE:
                last = j
            elif j - last > gap:
                break
        return last + 2 if last >= 0 else 0
    return run(rows, h), run(rows[::-1], h), run(cols, w), run(cols[::-1], w)


def _box_crop(comb: Comb, ruling: np.ndarray, i: int) -> np.ndarray:
    """Box ``i`` of a comb, its slanted sides and local rules made upright, inset past the ruling
    and cut past any rule still at its edges (:func:`_ruled_edges`)."""
    t, b = comb.rows
    mid = (t + b) / 2
    (x0, x1), (k0, k1) = comb.cells[i], comb.shears[i]
    h = b - t
    # the rules where this box is: the most inked rows near the row's top and bottom rules
    win = max(2, int(0.2 * h))
    ink = ruling[:, int(x0):int(x1)].mean(1)
    top = t - win + int(np.argmax(ink[max(0, t - win):t + win])) + 1 if t >= win else t
    bottom = b - win + int(np.argmax(ink[b - win:b + win]))
    if bottom - top < 0.5 * h:
        top, bottom = t, b
    quad = np.float32([[x0 + k0 * (top - mid), top], [x1 + k1 * (top - mid), top],
                       [x1 + k1 * (bottom - mid), bottom], [x0 + k0 * (bottom - mid), bottom]])
    w, hh = int(x1 - x0), int(bottom - top)
    P = cv2.getPerspectiveTransform(quad, np.float32([[0, 0], [w, 0], [w, hh], [0, hh]]))
    box = cv2.warpPerspective(comb.strip, P, (w, hh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rules = cv2.warpPerspective(ruling.astype(np.uint8), P, (w, hh), flags=cv2.INTER_NEAREST,
                                borderMode=cv2.BORDER_REPLICATE) > 0
    m = max(1, int(round(INSET * hh)))
    t0, b0, l0, r0 = _ruled_edges(rules)
    return np.ascontiguousarray(box[max(m, t0):hh - max(m, b0), max(m, l0):w - max(m, r0)])


def read_comb(comb: Comb, scorer: Scorer, line_index: int = -1) -> Hypothesis:
    """One crop per box, inset past the ruling, scored in one batch: a :class:`Hypothesis`."""
    ruling = _ruling(comb.strip, comb.polarity, comb.contrast)
    crops = [_box_crop(comb, ruling, i) for i in range(len(comb.cells))]
    probs, glyph = scorer(crops, comb.polarity)
    probs = np.asarray(probs, np.float64)
    glyph = np.asarray(glyph, np.float64).reshape(-1)
    score = float(glyph_log_scores(probs, glyph).sum())
    return Hypothesis(
        boxes=np.array([comb.box(int(a), int(c)) for a, c in comb.cells], np.int32),
        crops=crops, polarity=comb.polarity, score=score, line_index=line_index,
        probs=probs, glyphness=glyph, spans=comb.cells.astype(np.int32), penalty=0.0)
