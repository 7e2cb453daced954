"""EMNIST loader on a tiny zip built in the emnist package's exact cache format."""
from __future__ import annotations

import gzip
import struct
import zipfile

import numpy as np
import pytest

emnist = pytest.importorskip("emnist")

from train import emnist_data  # noqa: E402
from vinread.alphabet import index_of  # noqa: E402
from vinread.normalize import normalize_glyph  # noqa: E402


def _idx(array: np.ndarray) -> bytes:
    """numpy uint8 array -> IDX bytes (the MNIST/EMNIST file format)."""
    a = np.ascontiguousarray(array, np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + b"".join(struct.pack(">I", d) for d in a.shape)
    return header + a.tobytes()


def _upright_glyph(k: int) -> np.ndarray:
    """An asymmetric 'L' (bar on the left, foot at the bottom), white on black, slightly varied by k."""
    g = np.zeros((28, 28), np.uint8)
    g[4:24, 6 + k % 2:10 + k % 2] = 255
    g[20:24, 6:22] = 255
    return g


def _build_zip(path, split: str, labels: list[int], mapping: bool = True) -> np.ndarray:
    upright = np.stack([_upright_glyph(k) for k in range(len(labels))])
    stored = upright.transpose(0, 2, 1)  # NIST stores each image transposed
    with zipfile.ZipFile(path, "w") as zf:
        for usage in ("train", "test"):
            zf.writestr(f"gzip/emnist-{split}-{usage}-images-idx3-ubyte.gz", gzip.compress(_idx(stored)))
            zf.writestr(f"gzip/emnist-{split}-{usage}-labels-idx1-ubyte.gz",
                        gzip.compress(_idx(np.array(labels, np.uint8))))
        if mapping:
            chars = emnist_data.KNOWN_ORDER[split]
            zf.writestr(f"gzip/emnist-{split}-mapping.txt",
                        "".join(f"{i} {ord(c)}\n" for i, c in enumerate(chars)))
    return upright


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "emnist.zip"
    monkeypatch.setattr(emnist, "CACHE_FILE_PATH", str(path))
    monkeypatch.setattr(emnist, "SOURCE_URLS", [])  # never download, whatever happens
    return path


def test_missing_cache_gives_clear_error(cache):
    with pytest.raises(emnist_data.EmnistUnavailable) as e:
        emnist_data.load_emnist()
    assert str(cache) in str(e.value) and "emnist.zip" in str(e.value)


@pytest.mark.parametrize("mapping", [True, False])
def test_byclass_labels_filter_and_orientation(cache, mapping):
    # '0', 'A', 'I', 'O', 'Q', 'Z', 'a', 'z', '9', 'H'
    labels = [0, 10, 18, 24, 26, 35, 36, 61, 9, 17]
    upright = _build_zip(cache, "byclass", labels, mapping)
    X, y = emnist_data.load_emnist("byclass", "train")
    assert X.shape == (5, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert [int(v) for v in y] == [index_of(c) for c in "0AZ9H"]
    kept = [0, 1, 5, 8, 9]
    for j, i in enumerate(kept):
        expect = normalize_glyph(upright[i], polarity="light")
        assert np.allclose(X[j], expect, atol=1e-5)
    # upright 'L': more ink in the left half and in the bottom half
    assert X[0][:, :14].sum() > X[0][:, 14:].sum()
    assert X[0][14:].sum() > X[0][:14].sum()


def test_balanced_drops_lowercase_and_limit(cache):
    # balanced: 36.. are a b d e f g h n q r t
    labels = [36, 44, 12, 46, 23, 3]
    _build_zip(cache, "balanced", labels)
    X, y = emnist_data.load_emnist("balanced", "test")
    assert [int(v) for v in y] == [index_of("C"), index_of("N"), index_of("3")]
    X2, y2 = emnist_data.load_emnist("balanced", "test", limit=2)
    assert len(y2) == 2 and np.array_equal(y2, y[:2])
    assert X.min() >= 0 and X.max() <= 1


def test_label_map_never_maps_forbidden(cache):
    _build_zip(cache, "byclass", [0])
    for split, chars in emnist_data.KNOWN_ORDER.items():
        m = emnist_data.label_map(split)
        assert len(m) == len(chars)
        for c in [c for c in "IOQabz" if c in chars]:
            assert m[chars.index(c)] == -1
        assert sorted(set(m[m >= 0].tolist())) == list(range(33))
