"""Synthetic glyph data: labels, shapes, ranges, determinism, rejects."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from train import augment, data, fonts, render
from vinread.alphabet import ALPHABET, NUM_CLASSES

STYLES = render.STYLES


def test_fonts_found():
    paths = fonts.font_paths()
    assert len(paths) >= 5
    assert any("mono" in fonts.font_traits(p) for p in paths)
    strokes = fonts.hershey_strokes("A", "futural")
    assert all(s.shape[1] == 2 for s in strokes)


@settings(max_examples=40, deadline=None)
@given(char=st.sampled_from(ALPHABET), style=st.sampled_from(STYLES),
       seed=st.integers(0, 2**31), height=st.integers(10, 96))
def test_render_char_contract(char, style, seed, height):
    img = render.render_char(char, style, np.random.default_rng(seed), height)
    assert img.dtype == np.uint8 and img.ndim == 2
    assert 0.6 * height <= img.shape[0] <= 2.0 * height + 16
    # dark ink on a light ground: the ground (median) is lighter than the darkest pixels
    assert np.median(img) > np.percentile(img, 1)


def test_render_char_deterministic():
    for style in STYLES:
        a = render.render_char("K", style, np.random.default_rng(5), 40)
        b = render.render_char("K", style, np.random.default_rng(5), 40)
        assert np.array_equal(a, b)


def test_every_char_has_a_skeleton():
    assert set(render.SKELETONS) == set(ALPHABET)


@pytest.mark.parametrize("kind", render.REJECT_KINDS)
def test_render_reject_kinds(kind):
    img = render.render_reject(np.random.default_rng(1), 40, kind)
    assert img.dtype == np.uint8 and img.ndim == 2 and min(img.shape) >= 1


def test_delimiter_stars_cross_at_their_centre_in_every_style():
    """A VIN's delimiter star (5, 6 or 8 arms, or an X with an upright bar) is a reject in all
    four styles: every arm meets the others at the star's centre."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        strokes = render.star_strokes(rng)
        assert len(strokes) >= 3
        pts = np.concatenate(strokes)
        centre = (pts.min(0) + pts.max(0)) / 2
        for s in strokes:     # an arm from the centre, or a line through it
            a, b = s[0], s[-1]
            t = np.clip(np.dot(centre - a, b - a) / np.dot(b - a, b - a), 0, 1)
            assert np.linalg.norm(a + t * (b - a) - centre) < 0.08
    for style in render.STYLES:
        r = np.random.default_rng(1)
        img = render._render_star(r, 48, style)
        assert img.dtype == np.uint8 and img.ndim == 2 and np.ptp(img) > 20


def test_rejects_never_use_forbidden_letters():
    for c in "IOQ":
        assert c not in render.REJECT_MARKS + render.REJECT_LOWER.upper()


def test_augment_keeps_uint8():
    rng = np.random.default_rng(0)
    img = render.render_char("7", "printed", rng, 40)
    for _ in range(20):
        out = augment.augment(img, rng, 1.2, neighbour=lambda h: render.render_char("3", "printed", rng, h))
        assert out.dtype == np.uint8 and out.ndim == 2


@pytest.mark.parametrize("source", render.STYLES)
def test_make_glyphs(source):
    n = 2 * NUM_CLASSES
    X, y = data.make_glyphs(source, n, seed=3)
    assert X.shape == (n, 28, 28) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert np.all(X.reshape(n, -1).max(axis=1) > 0.5)  # every sample has ink
    assert np.array_equal(np.bincount(y, minlength=NUM_CLASSES), np.full(NUM_CLASSES, 2))
    assert not set("IOQ") & {ALPHABET[i] for i in y}
    X2, y2 = data.make_glyphs(source, n, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_make_rejects():
    X = data.make_rejects(40, seed=1)
    assert X.shape == (40, 28, 28) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1


def test_training_set_independent_of_workers(monkeypatch):
    monkeypatch.setattr(data, "CHUNK", 24)
    counts = {"printed": 40, "handwriting": 30}
    X1, y1, g1 = data.make_training_set(counts, 20, seed=7, workers=1)
    X2, y2, g2 = data.make_training_set(counts, 20, seed=7, workers=2)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2) and np.array_equal(g1, g2)
    assert len(y1) == 90 and int(g1.sum()) == 70
    assert np.all((y1 == -1) == (g1 == 0))
    assert np.all(y1[g1 == 1] < NUM_CLASSES)
    X3, _, _ = data.make_training_set(counts, 20, seed=8, workers=1)
    assert not np.array_equal(X1, X3)


def test_unknown_source_rejected():
    with pytest.raises(ValueError):
        data.make_training_set({"stencil": 5}, 0, seed=0)


def test_similarity_tells_a_kept_glyph_from_a_lost_one():
    from train.data import MIN_SIMILARITY, similarity
    from vinread.normalize import normalize_glyph

    def draw(ch, dx=0):
        img = np.full((64, 48), 255, np.uint8)
        cv2.putText(img, ch, (6 + dx, 54), cv2.FONT_HERSHEY_SIMPLEX, 1.8, 0, 5)
        return normalize_glyph(img)

    a = draw("E")
    assert similarity(a, a) == pytest.approx(1.0, abs=1e-6)
    assert similarity(a, draw("E", dx=3)) > 0.9
    assert similarity(a, draw("-")) < MIN_SIMILARITY


def test_scene_crops_are_the_vins_glyphs():
    """Glyphs cut from a rendered sticker carry the VIN's letters in order, and the shipped
    model reads most of them as those letters (the crops sit on the right glyphs)."""
    from train.scene_crops import cut_scene
    from train.scenes import render_scene
    from vinread.pipeline import Reader
    scene = render_scene("sticker", 7)
    glyphs, labels, rejects = cut_scene(scene, np.random.default_rng(0))
    assert len(glyphs) == len(labels) >= 15 and 1 <= len(rejects) <= 2
    rest = iter(scene.vin)                  # the labels are the VIN's letters, in order
    assert all(ALPHABET[k] in rest for k in labels)
    X = np.stack(glyphs + rejects)
    assert X.dtype == np.float32 and X.shape[1:] == (28, 28) and X.min() >= 0 and X.max() <= 1
    probs, glyph = Reader().model.predict(X[:, :, :, None])
    assert (probs[:len(labels)].argmax(1) == np.array(labels)).mean() >= 0.85
    assert glyph[len(labels):].mean() < glyph[:len(labels)].mean()


def test_scene_source_mixes_glyphs_and_rejects():
    X, y = data._make_chunk(("scene", 5, 0, 60, 0))
    assert X.shape == (60, 28, 28) and (y == data.REJECT_LABEL).sum() >= 2
    assert np.all(y < NUM_CLASSES)
    X2, y2 = data._make_chunk(("scene", 5, 0, 60, 0))
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_scene_kind_sources_render_only_their_kind(monkeypatch):
    """``scene-dotpeen`` cuts its glyphs from dot-peen photos only; ``scene`` from every kind."""
    import train.scene_crops as sc
    from train.scenes import KINDS

    rendered = []
    real = sc.render_scene

    def spy(kind, seed, **kw):
        rendered.append(kind)
        return real(kind, seed, **kw)

    monkeypatch.setattr(sc, "render_scene", spy)
    X, y = data._make_chunk(("scene-dotpeen", 5, 0, 40, 0))
    assert X.shape == (40, 28, 28) and set(rendered) == {"dotpeen"}
    assert ((y >= 0) | (y == data.REJECT_LABEL)).all() and (y >= 0).sum() >= 30
    assert "scene-dotpeen" in data.SOURCES and len(data.SCENE_KINDS) == len(KINDS)
    rendered.clear()
    data._make_chunk(("scene", 5, 0, 120, 0))
    assert len(set(rendered)) >= 3
