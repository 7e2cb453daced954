"""Debug pictures: written atomically, readable, right sizes, coloured boxes."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from vinread import debug
from vinread.debug import (BARCODE, CAPTION_H, CROP_GAP, CROP_SCALE, CROP_TEXT_H, LOW, OK, crops_strip,
                           safe_name, write_debug)

VIN = "1HGCM82633A004352"


def result(scale: float = 1.0, low=(5, 11)) -> dict:
    """A VinResult-like dict whose 17 boxes lie on one line of a 2400x1200 photo (times ``scale``)."""
    boxes = [[int((200 + 90 * i) * scale), int(600 * scale), int(70 * scale), int(100 * scale)]
             for i in range(17)]
    chars = [{"position": i + 1, "char": c, "confidence": 0.5 if i + 1 in low else 0.97,
              "alternatives": []} for i, c in enumerate(VIN)]
    return {"file": "x.jpg", "vin": VIN, "status": "valid", "valid": True, "confidence": 0.62,
            "characters": chars, "low_confidence_positions": list(low), "boxes": boxes, "angle": 0.0,
            "warnings": [], "error": None}


def photo(h=1200, w=2400) -> np.ndarray:
    return np.full((h, w, 3), 128, np.uint8)


def crops(n=17) -> np.ndarray:
    c = np.zeros((n, 28, 28), np.float32)
    c[:, 4:24, 12:16] = 1.0
    return c


def has_colour(img: np.ndarray, bgr) -> int:
    return int(np.all(img == np.array(bgr, np.uint8), axis=2).sum())


def test_writes_both_pictures(tmp_path):
    out = tmp_path / "new" / "dir"
    paths = write_debug(out, "photos/door jamb.jpg", photo(), result(), crops(), 0.8)
    assert [p.name for p in paths] == ["door_jamb.overlay.png", "door_jamb.crops.png"]
    ov = cv2.imread(str(paths[0]))
    assert ov.shape == (CAPTION_H + 800, 1600, 3)                 # 2400 px long side -> 1600
    cr = cv2.imread(str(paths[1]))
    side = 28 * CROP_SCALE
    assert cr.shape == (CROP_GAP + side + CROP_TEXT_H, 17 * (side + CROP_GAP) + CROP_GAP, 3)
    assert sorted(os.listdir(out)) == ["door_jamb.crops.png", "door_jamb.overlay.png"]   # no temp files


def test_overlay_colours_low_and_confident_boxes(tmp_path):
    paths = write_debug(tmp_path, "a.png", photo(), result(low=(5, 11)), None, 0.8)
    assert len(paths) == 1
    ov = cv2.imread(str(paths[0]))
    body = ov[CAPTION_H:]
    assert has_colour(body, LOW) > 100 and has_colour(body, OK) > 100
    s = 1600 / 2400
    x, y, w, h = result()["boxes"][4]                                # position 5: low
    edge = body[round((y + h / 2) * s), round(x * s)]
    assert tuple(int(v) for v in edge) == LOW
    x, y, w, h = result()["boxes"][0]                                # position 1: confident
    assert tuple(int(v) for v in body[round((y + h / 2) * s), round(x * s)]) == OK


def test_low_threshold_flags_characters_too(tmp_path):
    r = result(low=())
    r["characters"][2]["confidence"] = 0.6
    ov = cv2.imread(str(write_debug(tmp_path, "b", photo(), r, None, 0.8)[0]))[CAPTION_H:]
    assert has_colour(ov, LOW) > 0
    ov = cv2.imread(str(write_debug(tmp_path, "c", photo(), r, None, 0.5)[0]))[CAPTION_H:]
    assert has_colour(ov, LOW) == 0


def test_small_photo_is_not_upscaled_and_gray_works(tmp_path):
    gray = np.full((600, 1200), 128, np.uint8)
    p = write_debug(tmp_path, "g.jpg", gray, result(scale=0.5), crops(), 0.8)[0]
    assert cv2.imread(str(p)).shape == (CAPTION_H + 600, 1200, 3)


def test_bgra_and_float_photos(tmp_path):
    bgra = np.full((300, 400, 4), 200, np.uint8)
    flt = np.full((300, 400, 3), 0.5, np.float32)
    for name, img in (("a", bgra), ("f", flt)):
        p = write_debug(tmp_path, name, img, result(0.1), None)[0]
        assert cv2.imread(str(p)).shape == (CAPTION_H + 300, 400, 3)


def test_not_found_result(tmp_path):
    r = {"file": "n.jpg", "vin": None, "status": "not_found", "boxes": [], "characters": [],
         "low_confidence_positions": []}
    paths = write_debug(tmp_path, "n.jpg", photo(300, 500), r, None, 0.8)
    ov = cv2.imread(str(paths[0]))
    assert ov.shape == (CAPTION_H + 300, 500, 3)
    assert has_colour(ov[CAPTION_H:], LOW) == 0 and has_colour(ov[CAPTION_H:], OK) == 0


def test_barcode_boxes_are_drawn(tmp_path):
    from vinread.barcode import BarcodeVin
    bc = [BarcodeVin(VIN, "I" + VIN, "Code39", (300, 200, 900, 120), 0.0, True)]
    ov = cv2.imread(str(write_debug(tmp_path, "b", photo(), result(), None, 0.8, barcodes=bc)[0]))
    assert has_colour(ov[CAPTION_H:], BARCODE) > 100


def test_crops_strip_inputs():
    side = 28 * CROP_SCALE
    for c in (crops(), crops()[..., None], (crops() * 255).astype(np.uint8), list(crops())):
        strip = crops_strip(c, result())
        assert strip.shape == (CROP_GAP + side + CROP_TEXT_H, 17 * (side + CROP_GAP) + CROP_GAP, 3)
        assert strip[CROP_GAP + 40, CROP_GAP + 14 * CROP_SCALE].tolist() == [255, 255, 255]   # the ink, x3
        assert has_colour(strip, LOW) > 0 and has_colour(strip, OK) > 0


def test_overwrites_atomically(tmp_path, monkeypatch):
    p = write_debug(tmp_path, "x.jpg", photo(200, 300), result(0.1), None)[0]
    p.write_bytes(b"old")
    write_debug(tmp_path, "x.jpg", photo(200, 300), result(0.1), None)
    assert cv2.imread(str(p)) is not None

    def fail(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(debug.os, "replace", fail)
    with pytest.raises(OSError):
        write_debug(tmp_path, "y.jpg", photo(200, 300), result(0.1), None)
    assert sorted(os.listdir(tmp_path)) == ["x.overlay.png"]     # no half-written file, no temp file


@pytest.mark.parametrize("name,stem", [
    ("photo.jpg", "photo"), ("a/b/c/IMG 0001.JPEG", "IMG_0001"), ("../../etc/passwd", "passwd"),
    (None, "image"), ("", "image"), (".hidden.png", "hidden"), ("con.jpg", "_con"),
    ("x" * 300 + ".png", "x" * 100), ("vin:1HG*?.png", "vin_1HG"), ("archive.tar.gz", "archive.tar"),
])
def test_safe_name(name, stem):
    assert safe_name(name) == stem
