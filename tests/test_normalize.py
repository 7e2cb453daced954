import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vinread.normalize import BlankGlyphError, normalize_glyph, normalize_batch


def glyph(char="7", size=(80, 60), dark=True, thickness=6, frame=False):
    """A character drawn with OpenCV: dark ink on white (or light on black)."""
    h, w = size
    img = np.full((h, w), 255 if dark else 0, np.uint8)
    ink = 0 if dark else 255
    cv2.putText(img, char, (w // 6, int(h * 0.8)), cv2.FONT_HERSHEY_SIMPLEX, h / 40, ink, thickness)
    if frame:
        cv2.rectangle(img, (1, 1), (w - 2, h - 2), ink, 2)
    return img


def centre_of_mass(a):
    ys, xs = np.indices(a.shape)
    return (ys * a).sum() / a.sum(), (xs * a).sum() / a.sum()


def test_shape_range_dtype():
    out = normalize_glyph(glyph())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)


def test_polarity_black_on_white_equals_white_on_black():
    a = normalize_glyph(glyph(dark=True))
    b = normalize_glyph(glyph(dark=False))
    assert np.abs(a - b).mean() < 0.02
    # ink is white: corners are background
    assert a[0, 0] == 0 and a[-1, -1] == 0 and a.mean() < 0.4


def test_input_formats_agree():
    g = glyph()
    bgr = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    bgra = cv2.cvtColor(g, cv2.COLOR_GRAY2BGRA)
    u16 = g.astype(np.uint16) * 257
    transparent = np.zeros((*g.shape, 4), np.uint8)
    transparent[..., 3] = 255 - g  # black ink drawn only in the alpha channel
    ref = normalize_glyph(g)
    for img in (bgr, bgra, u16, g[..., None], g.astype(np.float32) / 255, transparent):
        assert np.abs(normalize_glyph(img) - ref).max() < 0.05


def test_centred_by_mass_and_fitted():
    img = np.zeros((200, 200), np.uint8)
    img[20:60, 130:150] = 255  # a light bar near a corner
    out = normalize_glyph(img)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6
    rows, cols = np.nonzero(out > 0.5)
    assert 19 <= rows.max() - rows.min() + 1 <= 21  # larger side fitted to 20 px


def test_aspect_kept():
    img = np.zeros((100, 100), np.uint8)
    img[10:90, 40:60] = 255  # 80 x 20: aspect 4
    out = normalize_glyph(img) > 0.5
    rows, cols = np.nonzero(out)
    h, w = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert 19 <= h <= 21 and 4 <= w <= 6


def test_frame_removed():
    plain = normalize_glyph(glyph(dark=True))
    framed = normalize_glyph(glyph(dark=True, frame=True))
    assert np.abs(plain - framed).mean() < 0.03
    framed_light = normalize_glyph(glyph(dark=False, frame=True))
    assert np.abs(plain - framed_light).mean() < 0.03


@pytest.mark.parametrize("img", [np.zeros((30, 30), np.uint8), np.full((30, 30), 200, np.uint8),
                                 np.zeros((0, 0), np.uint8), np.zeros((5, 5, 7), np.uint8)])
def test_blank_is_an_error(img):
    with pytest.raises(BlankGlyphError):
        normalize_glyph(img)


def test_batch():
    out = normalize_batch([glyph("A"), glyph("7", dark=False)])
    assert out.shape == (2, 28, 28, 1)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(3, 120), w=st.integers(3, 120), seed=st.integers(0, 2**31 - 1),
       channels=st.sampled_from([None, 1, 3, 4]))
def test_any_random_image_gives_valid_output_or_blank_error(h, w, seed, channels):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    try:
        out = normalize_glyph(img)
    except BlankGlyphError:
        return
    assert out.shape == (28, 28) and np.isfinite(out).all() and 0 <= out.min() <= out.max() <= 1


def test_huge_input_is_reduced_first():
    img = np.full((3000, 40000), 255, np.uint8)
    img[500:2500, 19000:20000] = 0
    out = normalize_glyph(img)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize("char", ["T", "L", "Z", "E", "F", "7"])
def test_glyph_bar_is_not_a_frame(char):
    """A close crop's edge-to-edge bar (the top of a T, the foot of an L) is the glyph's, not a frame."""
    img = np.full((80, 70), 255, np.uint8)
    cv2.putText(img, char, (8, 68), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 0, 7)
    ys, xs = np.nonzero(img < 128)
    tight = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    close = cv2.copyMakeBorder(tight, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=255)  # the bar covers ~90 %
    padded = cv2.copyMakeBorder(tight, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)
    assert np.abs(normalize_glyph(close) - normalize_glyph(padded)).mean() < 0.03


@pytest.mark.parametrize("levels", [12, 30])
def test_faint_glyph_reads_like_a_crisp_one(levels):
    """A faint stamping or a dim photo spans a few grey levels: contrast is stretched first,
    so it normalises like the same glyph in black on white (not as a blank crop)."""
    crisp = glyph("4")
    faint = (120 - levels * (crisp < 128)).astype(np.uint8)
    a, b = normalize_glyph(crisp), normalize_glyph(faint)
    assert np.abs(a - b).mean() < 0.02


def test_stretch_contrast_bounds_the_gain():
    from vinread.normalize import MIN_SPREAD, stretch_contrast
    flat = 0.5 + 0.004 * np.random.default_rng(0).standard_normal((40, 30)).astype(np.float32)
    out, gain = stretch_contrast(flat)
    assert gain == pytest.approx(1 / MIN_SPREAD)
    assert out.min() >= 0 and out.max() <= 1
    # noise of a flat crop is amplified at most 1 / MIN_SPREAD times: it stays far from ink
    assert np.ptp(out) <= np.ptp(flat) / MIN_SPREAD + 1e-6 and np.ptp(out) < 0.5
    with pytest.raises(BlankGlyphError):
        normalize_glyph(flat)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.float64])
def test_order_statistics_are_numpys_to_the_bit(dtype):
    """The glyph statistics come from one partition, not numpy's calls, with the same values
    and types: percentiles of a number and of a tuple, and medians of odd and even counts."""
    from vinread.normalize import order_statistics

    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 10, 99, 100, 2400):
        v = rng.random((n, 1)) * (255 if dtype == np.uint8 else 1)
        v = (np.round(v * 8) / 8).astype(dtype)          # ties in the order
        lo, hi, middle = order_statistics(v, (1, 99), median=True)
        assert (lo, hi, middle) == (np.percentile(v, 1), np.percentile(v, 99), np.median(v))
        assert type(lo) is type(np.percentile(v, 1)) and type(middle) is type(np.median(v))
        pair = order_statistics(v, ((0.5, 99.5),))[0]
        assert np.array_equal(pair, np.percentile(v, (0.5, 99.5))) and pair.dtype == np.percentile(v, (0.5, 99.5)).dtype
