"""Real handwritten glyphs from EMNIST, restricted to the 33 VIN classes.

The data comes through the ``emnist`` package's own readers, from its cache file
(``emnist.get_cached_data_path()``, normally ``~/.cache/emnist/emnist.zip``).
Nothing is ever downloaded: without the file :class:`EmnistUnavailable` is raised.
"""
from __future__ import annotations

import gzip
import os
import string
import zipfile

import numpy as np

from vinread.alphabet import ALPHABET, index_of, in_alphabet
from vinread.normalize import BlankGlyphError, normalize_glyph

SPLITS = ("balanced", "byclass")

# Label order of EMNIST (the official *-mapping.txt files say the same):
# byclass: 0-9, A-Z, a-z (62); balanced: 0-9, A-Z, then a b d e f g h n q r t (47).
KNOWN_ORDER = {
    "byclass": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "balanced": string.digits + string.ascii_uppercase + "abdefghnqrt",
}


class EmnistUnavailable(FileNotFoundError):
    """The EMNIST cache file is missing; the message says where to put ``emnist.zip``."""


def _cache_path() -> str:
    import emnist
    return emnist.get_cached_data_path()


def ensure_available() -> str:
    """Path of the EMNIST cache zip; raises :class:`EmnistUnavailable` when absent or empty."""
    path = _cache_path()
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise EmnistUnavailable(
            f"EMNIST data not found: put the EMNIST 'gzip.zip' archive (members gzip/emnist-*-ubyte.gz) "
            f"at {path} (emnist.get_cached_data_path()); vinread never downloads it.")
    return path


def label_chars(split: str) -> str:
    """Characters of the EMNIST labels of ``split``, index = label.

    Read from ``gzip/emnist-{split}-mapping.txt`` in the cache zip when present
    (lines ``label ascii``), else the published order.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    try:
        with zipfile.ZipFile(ensure_available()) as zf:
            text = zf.read(f"gzip/emnist-{split}-mapping.txt").decode()
    except (KeyError, zipfile.BadZipFile):
        return KNOWN_ORDER[split]
    pairs = sorted((int(a), int(b)) for a, b in (line.split()[:2] for line in text.splitlines() if line.strip()))
    return "".join(chr(code) for _, code in pairs)


def label_map(split: str) -> np.ndarray:
    """(n_labels,) int64: EMNIST label -> our class index, -1 for characters not in a VIN.

    Only digits and upper-case letters are kept (lower-case never, even where an
    upper-case class is merged with it), and never I, O, Q.
    """
    chars = label_chars(split)
    return np.array([index_of(c) if (c.isdigit() or c.isupper()) and in_alphabet(c) else -1
                     for c in chars], np.int64)


def _parse_idx(data: bytes) -> np.ndarray:
    """IDX bytes -> array (only the unsigned-byte type EMNIST uses)."""
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("not an unsigned-byte IDX file")
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def _extract_samples(split: str, usage: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) upright, labels (N,)) from the cache zip.

    Uses ``emnist.extract_samples``; emnist 0.0's ``parse_idx`` fails under
    NumPy >= 2 (``int()`` of a 1-element array), in which case the same members
    are read here the same way (including the package's axis swap).
    """
    import emnist
    try:
        return emnist.extract_samples(split, usage)
    except TypeError:
        pass
    with zipfile.ZipFile(ensure_available()) as zf:
        def read(component, dim):
            member = emnist.ZIP_PATH_TEMPLATE.format(dataset=split, usage=usage, matrix=component, dim=dim)
            return _parse_idx(gzip.decompress(zf.read(member)))
        images, labels = read("images", 3), read("labels", 1)
    if len(images) != len(labels):
        raise RuntimeError("EMNIST image and label counts differ")
    return images.swapaxes(1, 2), labels


def load_emnist(split: str = "balanced", usage: str = "train",
                limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """EMNIST samples of the 33 VIN classes, normalised like inference crops.

    Parameters
    ----------
    split : ``"balanced"`` or ``"byclass"``.
    usage : ``"train"`` or ``"test"``.
    limit : keep at most this many (the first ones, in file order).

    Returns
    -------
    X : (N, 28, 28) float32 in [0, 1], white on black, upright.
    y : (N,) int64 class indices of ``vinread.alphabet``.
    """
    if usage not in ("train", "test"):
        raise ValueError(f"usage must be train or test, not {usage!r}")
    ensure_available()
    mapping = label_map(split)
    images, labels = _extract_samples(split, usage)  # upright: NIST's transposition undone
    labels = np.asarray(labels, np.int64)
    keep = np.nonzero((labels >= 0) & (labels < len(mapping)))[0]
    keep = keep[mapping[labels[keep]] >= 0]
    if limit is not None:
        keep = keep[:limit]
    X = np.zeros((len(keep), 28, 28), np.float32)
    ok = np.ones(len(keep), bool)
    for j, i in enumerate(keep):
        try:
            X[j] = normalize_glyph(images[i], polarity="light")
        except (BlankGlyphError, ValueError):
            ok[j] = False
    return X[ok], mapping[labels[keep]][ok]


__all__ = ["EmnistUnavailable", "ensure_available", "label_chars", "label_map", "load_emnist", "ALPHABET"]
