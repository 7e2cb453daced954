"""The 33-class VIN glyph alphabet: the one source of truth for class order.

VINs never use I, O or Q, so the classifier has 33 classes: the digits 0-9
and the letters A-Z without I, O and Q, in the original tool's order.

>>> len(ALPHABET)
33
>>> char_of(10), index_of('A'), ascii_of('Z')
('A', 10, 90)
"""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
NUM_CLASSES = len(ALPHABET)
FORBIDDEN = "IOQ"
"""Letters that never occur in a VIN (they look like 1 and 0)."""

_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def index_of(char: str) -> int:
    """Class index of ``char``; raises ``KeyError`` for a character outside the alphabet."""
    return _INDEX[char.upper()]


def char_of(index: int) -> str:
    """Character of class ``index`` (0..32)."""
    if not 0 <= int(index) < NUM_CLASSES:
        raise IndexError(f"class index {index} outside 0..{NUM_CLASSES - 1}")
    return ALPHABET[int(index)]


def ascii_of(char: str) -> int:
    """ASCII code of an alphabet character, as the ``--single`` output prints it."""
    index_of(char)
    return ord(char.upper())


def char_of_ascii(code: int) -> str:
    """Alphabet character of an ASCII code; raises ``KeyError`` when outside the alphabet."""
    char = chr(int(code))
    index_of(char)
    return char


def in_alphabet(char: str) -> bool:
    """True when ``char`` is one of the 33 VIN characters (case-insensitive)."""
    return len(char) == 1 and char.upper() in _INDEX
