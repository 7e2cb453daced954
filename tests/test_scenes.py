"""Tests of the synthetic VIN photo generator (train/scenes.py)."""
import json

import numpy as np
import pytest

from train.scenes import KINDS, VARIANTS, main, random_vin, render_scene
from vinread.alphabet import ALPHABET
from vinread.vin import calc_check_digit


def _check_scene(sc, kind, variant):
    h, w = sc.image.shape[:2]
    assert sc.image.dtype == np.uint8 and sc.image.shape[2] == 3
    assert 500 <= max(h, w) <= 1700
    assert sc.kind == kind and sc.variant == variant
    assert len(sc.vin) == 17 and all(c in ALPHABET for c in sc.vin)
    assert len(sc.boxes) == 17
    for x, y, bw, bh in sc.boxes:
        assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h
        assert bw >= 1 and 8 <= bh <= 120
    return h, w


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_renders_in_reading_order(kind):
    for seed in (0, 1):
        sc = render_scene(kind, seed)
        _check_scene(sc, kind, None)
        assert abs(sc.angle) < 8
        centres = [x + bw / 2 for x, y, bw, bh in sc.boxes]
        assert centres == sorted(centres)
        ys = [y + bh / 2 for x, y, bw, bh in sc.boxes]
        heights = [bh for *_, bh in sc.boxes]
        assert max(ys) - min(ys) < 17 * max(heights) * np.sin(np.radians(10)) + max(heights)


@pytest.mark.parametrize("variant", VARIANTS[1:])
def test_variants(variant):
    for kind in ("sticker", "engraved"):
        sc = render_scene(kind, 3, variant=variant)
        _check_scene(sc, kind, variant)
    if variant == "skew":
        angles = [abs(render_scene("plate", s, variant="skew").angle) for s in range(3)]
        assert max(angles) > 4


def test_deterministic_and_given_vin():
    a = render_scene("dotpeen", 7)
    b = render_scene("dotpeen", 7)
    assert a.vin == b.vin and a.boxes == b.boxes and np.array_equal(a.image, b.image)
    c = render_scene("dotpeen", 8)
    assert not np.array_equal(a.image.shape, c.image.shape) or not np.array_equal(a.image, c.image)
    sc = render_scene("handwritten", 1, vin="1hgcm82633a004352")
    assert sc.vin == "1HGCM82633A004352"
    with pytest.raises(ValueError):
        render_scene("sticker", 0, vin="1HGCM82633A00435O")
    with pytest.raises(ValueError):
        render_scene("poster", 0)


def test_random_vin_regions():
    rng = np.random.default_rng(0)
    for region in ("na", "cn", "eu", None):
        for _ in range(200):
            vin = random_vin(rng, region)
            assert len(vin) == 17 and all(c in ALPHABET for c in vin)
            assert vin[13:].isdigit()
            if region == "na":
                assert vin[0] in "12345" and vin[9] not in "UZ0"
            if region == "cn":
                assert vin[0] == "L"
            if vin[0] in "12345L":
                assert calc_check_digit(vin) == vin[8]


def test_cli(tmp_path):
    assert main(["--out", str(tmp_path), "--kinds", "sticker", "plate", "--n", "1", "--seed", "5"]) == 0
    metas = sorted(tmp_path.glob("*.json"))
    assert len(metas) == 2
    for m in metas:
        d = json.loads(m.read_text())
        assert set(d) == {"file", "vin", "kind", "variant", "boxes", "angle"}
        assert (tmp_path / d["file"]).exists() and len(d["boxes"]) == 17


def test_missing_scene_fonts_are_named(monkeypatch):
    """Training warns when the scenes' faces are missing (Pillow's default face would stand in
    and the data would differ from machine to machine)."""
    from train import scenes as sc

    monkeypatch.setattr(sc, "_face_path", lambda name: None if "Condensed" in name else "/x/" + name)
    assert sc.missing_faces() == ["DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed.ttf"]
    monkeypatch.setattr(sc, "_face_path", lambda name: "/x/" + name)
    assert sc.missing_faces() == []
