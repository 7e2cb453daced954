"""Tests of the comb-field stage (vinread.comb): a form's row of 17 boxes, one character each."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from vinread.comb import RULING_CONTRASTS, find_comb, read_comb
from vinread.segment import find_lines

VIN = "1HGCM82633A004352"
FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_form(cell: int = 40, box_h: int = 52, angle: float = 0.0, slant: float = 0.0,
              caption: bool = True, boxes: int = 17, widths=None, ruling: int = 40):
    """A white form with a caption and a row of ``boxes`` boxes holding VIN characters
    (each ``cell`` wide, or as ``widths`` says; the box lines in gray level ``ruling``).

    Returns the gray image and the centre (x, y) of each character's box.
    """
    widths = [cell] * boxes if widths is None else list(widths)
    sides = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    W, H = 60 + sides[-1] + 60, 260
    img = np.full((H, W), 245, np.uint8)
    x0, y0 = 60, 120
    if caption:
        cv2.putText(img, "VEHICLE IDENTIFICATION NUMBER", (x0, y0 - 20), FONT, 0.8, 30, 2, cv2.LINE_AA)
    cv2.rectangle(img, (x0, y0), (x0 + sides[-1], y0 + box_h), ruling, 1)
    for x in sides[1:-1]:
        cv2.line(img, (x0 + x, y0), (x0 + x, y0 + box_h), ruling, 1)
    centres = []
    for i, ch in enumerate(VIN[:len(widths)]):
        cx, cy = x0 + (sides[i] + sides[i + 1]) // 2, y0 + box_h // 2
        cv2.putText(img, ch, (cx - 11, cy + 14), FONT, 1.1, 20, 3, cv2.LINE_AA)
        centres.append((cx, cy))
    if slant:   # perspective-like lean of the sides
        M = np.float32([[1, slant, -slant * (y0 + box_h / 2)], [0, 1, 0]])
        img = cv2.warpAffine(img, M, (W, H), borderValue=245)
    if angle:
        R = cv2.getRotationMatrix2D((W / 2, H / 2), angle, 1.0)
        img = cv2.warpAffine(img, R, (W, H), borderValue=245)
        centres = [tuple(R @ np.array([x, y, 1.0])) for x, y in centres]
    return img, np.array(centres)


def combs_of(img):
    out = []
    for line in find_lines(img):
        comb = find_comb(img, line)
        if comb is not None:
            out.append(comb)
    return out


@pytest.mark.parametrize("angle,slant", [(0.0, 0.0), (4.0, 0.0), (-3.0, 0.1)])
def test_finds_the_17_boxes_in_order(angle, slant):
    img, centres = draw_form(angle=angle, slant=slant)
    combs = combs_of(img)
    assert combs, "no row of boxes found"
    comb = combs[0]
    assert comb.cells.shape == (17, 2)
    assert comb.polarity == "dark"
    for (x, y, w, h), (cx, cy) in zip((comb.box(int(a), int(b)) for a, b in comb.cells), centres):
        assert x <= cx <= x + w and y <= cy <= y + h
    widths = comb.cells[:, 1] - comb.cells[:, 0]
    assert widths.max() <= 1.45 * widths.min()


def test_a_row_foreshortened_by_perspective_is_found():
    # boxes widen evenly from 36 to 60 pixels along the row, as a form photographed at an angle
    img, centres = draw_form(widths=np.linspace(36, 60, 17).round())
    combs = combs_of(img)
    assert combs and combs[0].cells.shape == (17, 2)
    assert _boxes_hold(combs[0], centres)


def test_boxes_of_uneven_widths_are_not_a_vin_field():
    # 17 boxes, narrow and wide in turn: not one row of boxes that perspective narrows evenly
    img, _ = draw_form(widths=[28, 52] * 8 + [28])
    assert combs_of(img) == []


def test_faint_blurred_ruling_is_found_at_the_lower_contrast():
    # pale box lines on a blurred photo: under the first contrast the rules fade into the paper
    img, centres = draw_form(ruling=205)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    held = [c for c in combs_of(img) if c.cells.shape == (17, 2) and _boxes_hold(c, centres)]
    assert held and all(c.contrast == RULING_CONTRASTS[-1] < RULING_CONTRASTS[0] and c.faint for c in held)
    # the same form in sharp dark ruling is found at the first contrast
    sharp = combs_of(draw_form()[0])[0]
    assert sharp.contrast == RULING_CONTRASTS[0] and not sharp.faint


def test_a_character_filling_its_box_keeps_the_box_whole():
    # a handwritten O drawn to the box's sides: its outer stroke beside a side is not the side
    img, centres = draw_form(caption=False)
    x0, y0, cell, box_h = 60, 120, 40, 52
    i = 5
    img[y0 + 2:y0 + box_h - 1, x0 + i * cell + 1:x0 + (i + 1) * cell] = 245    # clear the box
    cv2.ellipse(img, (x0 + i * cell + cell // 2, y0 + box_h // 2), (cell // 2 - 3, box_h // 2 - 6),
                0, 0, 360, 20, 3, cv2.LINE_AA)
    combs = combs_of(img)
    assert combs and combs[0].cells.shape == (17, 2)
    widths = combs[0].cells[:, 1] - combs[0].cells[:, 0]
    assert abs(int(widths[i]) - int(np.median(widths))) <= 2
    crop = read_comb(combs[0], lambda crops, pol: (np.full((len(crops), 33), 1 / 33), np.ones(len(crops)))).crops[i]
    # both sides of the O are in the crop
    third = crop.shape[1] // 3
    assert (crop[:, :third] < 128).any() and (crop[:, -third:] < 128).any()


def test_a_row_of_16_boxes_is_not_a_vin_field():
    img, _ = draw_form(boxes=16)
    assert combs_of(img) == []


def test_text_without_boxes_is_not_a_comb():
    img = np.full((200, 900), 245, np.uint8)
    cv2.putText(img, VIN, (40, 110), FONT, 1.4, 20, 3, cv2.LINE_AA)
    cv2.line(img, (30, 130), (870, 130), 40, 1)          # an underline is one rule, not two
    assert combs_of(img) == []


def test_read_comb_gives_one_crop_per_box_to_the_scorer():
    img, _ = draw_form()
    comb = combs_of(img)[0]
    seen = {}

    def scorer(crops, polarity):
        seen["n"], seen["polarity"] = len(crops), polarity
        seen["dark"] = [float((c < 128).mean()) for c in crops]
        p = np.full((len(crops), 33), 1 / 33)
        return p, np.ones(len(crops))

    hyp = read_comb(comb, scorer, line_index=3)
    assert seen["n"] == 17 and seen["polarity"] == "dark"
    # every crop holds its character's ink but not the box's sides (inset past the ruling)
    assert min(seen["dark"]) > 0.03
    for crop in hyp.crops:
        assert (crop[:, :2] < 128).mean() < 0.5 and (crop[:, -2:] < 128).mean() < 0.5
    assert hyp.boxes.shape == (17, 4) and hyp.line_index == 3


def test_finds_the_boxes_of_generated_forms():
    """Handwritten form scenes (perspective, lighting, other fields and rules around)."""
    scenes = pytest.importorskip("train.scenes", reason="train.scenes not available")
    hits = 0
    for seed in range(1000, 1006):
        sc = scenes.render_scene("handwritten", seed, variant=None)
        comb = next((c for c in (find_comb(sc.image, line) for line in find_lines(sc.image)[:10])
                     if c is not None), None)
        if comb is None:
            continue
        boxes = [comb.box(int(a), int(b)) for a, b in comb.cells]
        centres = [(x + w / 2, y + h / 2) for x, y, w, h in sc.boxes]
        hits += all(x <= cx <= x + w and y <= cy <= y + h
                    for (x, y, w, h), (cx, cy) in zip(boxes, centres))
    assert hits >= 5


def _boxes_hold(comb, centres):
    boxes = [comb.box(int(a), int(b)) for a, b in comb.cells]
    return all(x <= cx <= x + w and y <= cy <= y + h for (x, y, w, h), (cx, cy) in zip(boxes, centres))


def test_a_box_side_lost_to_glare_is_put_where_the_pitch_says():
    img, centres = draw_form()
    # glare washes out the side between boxes 8 and 9 and the rules above and below it
    x = 60 + 8 * 40
    img[118:175, x - 12:x + 12] = 245
    combs = combs_of(img)
    assert combs and combs[0].cells.shape == (17, 2)
    assert _boxes_hold(combs[0], centres)


def test_a_row_cut_by_the_photo_edge_is_still_found():
    img, centres = draw_form()
    cut = img[:, :60 + 17 * 40 - 4]          # the last box's right side is past the edge
    combs = combs_of(cut)
    assert combs and combs[0].cells.shape == (17, 2)
    assert _boxes_hold(combs[0], centres)


def test_the_gaps_between_text_lines_are_not_a_light_ruled_row():
    img = np.full((300, 1000), 245, np.uint8)
    for i, y in enumerate((60, 110, 160, 210)):
        cv2.putText(img, "ABCDEFGHJKLMNPRSTUVW"[i:i + 17], (40, y), FONT, 1.2, 30, 2, cv2.LINE_AA)
    assert [c for c in combs_of(img) if c.polarity == "light"] == []


def test_a_caption_ruled_off_above_the_boxes_is_not_taken_into_them():
    img, centres = draw_form(caption=False)
    # a small caption just above the boxes, ruled off above: the rule and the boxes' bottom
    # make a pair that the boxes' sides fill three quarters of
    cv2.line(img, (60, 104), (60 + 17 * 40, 104), 40, 1)
    cv2.putText(img, "VEHICLE IDENTIFICATION NUMBER", (62, 116), FONT, 0.35, 30, 1, cv2.LINE_AA)
    combs = combs_of(img)
    assert combs and combs[0].cells.shape == (17, 2)
    x, y, w, h = combs[0].box(*combs[0].cells[0])
    assert y >= 120 - 4 and y + h <= 120 + 52 + 4          # the boxes' own rules, not the caption's



def test_rules_that_climb_across_the_frame_still_frame_a_row():
    """Under perspective the row's rules run at a slightly other angle than the caption the
    frame was levelled on: over a long row a thin rule climbs across more rows than a rule is
    thick, yet in each column it stays thin (the ground between text lines does not)."""
    from vinread.comb import _rules
    from vinread.segment import STRIP_H

    W, S = 1700, 12 * STRIP_H
    ruling = np.zeros((S, W), bool)
    for y0 in (200, 320):                       # top and bottom rule, 3 rows thick
        for x in range(W):
            y = int(round(y0 + 0.011 * x))      # 19 rows of climb over the row
            ruling[y:y + 3, x] = True
    pairs = _rules(ruling)
    assert any(abs(t - 203) <= 24 and abs(b - 320) <= 24 for t, b in pairs), pairs
    ground = np.zeros((S, W), bool)
    ground[150:190] = True                      # a band of ground, 1 glyph height thick
    ground[320:323] = True
    assert _rules(ground) == []


def test_a_row_whose_boxes_narrow_is_followed_past_a_stroke_beside_a_side():
    """Perspective narrows a row's boxes one by one (here by a quarter over the row); a bold
    character's stroke just inside a box's side is passed over, not taken for the side."""
    from vinread.comb import _regular_rows

    widths = np.linspace(100, 75, 17)
    edges = np.concatenate([[1000.0], 1000 + np.cumsum(widths)])
    sides = [(int(e) - 3, int(e) + 3) for e in edges]
    stroke = int(edges[10] + 7)                  # a W's stroke 7 px right of the 11th side
    sides.append((stroke - 2, stroke + 2))
    sides.sort()
    rows = list(_regular_rows(sides, 17))
    assert rows, "no row followed"
    cells, missing = rows[0]
    assert not missing.any()
    assert np.allclose(cells[:, 0], edges[:-1] + 3, atol=1) and np.allclose(cells[:, 1], edges[1:] - 3, atol=1)


def test_a_row_whose_sides_are_found_a_few_columns_off_keeps_its_pitch():
    """The column runs of a generated low-resolution form (17 boxes, a pitch of about 41):
    sides widened by the strokes touching them pull the pitch of the last boxes off, and a
    stroke beside a side sits nearer where they say the side is. A line fitted through the
    last sides still follows the row to its end; the last boxes' pitch alone drifts onto the
    strokes and loses the row two sides before its end."""
    from vinread.comb import _regular_rows

    sides = [(1191, 1196), (1235, 1240), (1251, 1258), (1276, 1279), (1287, 1294), (1297, 1297),
             (1304, 1310), (1317, 1321), (1337, 1336), (1339, 1338), (1341, 1340), (1343, 1342),
             (1356, 1360), (1381, 1380), (1398, 1402), (1425, 1424), (1427, 1426), (1429, 1428),
             (1438, 1441), (1450, 1456), (1480, 1486), (1507, 1506), (1509, 1508), (1518, 1522),
             (1531, 1530), (1533, 1532), (1559, 1563), (1576, 1576), (1579, 1578), (1585, 1588),
             (1600, 1604), (1623, 1622), (1641, 1646), (1675, 1674), (1683, 1687), (1709, 1708),
             (1711, 1710), (1713, 1712), (1715, 1714), (1724, 1728), (1737, 1736), (1739, 1740),
             (1749, 1748), (1751, 1750), (1767, 1775), (1791, 1792), (1795, 1794), (1808, 1810),
             (1813, 1816), (1819, 1818), (1849, 1853), (1861, 1865), (1879, 1882), (1885, 1884),
             (1890, 1893), (1931, 1935), (2006, 2010)]
    rows = list(_regular_rows(sides, 17, min_pitch=13.5))
    assert any(cells[0, 0] == 1240 and cells[-1, 1] == 1931 and not missing.any()
               for cells, missing in rows), [(c[0, 0], c[-1, 1]) for c, _ in rows]


def _cover_pixel_by_pixel(band, shears):
    """sheared_cover's rule applied to every ink pixel on its own."""
    h, W = band.shape
    ys, xs = np.nonzero(band)
    cover = np.zeros((len(shears), W))
    for i, k in enumerate(shears):
        to = np.rint(xs - k * (ys - h / 2)).astype(np.int64)
        ok = (to >= 0) & (to < W)
        cover[i] = np.bincount(to[ok], minlength=W)[:W] / h
    return cover


@pytest.mark.parametrize("h", [5, 20, 21, 40, 78, 79])
def test_sheared_cover_counts_every_pixel_where_it_lands(h):
    """Rows moved whole and rows moved pixel by pixel (shifts of exactly or nearly half a
    column, which round by the column's parity) give the per-pixel counts exactly."""
    from vinread.comb import SHEARS, sheared_cover

    rng = np.random.default_rng(h)
    band = (rng.random((h, 301)) < 0.3).astype(np.uint8)
    band[:, rng.integers(0, 301, 12)] = 1        # sides
    shears = SHEARS + (0.25, -0.5, 0.1 + 1e-12, 1 / 3)
    assert np.array_equal(sheared_cover(band, shears), _cover_pixel_by_pixel(band, shears))
    assert np.array_equal(sheared_cover(band * 255, shears), _cover_pixel_by_pixel(band, shears))


def test_ruled_edges_cuts_off_the_rules_left_in_a_box_crop_but_not_a_glyph_bar():
    from vinread.comb import _ruled_edges

    rules = np.zeros((40, 30), bool)
    rules[0:2, :] = True                    # the top rule, two rows thick
    rules[:, 28] = True                     # the right side, one column in from the edge
    rules[36, 4:25] = True                  # a glyph's base bar, 70 % of the width, near the bottom
    top, bottom, left, right = _ruled_edges(rules)
    assert top == 3 and right == 3          # the rules, the gap beside one, and a pixel past
    assert bottom == 0 and left == 0        # the bar is the character's own


def test_a_box_crop_leaves_out_the_box_s_rules_where_the_sides_were_found_off():
    """The sides found a few columns outside the drawn ones (a thick or doubled side): the
    crop's edges still hold the ruling, which is cut off rather than read as a stroke (a 1
    with a rule over it reads as a T)."""
    img, _ = draw_form()
    comb = combs_of(img)[0]
    comb.cells = comb.cells + np.array([-8, 8])       # each box taken 8 columns too wide
    crops = []

    def scorer(cs, polarity):
        crops.extend(cs)
        return np.full((len(cs), 33), 1 / 33), np.ones(len(cs))

    read_comb(comb, scorer)
    for crop in crops:
        assert (crop[:, 0] < 128).mean() < 0.5 and (crop[:, -1] < 128).mean() < 0.5
        assert (crop[0] < 128).mean() < 0.5 and (crop[-1] < 128).mean() < 0.5
