import pytest
from hypothesis import given
from hypothesis import strategies as st

from vinread.alphabet import ALPHABET
from vinread.vin import (InvalidCharacter, InvalidCheckDigit, InvalidLength, ValidationError,
                         calc_check_digit, check, check_digit_required, compact, is_valid,
                         plausibility_warnings, validate)

NA_VALID = ["1M8GDM9AXKP042788", "1HGCM82633A004352", "5YJSA1E14FF087599"]
EUROPE_NO_CHECK = ["WVGZZZ5NZEW069297", "WF0KXXGCBKBJ13223"]


@pytest.mark.parametrize("vin", NA_VALID)
def test_valid_north_american(vin):
    assert validate(vin) == vin and is_valid(vin)
    assert calc_check_digit(vin) == vin[8]
    assert check(vin).check_digit_ok and check(vin).check_digit_required


def test_compact():
    assert compact(" 1m8-gdm9a xkp042788 ") == "1M8GDM9AXKP042788"
    assert validate("1m8 gdm9a-xkp042788") == "1M8GDM9AXKP042788"


def test_check_digit_x():
    # Sum modulo 11 of 10 is written X.
    base = "1M8GDM9A0KP042788"
    for c in ALPHABET:
        vin = base[:10] + c + base[11:]
        if calc_check_digit(vin) == "X":
            assert is_valid(vin[:8] + "X" + vin[9:])
            break
    else:
        pytest.fail("no variant with check digit X")


@pytest.mark.parametrize("vin,exc", [
    ("1M8GDM9AXKP04278", InvalidLength),
    ("1M8GDM9AXKP0427888", InvalidLength),
    ("1M8GDM9AXKP04278O", InvalidCharacter),
    ("IM8GDM9AXKP042788", InvalidCharacter),
    ("1M8GDM9AXKQ042788", InvalidCharacter),
    ("1M8GDM9AXKP04278#", InvalidCharacter),
    ("1M8GDM9A1KP042788", InvalidCheckDigit),
    ("LSGPC52U86F000000", InvalidCheckDigit),
])
def test_errors(vin, exc):
    with pytest.raises(exc) as info:
        validate(vin)
    assert isinstance(info.value, ValidationError) and str(info.value)
    assert not is_valid(vin)


@pytest.mark.parametrize("vin", EUROPE_NO_CHECK)
def test_region_rule_europe_is_a_warning(vin):
    assert calc_check_digit(vin) != vin[8]
    assert is_valid(vin)
    report = check(vin)
    assert report.valid and not report.check_digit_required and report.check_digit_ok is False
    assert any("check digit" in w for w in report.warnings)


@pytest.mark.parametrize("first,required", [("1", True), ("5", True), ("L", True), ("W", False),
                                            ("J", False), ("9", False), ("S", False)])
def test_region_requirement(first, required):
    assert check_digit_required(first + "M8GDM9AXKP042788") is required


def test_plausibility():
    assert plausibility_warnings("1M8GDM9AXKP042788") == []
    w = plausibility_warnings("1M8GDM9AXKP0427A8")
    assert w == ["position 16 should be numeric (ISO 3779)"]
    assert any("model year" in x for x in plausibility_warnings("1M8GDM9AXUP042788"))
    assert not any("model year" in x for x in plausibility_warnings("WVGZZZ5NZUW069297"))


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_computed_check_digit_always_validates(body):
    vin = body[:8] + calc_check_digit(body) + body[9:]
    assert is_valid(vin)
    wrong = [c for c in "0123456789X" if c != vin[8]][0]
    assert is_valid(vin[:8] + wrong + vin[9:]) is (not check_digit_required(vin))
