import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vinread.alphabet import ALPHABET
from vinread.correct import MIN_CANDIDATE_P, UNKNOWN_WMI_PRIOR, choose_vin
from vinread.decode import known_wmi
from vinread.vin import calc_check_digit, is_valid


def confident(vin, p=0.9, floor=0.002):
    probs = np.full((17, 33), floor)
    for i, c in enumerate(vin):
        probs[i, ALPHABET.index(c)] = p
    return probs


def test_valid_read_is_left_alone():
    d = choose_vin(confident("1M8GDM9AXKP042788"))
    assert d.vin == "1M8GDM9AXKP042788" and d.corrections == [] and d.check_digit_enforced


def test_repairs_a_glyph_whose_top_candidate_breaks_the_check_digit():
    probs = confident("1M8GDM9AXKP042788")
    probs[4, ALPHABET.index("B")] = 0.95  # read B where D is printed; D second
    d = choose_vin(probs)
    assert d.vin == "1M8GDM9AXKP042788"
    assert [(c.position, c.read, c.chosen) for c in d.corrections] == [(5, "B", "D")]
    assert d.char_probs[4] == pytest.approx(0.9 / probs[4].sum())


def test_european_vin_is_not_forced_to_a_check_digit():
    d = choose_vin(confident("WVGZZZ5NZEW069297"))
    assert d.vin == "WVGZZZ5NZEW069297" and not d.check_digit_enforced and d.corrections == []


def test_numeric_tail_prior():
    probs = confident("WVGZZZ5NZEW069297")
    probs[15, ALPHABET.index("B")] = 0.6  # B read at 16, the printed 9 close behind
    probs[15, ALPHABET.index("9")] = 0.4
    d = choose_vin(probs)
    assert d.vin[15] == "9" and d.corrections[0].position == 16


def test_a_known_manufacturer_decides_a_close_call_in_positions_1_to_3():
    vin = "SAL1A2A40SA606662"                        # Land Rover; no check digit required
    assert known_wmi(vin) and not known_wmi("SA1")
    probs = confident(vin)
    probs[2, ALPHABET.index("1")] = 0.6               # 1 read at 3, the printed L close behind
    probs[2, ALPHABET.index("L")] = 0.4
    d = choose_vin(probs)
    assert d.vin == vin
    assert [(c.position, c.read, c.chosen) for c in d.corrections] == [(3, "1", "L")]
    assert d.char_probs[2] == pytest.approx(0.4 / probs[2].sum())
    # a clear reading stands even though it names no known maker: the 1 far ahead of the L
    probs[2, ALPHABET.index("1")] = 0.9
    probs[2, ALPHABET.index("L")] = 0.9 * UNKNOWN_WMI_PRIOR / 2
    assert choose_vin(probs).vin == "SA11A2A40SA606662"
    # and no known maker is spelt from characters the classifier never saw
    probs[2, ALPHABET.index("L")] = MIN_CANDIDATE_P / 2
    assert choose_vin(probs).vin == "SA11A2A40SA606662"


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError):
        choose_vin(np.ones((16, 33)))


@settings(max_examples=60, deadline=None)
@given(body=st.text(alphabet="0123456789ABCDEFGHJKLMNPRSTUVWXYZ", min_size=16, max_size=16),
       first=st.sampled_from("12345"), pos=st.integers(1, 16), seed=st.integers(0, 1000))
def test_single_misread_north_american_vin_is_repaired(body, first, pos, seed):
    vin = first + body[:7] + "0" + body[7:15]
    vin = vin[:8] + calc_check_digit(vin) + vin[9:]
    vin = vin[:13] + "".join(c if c.isdigit() else "1" for c in vin[13:])  # numeric tail
    vin = vin[:8] + calc_check_digit(vin) + vin[9:]
    if vin[9] in "UZ0":
        return
    assert is_valid(vin)
    probs = confident(vin)
    if pos == 8:  # the check digit itself: misread it instead
        pos = 9
    true = ALPHABET.index(vin[pos - 1])
    wrong = (true + 1 + np.random.default_rng(seed).integers(32)) % 33
    if pos >= 14 and not ALPHABET[wrong].isdigit():
        return
    probs[pos - 1, wrong] = 0.95
    misread = vin[:pos - 1] + ALPHABET[wrong] + vin[pos:]
    d = choose_vin(probs)
    if is_valid(misread) and (known_wmi(misread) or not known_wmi(vin)):
        # same transliterated value, or a first character outside the check digit's regions:
        # the check digit cannot tell them apart, nor can the makers' codes
        assert d.vin == misread and d.corrections == []
    else:
        assert d.vin == vin
        assert [(c.position, c.read, c.chosen) for c in d.corrections] == [(pos, ALPHABET[wrong], vin[pos - 1])]


def test_no_invention_when_the_check_digit_cannot_be_met_by_seen_candidates():
    vin = "1M8GDM9A1KP042788"  # printed with a wrong check digit (X is right)
    probs = confident(vin, p=0.99, floor=0.0003)
    d = choose_vin(probs)
    assert d.vin == vin and d.corrections == [] and not d.check_digit_enforced
    assert not is_valid(d.vin)
