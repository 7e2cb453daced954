"""VIN validation: ISO 3779 / 49 CFR 565, in the style of python-stdnum.

The ninth character is a check digit over the other sixteen. It is mandatory
for North America (WMI starting 1-5) and China (L); elsewhere it is optional,
so a mismatch there is a warning, not an error.

>>> validate('1m8gdm9a-xkp042788')
'1M8GDM9AXKP042788'
>>> validate('1HGCM82633A004352')
'1HGCM82633A004352'
>>> calc_check_digit('1HGCM82633A004352')
'3'
>>> is_valid('1HGCM82623A004352')
False
>>> is_valid('WVGZZZ5NZEW069297')   # European: no check digit required
True
>>> check('WF0KXXGCBKBJ13223').check_digit_required
False
>>> validate('1HGCM8263OA004352')
Traceback (most recent call last):
    ...
vinread.vin.InvalidCharacter: invalid character 'O' at position 10 (VINs never use I, O or Q)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .alphabet import ALPHABET, FORBIDDEN

__all__ = [
    "ValidationError", "InvalidLength", "InvalidCharacter", "InvalidCheckDigit",
    "WEIGHTS", "TRANSLITERATION", "LENGTH", "CHECK_POSITION",
    "compact", "calc_check_digit", "check_digit_required", "char_value",
    "plausibility_warnings", "tail_letters", "validate", "is_valid", "check", "VinCheck",
]

LENGTH = 17
CHECK_POSITION = 9
"""1-based position of the check digit."""
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
NUMERIC_TAIL = range(14, 18)
"""1-based positions that ISO 3779 keeps numeric."""
NA_YEAR_FORBIDDEN = "UZ0"
"""Characters never used for the model year (position 10) in North America."""


class ValidationError(ValueError):
    """The VIN is not valid."""


class InvalidLength(ValidationError):
    """The VIN does not have 17 characters."""


class InvalidCharacter(ValidationError):
    """The VIN holds a character outside the VIN alphabet (I, O, Q or others)."""


class InvalidCheckDigit(ValidationError):
    """The check digit is wrong where it is mandatory."""


def compact(number: str) -> str:
    """Upper-case and drop spaces, dashes and dots: the VIN's canonical form."""
    return "".join(number.split()).replace("-", "").replace(".", "").upper()


def char_value(char: str) -> int:
    """Transliterated value of one VIN character (its contribution before weighting)."""
    return TRANSLITERATION[char]


def calc_check_digit(number: str) -> str:
    """The check digit ('0'-'9' or 'X') of a 17-character VIN; position 9 is ignored."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength(f"a VIN has {LENGTH} characters, not {len(number)}")
    total = sum(TRANSLITERATION[c] * w for c, w in zip(number, WEIGHTS) if c in TRANSLITERATION)
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def check_digit_required(number: str) -> bool:
    """True for North American (WMI 1-5) and Chinese (L) VINs, where the check digit is mandatory."""
    first = compact(number)[:1]
    return first in "12345L" and first != ""


def _check_characters(number: str) -> None:
    for pos, c in enumerate(number, start=1):
        if c not in ALPHABET:
            why = " (VINs never use I, O or Q)" if c in FORBIDDEN else ""
            raise InvalidCharacter(f"invalid character {c!r} at position {pos}{why}")


def tail_letters(number: str) -> int:
    """How many of positions 14-17, which ISO 3779 and 49 CFR 565 keep numeric, hold letters.

    >>> tail_letters('1HGCM82633A004352'), tail_letters('VEHCLEREGSTRAT10N')
    (0, 2)
    """
    return sum(p in NUMERIC_TAIL for p in implausible_positions(number))


def _plausibility_breaks(number: str) -> list[tuple[int, str]]:
    """(position, warning) for each soft rule the number breaks."""
    number = compact(number)
    breaks = [(p, f"position {p} should be numeric (ISO 3779)")
              for p in NUMERIC_TAIL if p <= len(number) and not number[p - 1].isdigit()]
    if check_digit_required(number) and len(number) >= 10 and number[9] in NA_YEAR_FORBIDDEN:
        breaks.append((10, f"position 10 (model year) is never {number[9]!r} in North America"))
    return breaks


def plausibility_warnings(number: str) -> list[str]:
    """Soft rules, reported as warnings and used as priors by the reader.

    >>> plausibility_warnings('1HGCM82633A00435A')
    ['position 17 should be numeric (ISO 3779)']
    """
    return [warning for _, warning in _plausibility_breaks(number)]


def implausible_positions(number: str) -> list[int]:
    """1-based positions that break a soft rule (a letter where the serial is numeric, ...).

    >>> implausible_positions('1HGCM82633A00435A'), implausible_positions('1HGCM82633A004352')
    ([17], [])
    """
    return [position for position, _ in _plausibility_breaks(number)]


def validate(number: str) -> str:
    """Check the VIN and return its compact form.

    Raises :class:`InvalidLength`, :class:`InvalidCharacter`, or
    :class:`InvalidCheckDigit` (only where the check digit is mandatory).
    """
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength(f"a VIN has {LENGTH} characters, not {len(number)}")
    _check_characters(number)
    if check_digit_required(number) and calc_check_digit(number) != number[CHECK_POSITION - 1]:
        raise InvalidCheckDigit(
            f"check digit is {number[CHECK_POSITION - 1]!r}, expected {calc_check_digit(number)!r}")
    return number


def is_valid(number: str) -> bool:
    """True when :func:`validate` accepts the VIN."""
    try:
        validate(number)
    except ValidationError:
        return False
    return True


@dataclass
class VinCheck:
    """Everything the validation stage says about one VIN string."""

    vin: str
    valid: bool
    expected: str | None
    found: str | None
    check_digit_ok: bool | None
    check_digit_required: bool
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def check_digit_dict(self) -> dict:
        """The ``check_digit`` object of the JSON output."""
        return {"expected": self.expected, "found": self.found,
                "ok": self.check_digit_ok, "required": self.check_digit_required}


def check(number: str) -> VinCheck:
    """Full report on a VIN: validity, check digit, region rule and plausibility warnings."""
    number = compact(number)
    required = check_digit_required(number)
    expected = found = ok = None
    error = None
    warnings: list[str] = []
    try:
        validate(number)
    except ValidationError as exc:
        error = str(exc)
    if len(number) == LENGTH and all(c in ALPHABET for c in number):
        expected, found = calc_check_digit(number), number[CHECK_POSITION - 1]
        ok = expected == found
        if not ok and not required:
            warnings.append(f"check digit is {found!r}, expected {expected!r} "
                            "(not required outside North America and China)")
        warnings.extend(plausibility_warnings(number))
    return VinCheck(number, error is None, expected, found, ok, required, error, warnings)
