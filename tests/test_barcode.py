"""Barcode cross-check: generated labels (Code 39, Code 128, DataMatrix, QR), rendered stickers."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

zxingcpp = pytest.importorskip("zxingcpp")

from vinread.barcode import BarcodeVin, cross_check, read_vin_barcodes, vin_from_text, vins_from_text  # noqa: E402

NA = "1HGCM82633A004352"        # check digit mandatory and right
EU = "WVGZZZ5NZEW069297"        # no check digit required
NA_BAD = "1HGCM82B33A004352"    # position 8 misread: check digit fails


def code(text: str, fmt: str, scale: int = 3) -> np.ndarray:
    """(h, w) uint8 barcode image from zxing-cpp's writer (3.x create_barcode, 2.x write_barcode)."""
    f = getattr(zxingcpp.BarcodeFormat, fmt)
    try:
        img = np.asarray(zxingcpp.create_barcode(text, f).to_image(scale=scale))
    except (AttributeError, TypeError):  # zxing-cpp 2.x
        img = np.asarray(zxingcpp.write_barcode(f, text, 0, 0, 10))
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    if fmt in ("Code39", "Code128", "EAN13"):  # 1-D: a band 50 px high, as on labels
        img = np.repeat(img[img.shape[0] // 2][None], 50, axis=0)
    return img


def label(text: str, fmt: str, scale: int = 3, at=(60, 140)) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A BGR 'door-jamb label' with a caption, the VIN in text and the barcode; and the barcode's box."""
    bc = code(text, fmt, scale)
    h, w = bc.shape
    canvas = np.full((max(420, at[1] + h + 60), max(900, at[0] + w + 60)), 235, np.uint8)
    cv2.putText(canvas, "MFD BY HONDA  GVWR 2027 KG", (60, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 20, 2)
    cv2.putText(canvas, "VIN " + NA, (60, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 20, 2)
    canvas[at[1]:at[1] + h, at[0]:at[0] + w] = bc
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR), (at[0], at[1], w, h)


def overlaps(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("text,fmt,vin", [
    ("I" + NA, "Code39", NA),                       # import marker: 18 characters
    (NA, "Code39", NA),
    (EU, "Code128", EU),
    (NA, "DataMatrix", NA),
    ("VIN:" + EU + ";MDL:TOUAREG;YR:2014", "DataMatrix", EU),  # VIN inside a longer payload
    ("[)>06 I" + NA + " 1T2003", "QRCode", NA),
])
def test_reads_generated_labels(text, fmt, vin):
    img, box = label(text, fmt)
    found = read_vin_barcodes(img)
    assert [b.vin for b in found] == [vin]
    b = found[0]
    assert b.raw == text and b.format == fmt and b.valid
    assert overlaps(b.box, box)
    assert abs(b.angle) < 2


def test_gray_input_and_json_form():
    img, _ = label(NA, "Code128")
    b = read_vin_barcodes(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))[0]
    d = b.to_dict()
    assert d["vin"] == NA and d["format"] == "Code128" and len(d["box"]) == 4


def test_rotated_label_90_degrees():
    img, _ = label("I" + NA, "Code39")
    rot = np.ascontiguousarray(np.rot90(img))        # counter-clockwise: the barcode runs bottom to top
    found = read_vin_barcodes(rot)
    assert [b.vin for b in found] == [NA]
    x, y, w, h = found[0].box
    assert h > 3 * w                                  # a tall box: the barcode stands upright
    assert abs(abs(found[0].angle) - 90) < 3


def test_tilted_label_needs_the_angle_hint():
    img, _ = label(EU, "Code128", scale=2)
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), -12, 1.0)     # tilt clockwise by 12 degrees
    tilted = cv2.warpAffine(img, M, (w, h), borderValue=(235, 235, 235))
    assert read_vin_barcodes(tilted) == []                # no scan line crosses the whole barcode
    found = read_vin_barcodes(tilted, angle=12.0)
    assert [b.vin for b in found] == [EU]
    assert 8 < found[0].angle < 16                       # reported in the photo's frame
    assert 0 <= found[0].box[0] < w and 0 <= found[0].box[1] < h


def test_no_barcode():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (600, 800, 3), np.uint8)
    text = np.full((300, 900, 3), 230, np.uint8)
    cv2.putText(text, NA, (40, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3)
    for img in (noise, text, np.zeros((5, 5), np.uint8)):
        assert read_vin_barcodes(img) == []


def test_barcodes_without_a_vin_are_ignored():
    img, _ = label("4006381333931", "EAN13")
    assert read_vin_barcodes(img, formats="Code39,Code128,DataMatrix,QRCode,EAN13") == []
    img, _ = label("HELLO WORLD", "Code128")
    assert read_vin_barcodes(img) == []


def test_rendered_stickers():
    """Synthetic door-jamb stickers: every VIN read back from a barcode is the right one."""
    scenes = pytest.importorskip("train.scenes")
    read = right = 0
    for seed in range(8):
        s = scenes.render_scene("sticker", seed)
        found = read_vin_barcodes(s.image, angle=s.angle)
        if found:
            read += 1
            right += found[0].vin == s.vin
    assert right == read
    assert read >= 3          # seeds 1, 2, 4 and 6 carry a readable barcode


def test_vin_from_text():
    assert vin_from_text("I" + NA) == NA
    assert vin_from_text("*" + NA + "*") == NA
    assert vin_from_text(NA.lower()) == NA
    assert vin_from_text("1HGCM 82633 A004352") == NA
    assert vin_from_text("1HGCM-82633-A004352") == NA
    assert vin_from_text("VIN: " + EU) == EU
    assert vin_from_text(NA + "ACCORD2003") == NA        # no separator: check digit decides
    assert vin_from_text(EU + "-") == EU
    assert vin_from_text(EU + "E") is None or vin_from_text(EU + "E") == EU
    assert vin_from_text("1HGCM82633A00435") is None      # 16 characters
    assert vin_from_text("1HGCM82633A0O4352") is None     # O is never in a VIN
    assert vin_from_text("") is None


def test_code39_mod43_check_character_is_dropped():
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
    check = chars[sum(chars.index(c) for c in EU) % 43]
    assert vin_from_text(EU + check) == EU


def test_valid_vins_come_first():
    assert vins_from_text(NA_BAD + " " + NA) == [NA_BAD, NA]
    assert vin_from_text(NA_BAD + " " + NA) == NA


def _bc(vin: str) -> BarcodeVin:
    from vinread.vin import is_valid
    return BarcodeVin(vin, vin, "Code39", (0, 0, 10, 10), 0.0, is_valid(vin))


def test_cross_check_agree():
    r = cross_check(NA, [_bc(NA)])
    assert r == {"source": "both", "barcode": NA, "agree": True, "chosen": NA, "warning": None}


def test_cross_check_prefers_the_valid_one():
    r = cross_check(NA_BAD, [_bc(NA)])
    assert (r["source"], r["agree"], r["chosen"], r["barcode"]) == ("barcode", False, NA, NA)
    assert "position 8" in r["warning"] and "barcode" in r["warning"]
    r = cross_check(NA, [_bc(NA_BAD)])
    assert (r["source"], r["agree"], r["chosen"]) == ("ocr", False, NA)
    assert "OCR" in r["warning"]


def test_cross_check_tie_goes_to_the_barcode():
    other = "WVGZZZ5NZEW069298"      # both valid (no check digit required in Europe)
    r = cross_check(other, [_bc(EU)])
    assert r["source"] == "barcode" and r["chosen"] == EU and r["agree"] is False and r["warning"]


def test_cross_check_one_side_only():
    assert cross_check(NA, []) == {"source": "ocr", "barcode": None, "agree": None, "chosen": NA,
                                   "warning": None}
    assert cross_check(None, [_bc(EU)]) == {"source": "barcode", "barcode": EU, "agree": None,
                                            "chosen": EU, "warning": None}
    assert cross_check(None, [])["chosen"] is None


def _tilt(img, degrees):
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    return cv2.warpAffine(img, M, (w, h), borderValue=(235, 235, 235))


def test_any_text_line_angle_levels_the_barcode():
    img, _ = label(EU, "Code128", scale=2)
    tilted = _tilt(img, 12)
    # the VIN was read from a level line; another line of the label runs as the barcode does
    assert [b.vin for b in read_vin_barcodes(tilted, angle=[0.4, 12.0])] == [EU]


def test_a_barcode_tilted_apart_from_its_text_is_swept_for(monkeypatch):
    from vinread import barcode

    img, _ = label(EU, "Code128", scale=2)
    tilted = _tilt(img, 8)                  # perspective: the bars lean away from the text
    assert [b.vin for b in read_vin_barcodes(tilted, angle=0.0)] == [EU]
    monkeypatch.setattr(barcode, "LEVEL_SWEEP", ())
    assert read_vin_barcodes(tilted, angle=0.0) == []


def test_cross_check_picks_the_matching_barcode():
    r = cross_check(EU, [_bc(NA), _bc(EU)])
    assert r["source"] == "both" and r["barcode"] == EU


def test_cross_check_a_reading_of_another_line_loses_to_a_valid_barcode():
    """An OCR string that shares little with the barcode is another line, not the VIN misread: its
    check digit holding (one string in eleven does) does not outweigh a barcode that validates."""
    assert sum(a != b for a, b in zip(NA, EU)) > 3
    r = cross_check(NA, [_bc(EU)])           # NA's check digit holds, EU's need not
    assert (r["source"], r["chosen"], r["agree"]) == ("barcode", EU, False)
    assert "differs too much" in r["warning"]
    assert cross_check(NA, [_bc(NA_BAD)])["chosen"] == NA   # one misread position: the stronger wins


def test_label_lit_from_one_side():
    """A label whose light falls to a tenth across it: its bars are lost to zxing-cpp's
    thresholds at the dark end, and read once the light is divided out (flat_field)."""
    from vinread.barcode import flat_field

    img, box = label(NA, "Code39")
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    fall = np.linspace(0.1, 1.0, gray.shape[1], dtype=np.float32) ** 2
    dark = (gray * fall[None, :]).astype(np.uint8)
    assert zxingcpp.read_barcodes(dark) == [] or NA not in [c.text for c in zxingcpp.read_barcodes(dark)]
    found = read_vin_barcodes(dark)
    assert [b.vin for b in found] == [NA] and overlaps(found[0].box, box)
    even = flat_field(dark)
    assert even.shape == dark.shape and even.dtype == np.uint8
    def ends(im):                                  # bare label above the caption: right / left
        paper = im[5:40, 5:-5].astype(float)
        return paper[:, -20:].mean() / max(paper[:, :20].mean(), 1.0)
    assert ends(dark) > 8 and ends(even) < 2
