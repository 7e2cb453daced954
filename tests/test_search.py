"""Choosing among readings: what may be reported at all."""
from __future__ import annotations

import numpy as np
import pytest

from vinread.alphabet import ALPHABET, NUM_CLASSES
from vinread.search import MAX_TAIL_LETTERS, score_reading
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
