"""Choosing among readings: what may be reported at all."""
from __future__ import annotations

import numpy as np
import pytest

from vinread.alphabet import ALPHABET, NUM_CLASSES
from vinread.search import KNOWN_WMI_BONUS, MAX_TAIL_LETTERS, score_reading
from vinread.vin import tail_letters


def one_hot(text: str, p: float = 0.98) -> np.ndarray:
    probs = np.full((len(text), NUM_CLASSES), (1 - p) / (NUM_CLASSES - 1))
    probs[np.arange(len(text)), [ALPHABET.index(c) for c in text]] = p
    return probs


@pytest.mark.parametrize("text,plausible", [
    ("1HGCM82633A004352", True),     # a North American VIN, check digit holds
    ("WVGZZZ5NZUW069297", True),     # European, no check digit
    ("WVGZZZ5NZUW06929B", True),     # one misread letter in the serial number
    ("VEHCLEREGSTRAT10N", False),    # a form's heading read without its I's
    ("T0NF0RCERTFCATE0F", False),
])
def test_readings_with_words_for_a_serial_are_not_reported(text, plausible):
    assert (tail_letters(text) <= MAX_TAIL_LETTERS) == plausible
    score, ok = score_reading(one_hot(text), np.full(17, 0.95))
    assert ok == plausible
    assert np.isfinite(score)


def test_unlikely_characters_are_not_reported():
    probs = one_hot("1HGCM82633A004352", p=0.3)
    assert not score_reading(probs, np.full(17, 0.95))[1]
    assert not score_reading(one_hot("1HGCM82633A004352"), np.full(17, 0.3))[1]


def test_a_reading_that_begins_with_a_known_manufacturer_code_scores_higher():
    """W read as VV and 00 as M keeps 17 glyphs, but 'XVV' is no manufacturer's code, 'XWE' is."""
    glyph = np.full(17, 0.95)
    right, _ = score_reading(one_hot("XWEKN814DK0005681"), glyph)
    rival, _ = score_reading(one_hot("XVVEKN814DKM05681"), glyph)
    assert right - rival == pytest.approx(KNOWN_WMI_BONUS)


@pytest.mark.parametrize("apart,second,named", [(True, "1HGCM82633A004352", True),
                                                (False, "1HGCM82633A004352", False),
                                                (True, "1111111J111111111", False)])
def test_another_vin_is_one_read_elsewhere_in_the_photo(monkeypatch, apart, second, named):
    """Two lines reading different valid VINs: in two places of the photo they are two VINs
    (a warning names the other); in one place they are two binarisations of one row, rival
    readings of the same VIN (no warning, and their disagreement lowers its probabilities).
    A row of strokes read as 1111111J111111111 (its check digit holds, no manufacturer has
    that code) is named nowhere."""
    from types import SimpleNamespace

    import vinread.search as search
    from vinread.correct import choose_vin
    from vinread.vin import is_valid

    vins = ("1M8GDM9AXKP042788", second)
    assert is_valid(second)
    boxes = np.array([[40 + 30 * i, 60, 24, 40] for i in range(17)])
    other_boxes = boxes + ([0, 200, 0, 0] if apart else [2, 3, 0, 0])
    found = [search.Candidate(one_hot(vins[0]), np.ones(17), boxes, 0.0, -1.0, 0, crops=[]),
             search.Candidate(one_hot(vins[1]), np.ones(17), other_boxes, 0.0, -2.0, 1, crops=[])]
    monkeypatch.setattr(search, "candidates", lambda image, scorer, line_angles=None, stop=None: list(found))
    reader = SimpleNamespace(score_crops=None)
    best = search.best_hypothesis(np.zeros((400, 700), np.uint8), reader)
    assert choose_vin(best.probs).vin == vins[0]
    warned = [w for w in best.warnings if w.startswith("another VIN")]
    differ = [i for i in range(17) if vins[0][i] != vins[1][i]]
    if apart:
        assert warned == ([f"another VIN is also in the image: {vins[1]}"] if named else [])
        assert best.probs[differ].max(1).min() > 0.97
    else:
        assert warned == []
        assert best.probs[differ].max(1).max() < 0.8


@pytest.mark.parametrize("first_sure", [True, False])
def test_only_readings_not_sure_as_read_are_read_again_in_views(monkeypatch, first_sure):
    """A reading sure as read (every character probable, its check digit holding) is reported
    as read; a rival within the window that is not sure is read again in views, and so is the
    best reading when it is not sure."""
    from types import SimpleNamespace

    import vinread.search as search

    boxes = np.array([[40 + 30 * i, 60, 24, 40] for i in range(17)])
    crops = [np.full((40, 24), 200, np.uint8) for _ in range(17)]
    first = one_hot("1HGCM82633A004352", 0.999 if first_sure else 0.6)
    found = [search.Candidate(first, np.ones(17), boxes, 0.0, -1.0, 0, crops=crops, polarity="dark"),
             search.Candidate(one_hot("1HGCM82633A004352", 0.6), np.ones(17), boxes, 0.0, -2.0, 1,
                              crops=crops, polarity="light")]
    monkeypatch.setattr(search, "candidates", lambda image, scorer, line_angles=None, stop=None: list(found))
    viewed = []

    def score_views(cs, polarity):
        viewed.append(polarity)
        return one_hot("1HGCM82633A004352", 0.9), np.ones(len(cs))
    reader = SimpleNamespace(score_crops=None, score_views=score_views)
    search.best_hypothesis(np.zeros((400, 700), np.uint8), reader)
    assert viewed == (["light"] if first_sure else ["dark", "light"])


@pytest.mark.parametrize("text,sure,by_maker", [
    ("1HGCM82633A004352", True, True),      # check digit holds
    ("1HGCM82643A004352", False, False),    # North American, its mandatory check digit fails
    ("XWEKU814DEC000903", False, True),     # Russian Kia: optional check digit fails, a known maker
    ("WVGZZZ5NZUW069297", False, True),     # the same for a Volkswagen
    ("WVGZZZ5NZUW06929A", False, False),    # ... but a letter where the serial is numeric
    ("ZZ9ZZZ5NZUW069297", False, False),    # European, optional check digit fails, no maker known
    ("GAWRRR1161KGC2559", False, False),    # a label's "GAWR 1161KG" line read as 17 glyphs
])
def test_only_a_reading_whose_check_digit_holds_ends_the_search(text, sure, by_maker):
    """A sure reading stops the search for other lines: a valid-looking string from a label's
    other text, read with every character at 0.999, must not stop it before the VIN's line.
    Where the check digit is optional, a known manufacturer (WMI) says which line is the VIN
    (``known_maker``), not that its characters are right."""
    from vinread.search import is_sure

    probs, glyph = one_hot(text, 0.999), np.ones(len(text))
    assert is_sure(probs, glyph) is sure
    assert is_sure(probs, glyph, known_maker=True) is by_maker


def test_a_vin_known_by_its_maker_narrows_the_search_to_its_own_row(monkeypatch):
    """A European VIN read clearly (its optional check digit failing, its maker known) ends the
    reading of the label's other lines and the search for boxes, but its own row is read again
    through the other binarisations and the fallback passes; with a check digit that holds
    the search ends there."""
    from types import SimpleNamespace

    import vinread.search as search

    def line(y, height=30.0):
        quad = np.array([[0, y], [400, y], [400, y + height], [0, y + height]], np.float64)
        return SimpleNamespace(y=y, height=height, angle=0.0, pieces=np.zeros((20, 2)), quad=quad)

    def run(vin):
        rows = {"threshold": [line(100), line(300), line(500)], "dots": [line(101), line(700)],
                "dense": [line(102)]}
        read, combs = [], []
        monkeypatch.setattr(search, "_line_quad", lambda ln: ln.quad)
        monkeypatch.setattr(search, "_vin_pieces", lambda ln: 17)
        monkeypatch.setattr(search, "find_lines", lambda image, passes: rows[passes[0]])
        monkeypatch.setattr(search, "find_comb", lambda gray, ln, n: combs.append(ln.y))
        monkeypatch.setattr(search, "regular_recut", lambda ln, hyp, scorer: None)
        monkeypatch.setattr(search, "periodic_cut", lambda *a, **k: [])

        def decode(ln, scorer, n, top, line_index):
            read.append(ln.y)
            text = vin if ln.y in (100, 101) else "GAWRRR1161KGC2559"
            spans = np.array([[20 * i, 20 * i + 15] for i in range(17)])
            return [SimpleNamespace(probs=one_hot(text, 0.999), glyphness=np.ones(17), spans=spans,
                                    boxes=np.zeros((17, 4)), crops=[], polarity="dark", penalty=0.0)]
        monkeypatch.setattr(search, "decode_line", decode)
        found = search.candidates(np.zeros((800, 400), np.uint8), None)
        return read, combs, found

    read, combs, found = run("WVGZZZ5NZUW069297")
    assert read == [100, 101] and combs == []
    assert "".join("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"[k] for k in found[0].probs.argmax(1)) == \
        "WVGZZZ5NZUW069297"
    read, combs, _ = run("ZZ9ZZZ5NZUW069297")          # no maker known: every line, every pass
    assert read == [100, 300, 500, 101, 700] and combs
    read, _, _ = run("1HGCM82633A004352")              # check digit holds: a second look only
    assert read[0] == 100 and 101 not in read


def test_a_row_of_boxes_found_only_in_faint_ruling_gets_no_bonus(monkeypatch):
    """A row of boxes found at the first ruling contrast outscores the line reading of the same
    characters by COMB_BONUS; one found only at a lower contrast (where grain can pass for box
    sides) by FAINT_COMB_BONUS, which is less."""
    from types import SimpleNamespace

    import vinread.search as search
    from vinread.comb import RULING_CONTRASTS

    vin = "ZZ9ZZZ5NZUW069297"       # no maker known, no check digit: the line stays unsure
    spans = np.array([[20 * i, 20 * i + 15] for i in range(17)])
    quad = np.array([[0, 100], [400, 100], [400, 130], [0, 130]], np.float64)
    line = SimpleNamespace(y=100, height=30.0, angle=0.0, pieces=np.zeros((20, 2)), quad=quad)

    def hyp():
        return SimpleNamespace(probs=one_hot(vin, 0.99), glyphness=np.ones(17), spans=spans,
                               boxes=np.zeros((17, 4)), crops=[], polarity="dark", penalty=0.0)

    def scores(contrast):
        comb = SimpleNamespace(contrast=contrast, faint=contrast != RULING_CONTRASTS[0], cells=np.array([[0, 20]]), rows=(0, 30),
                               box=lambda a, b: (a, 0, b - a, 30))
        monkeypatch.setattr(search, "_line_quad", lambda ln: ln.quad)
        monkeypatch.setattr(search, "_vin_pieces", lambda ln: 17)
        monkeypatch.setattr(search, "find_lines", lambda image, passes: [line] if passes[0] == "threshold" else [])
        monkeypatch.setattr(search, "find_comb", lambda gray, ln, n: comb)
        monkeypatch.setattr(search, "read_comb", lambda c, scorer, line_index: hyp())
        monkeypatch.setattr(search, "regular_recut", lambda ln, h, scorer: None)
        monkeypatch.setattr(search, "periodic_cut", lambda *a, **k: [])
        monkeypatch.setattr(search, "decode_line", lambda ln, scorer, n, top, line_index: [hyp()])
        found = search.candidates(np.zeros((300, 400), np.uint8), None)
        return sorted(c.score for c in found)

    line_score, plain = scores(RULING_CONTRASTS[0])
    assert plain - line_score == pytest.approx(search.COMB_BONUS)
    line_score, faint = scores(RULING_CONTRASTS[-1])
    assert faint - line_score == pytest.approx(search.FAINT_COMB_BONUS)
    assert search.FAINT_COMB_BONUS < search.COMB_BONUS


def test_a_rival_reading_the_window_one_glyph_along_costs_its_weight_once(monkeypatch):
    """The same glyphs read one place along (a star taken for the first glyph, the last one
    dropped) disagree with the best reading at every position: blended position by position
    that would put each position near the best's weight and the joint probability near
    nothing, so the VIN would be withheld. Under the mixture the best string keeps its own
    weight; its positions are still flagged (below 0.8)."""
    from types import SimpleNamespace

    import vinread.search as search
    from vinread.correct import LOW_CONFIDENCE, MIN_CONFIDENCE, choose_vin
    from vinread.pipeline import Reader
    from vinread.results import VinResult

    vin = "3FAR8XDT9V7953571"
    shifted = "8" + vin[:-1]
    boxes = np.array([[40 + 30 * i, 60, 24, 40] for i in range(17)])
    found = [search.Candidate(one_hot(vin, 0.99), np.ones(17), boxes, 0.0, -2.0, 0, crops=[]),
             search.Candidate(one_hot(shifted, 0.99), np.ones(17), boxes - [30, 0, 0, 0], 0.0, -2.9, 0,
                              crops=[])]
    monkeypatch.setattr(search, "candidates", lambda image, scorer, line_angles=None, stop=None: list(found))
    best = search.best_hypothesis(np.zeros((400, 700), np.uint8), SimpleNamespace(score_crops=None))
    weight = 1 / (1 + np.exp(-0.9))
    assert choose_vin(best.probs).vin == vin
    assert np.prod(choose_vin(best.probs).char_probs) < MIN_CONFIDENCE      # the blend's product
    conf = search.mixture_confidence(vin, best.mixture)
    assert conf == pytest.approx(weight * 0.99 ** 17, rel=0.02)
    reader = Reader(low_confidence=LOW_CONFIDENCE, min_confidence=MIN_CONFIDENCE)
    out = reader._describe(VinResult("a.png"), best)
    assert out.vin == vin and out.confidence == pytest.approx(conf, abs=1e-3)
    assert not reader._withheld(best)
    differ = [i + 1 for i in range(17) if vin[i] != shifted[i]]
    assert set(differ) <= set(out.low_confidence_positions)
