"""What a VIN says about the vehicle: region, country and maker from the WMI, model years.

The world manufacturer identifier (WMI, positions 1-3) is looked up with the
`vininfo <https://pypi.org/project/vininfo/>`_ package (ISO 3780 countries and
~700 WMIs) when it is installed; every call is guarded, and without it (or for
a WMI it does not know) the region still comes from the first character and
the rest is ``None``. The model year is position 10, a 30-year cycle
(ISO 3779 / 49 CFR 565):

    A-H, J-N, P, R-T, V-Y = 1980-2000 or 2010-2030;  1-9 = 2001-2009 or 2031-2039

In North America (WMI 1-5) position 7 tells the cycles apart for cars, MPVs and
light trucks: a letter means 2010 or later, a digit before 2010 (49 CFR 565.15).
Heavy trucks, buses and trailers need not follow it, so when the rule leaves no
year every year of the cycle is returned.

>>> decode('1HGCM82633A004352', year=2026)        # doctest: +NORMALIZE_WHITESPACE
{'wmi': '1HG', 'region': 'North America', 'country': 'United States',
 'manufacturer': 'Honda', 'model_years': [2003]}
>>> decode('1M8GDM9AXKP042788', year=2026)['model_years']   # K: 1989 or 2019; a digit at 7: 1989
[1989]
>>> decode('1M8GDM9AXKP042788')['manufacturer']
'Motor Coach Industries'
>>> d = decode('WVGZZZ5NZEW069297', year=2026)
>>> d['country'], d['manufacturer'], d['model_years']
('Germany', 'Volkswagen', [2014, 1984])
>>> d = decode('WF0KXXGCBKBJ13223', year=2026)
>>> d['region'], d['country'], d['manufacturer'], d['model_years']
('Europe', 'Germany', 'Ford of Europe', [2019, 1989])
>>> model_years('5YJ3E1EA7KF317000', year=2026)           # a letter at 7: 2019, not 1989
[2019]
>>> model_years('1HGCM8263ZA004352')                      # Z is never a year code
[]
"""
from __future__ import annotations

import datetime
import functools

__all__ = ["YEAR_CODES", "REGIONS", "decode", "model_years", "wmi_info"]

YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
"""Model-year codes in order from 1980 (and again from 2010): no I, O, Q, U, Z or 0."""
CYCLE = len(YEAR_CODES)
"""Years in one cycle of the model-year code (30)."""
FIRST_YEAR = 1980
REGIONS = {
    "ABC": "Africa", "JKLMNPR": "Asia", "STUVWXYZ": "Europe", "12345": "North America",
    "67": "Oceania", "89": "South America",
}
"""Region by the WMI's first character (ISO 3780), used where vininfo gives none."""
_WMI_EXTRA = {"1M8": "Motor Coach Industries"}
"""Well-known WMIs that vininfo 1.11 misses and would give its two-character prefix's maker to
(``1M`` -> Mercury)."""
_PAD = "0" * 14


def _compact(vin: str) -> str:
    return "".join(str(vin).split()).replace("-", "").replace(".", "").upper()


def _this_year() -> int:
    return datetime.date.today().year


def model_years(vin: str, year: int | None = None) -> list[int]:
    """Plausible model years of ``vin``, most recent first; [] when position 10 is no year code.

    Parameters
    ----------
    vin : the VIN (compacted here); at least 10 characters.
    year : the current year (default: today's); years after ``year + 1`` are dropped.
    """
    vin = _compact(vin)
    last = (year or _this_year()) + 1
    pos = 9 + _year_offset(vin)
    if len(vin) <= pos or vin[pos] not in YEAR_CODES:
        return []
    first = FIRST_YEAR + YEAR_CODES.index(vin[pos])
    years = list(range(first, last + 1, CYCLE))[::-1]
    if len(vin) >= 7 and vin[0] in "12345":
        ruled = [y for y in years if (y >= 2010) == vin[6].isalpha()]
        years = ruled or years
    return years


@functools.lru_cache(maxsize=2048)
def _vininfo(wmi: str):
    """vininfo's Vin for this WMI (padded to 17 characters), or None."""
    try:
        from vininfo import Vin
        return Vin(wmi + _PAD)
    except Exception:  # not installed, or it refuses the WMI
        return None


def _year_offset(vin: str) -> int:
    """Brand-specific shift of the model-year character (vininfo: Ford Australia uses position 11)."""
    v = _vininfo(vin[:3]) if len(vin) >= 3 else None
    try:
        return int(getattr(v.assembler, "year_position", 0) or 0) if v is not None else 0
    except Exception:
        return 0


def _attr(obj, name: str) -> str | None:
    try:
        value = getattr(obj, name)
    except Exception:
        return None
    return value if isinstance(value, str) and value and value != "UnsupportedBrand" else None


def wmi_info(vin: str) -> dict:
    """``{"wmi", "region", "country", "manufacturer"}`` of a VIN (or of just its first 3 characters).

    ``manufacturer`` is vininfo's for the exact WMI, else for its first two
    characters (vininfo's own fallback: ``JT`` Toyota, ``WV`` Volkswagen), else None.

    >>> wmi_info('ZZZ')['region'], wmi_info('9ZZ')['manufacturer'] is None
    ('Europe', True)
    """
    vin = _compact(vin)
    wmi = vin[:3]
    info = {"wmi": wmi or None, "region": None, "country": None, "manufacturer": None}
    if not wmi:
        return info
    info["region"] = next((name for chars, name in REGIONS.items() if wmi[0] in chars), None)
    v = _vininfo(wmi) if len(wmi) == 3 else None
    if v is not None:
        info["region"] = _attr(v, "region") or info["region"]
        info["country"] = _attr(v, "country")
        info["manufacturer"] = _WMI_EXTRA.get(wmi) or _attr(v, "manufacturer")
    else:
        info["manufacturer"] = _WMI_EXTRA.get(wmi)
    return info


@functools.lru_cache(maxsize=4096)
def _manufacturer(wmi: str) -> str | None:
    return wmi_info(wmi)["manufacturer"]


def known_wmi(vin: str) -> bool:
    """Whether a VIN's first three characters name a manufacturer :func:`wmi_info` knows.

    >>> known_wmi('XWEKU814DEC000903'), known_wmi('XVVEKN814DKM05681')
    (True, False)
    """
    vin = _compact(vin)
    return len(vin) >= 3 and _manufacturer(vin[:3]) is not None


def decode(vin: str, year: int | None = None) -> dict:
    """The ``decoded`` JSON object of a VIN.

    Returns ``{"wmi", "region", "country", "manufacturer", "model_years"}``;
    fields that cannot be told are ``None`` (``model_years``: ``[]``). Never
    raises on odd input: partial or misread VINs decode as far as they go.

    Parameters
    ----------
    vin : the VIN, any case, spaces and dashes allowed.
    year : the current year for the model-year limit (default: today's).
    """
    info = wmi_info(vin)
    info["model_years"] = model_years(vin, year)
    return info
