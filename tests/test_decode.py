"""VIN decoding: WMI (region, country, maker) and the model-year rules."""
from __future__ import annotations

import pytest

from vinread import decode as dec
from vinread.decode import YEAR_CODES, decode, model_years, wmi_info


def vin_with(year_code: str, pos7: str = "2", wmi: str = "1HG") -> str:
    """A 17-character VIN with the given WMI, position 7 and model-year code (position 10)."""
    return wmi + "CM8" + pos7 + "63" + year_code + "A004352"


def test_year_codes_cycle():
    assert len(YEAR_CODES) == 30 and not set("IOQUZ0") & set(YEAR_CODES)
    assert model_years(vin_with("A", wmi="WVW"), year=2026) == [2010, 1980]
    assert model_years(vin_with("Y", wmi="WVW"), year=2026) == [2000]          # 2030 is too late
    assert model_years(vin_with("Y", wmi="WVW"), year=2029) == [2030, 2000]    # current year + 1
    assert model_years(vin_with("1", wmi="WVW"), year=2026) == [2001]
    assert model_years(vin_with("9", wmi="WVW"), year=2026) == [2009]
    assert model_years(vin_with("9", wmi="WVW"), year=2040) == [2039, 2009]
    assert model_years(vin_with("T", wmi="WVW"), year=2026) == [2026, 1996]
    assert model_years(vin_with("V", wmi="WVW"), year=2026) == [2027, 1997]   # next model year on sale


@pytest.mark.parametrize("code", list("IOQUZ0"))
def test_not_year_codes(code):
    assert model_years(vin_with(code, wmi="WVW"), year=2026) == []


def test_north_america_position_7_narrows():
    assert model_years(vin_with("K", pos7="2"), year=2026) == [1989]   # digit: before 2010
    assert model_years(vin_with("K", pos7="A"), year=2026) == [2019]   # letter: 2010 or later
    assert model_years(vin_with("E", pos7="A", wmi="WVW"), year=2026) == [2014, 1984]  # Europe: no rule
    assert model_years(vin_with("E", pos7="A", wmi="LSV"), year=2026) == [2014, 1984]  # China: no rule


def test_north_america_rule_never_empties_the_list():
    # Y with a letter at 7 would be 2030 (too late): the rule does not hold, keep the cycle
    assert model_years(vin_with("Y", pos7="A"), year=2026) == [2000]


def test_year_defaults_to_today(monkeypatch):
    monkeypatch.setattr(dec, "_this_year", lambda: 2008)
    assert model_years(vin_with("A", wmi="WVW")) == [1980]


def test_well_known_vins():
    pytest.importorskip("vininfo")
    d = decode("1HGCM82633A004352", year=2026)
    assert d == {"wmi": "1HG", "region": "North America", "country": "United States",
                 "manufacturer": "Honda", "model_years": [2003]}
    d = decode("wvgzzz5nz-ew069297", year=2026)
    assert (d["wmi"], d["region"], d["country"], d["manufacturer"]) == \
        ("WVG", "Europe", "Germany", "Volkswagen")
    assert decode("WF0KXXGCBKBJ13223", year=2026)["manufacturer"] == "Ford of Europe"
    assert decode("1M8GDM9AXKP042788", year=2026)["manufacturer"] == "Motor Coach Industries"
    assert decode("JHMCM56557C404453", year=2026)["country"] == "Japan"


@pytest.mark.parametrize("vin,region", [
    ("9ZZZZZZZZZZZZZZZ1", "South America"),
    ("AAZ00000000000000", "Africa"),
    ("6ZZ00000000000000", "Oceania"),
])
def test_unknown_wmi(vin, region):
    pytest.importorskip("vininfo")
    d = decode(vin, year=2026)
    assert d["region"] == region and d["manufacturer"] is None
    assert set(d) == {"wmi", "region", "country", "manufacturer", "model_years"}


@pytest.mark.parametrize("vin", ["", "1", "1H", "1HG", "1HGCM8", "1HGCM82633A0043521234", "1HGCM8263OA00435Q",
                                 "???", "  "])
def test_odd_input_never_raises(vin):
    d = decode(vin, year=2026)
    assert isinstance(d["model_years"], list)


def test_without_vininfo(monkeypatch):
    """vininfo missing or failing: the region still comes from the first character."""
    monkeypatch.setattr(dec, "_vininfo", lambda wmi: None)
    d = decode("1HGCM82633A004352", year=2026)
    assert d == {"wmi": "1HG", "region": "North America", "country": None, "manufacturer": None,
                 "model_years": [2003]}
    assert wmi_info("1M8")["manufacturer"] == "Motor Coach Industries"


def test_vininfo_errors_are_swallowed(monkeypatch):
    vininfo = pytest.importorskip("vininfo")

    class Boom:
        def __init__(self, num):
            raise ValueError("unknown WMI")

    dec._vininfo.cache_clear()
    monkeypatch.setattr(vininfo, "Vin", Boom)
    try:
        d = decode("WVGZZZ5NZEW069297", year=2026)
        assert d["region"] == "Europe" and d["manufacturer"] is None
    finally:
        dec._vininfo.cache_clear()
