"""The benchmark's photo degradations (bench/degrade.py): what each does, the same every time."""
import numpy as np
import pytest

from bench.degrade import DEGRADATIONS


@pytest.fixture
def photo():
    rng = np.random.default_rng(3)
    return rng.integers(60, 256, (120, 200, 3)).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(DEGRADATIONS))
def test_each_degradation_is_a_fixed_uint8_change(photo, name):
    out = DEGRADATIONS[name](photo)
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3
    assert out.shape != photo.shape or not np.array_equal(out, photo)
    assert np.array_equal(out, DEGRADATIONS[name](photo.copy()))


def test_what_each_degradation_does(photo):
    d = DEGRADATIONS
    assert d["dim"](photo).max() <= 0.35 * 255 + 1
    lit = d["gradient"](photo).astype(float) / photo
    assert lit[:, 0].mean() == pytest.approx(0.25, abs=0.02) and lit[:, -1].mean() == pytest.approx(1.0, abs=0.02)
    assert d["half"](photo).shape == (60, 100, 3)
    h, w = d["tilt"](photo).shape[:2]
    assert h > 120 and w > 200
    assert d["blur"](photo).std() < photo.std()
    assert 5 < np.abs(d["noise"](photo).astype(int) - photo).mean() < 12
