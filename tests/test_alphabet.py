import pytest

from vinread.alphabet import ALPHABET, NUM_CLASSES, ascii_of, char_of, char_of_ascii, in_alphabet, index_of


def test_order_and_size():
    assert ALPHABET == "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    assert NUM_CLASSES == 33
    assert not set("IOQ") & set(ALPHABET)


@pytest.mark.parametrize("char", list(ALPHABET))
def test_round_trips(char):
    assert char_of(index_of(char)) == char
    assert char_of_ascii(ascii_of(char)) == char
    assert in_alphabet(char) and in_alphabet(char.lower())


def test_outside_alphabet():
    for bad in "IOQ-*io":
        assert not in_alphabet(bad)
        with pytest.raises(KeyError):
            index_of(bad)
    with pytest.raises(IndexError):
        char_of(33)
    with pytest.raises(KeyError):
        char_of_ascii(ord("O"))
    assert ascii_of("Z") == 90 and index_of("Z") == 32
