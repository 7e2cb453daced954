"""End to end with the shipped model: scenes in, VINs and the documented JSON out."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import ROOT, assert_no_traceback, run_cli
from vinread.cli import ExitCode
from vinread.model import default_model_path
from vinread.vin import calc_check_digit

pytestmark = pytest.mark.skipif(not default_model_path().is_file(), reason="no shipped model")

SAMPLES = sorted((ROOT / "samples").glob("*.json"))


@pytest.fixture(scope="module")
def reader():
    from vinread import Reader

    return Reader()


def expected(sample_json: Path) -> dict:
    return json.loads(sample_json.read_text())


@pytest.mark.parametrize("meta", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_bundled_samples_read_exactly(reader, meta):
    truth = expected(meta)
    res = reader.read_vin(meta.parent / truth["file"])
    assert res.vin == truth["vin"]
    assert res.valid and res.status == "valid"
    assert len(res.boxes) == 17


def test_json_schema(tmp_path):
    truth = expected(SAMPLES[0])
    p = run_cli("--json", ROOT / "samples" / truth["file"])
    assert_no_traceback(p)
    row = json.loads(p.stdout)
    assert set(row) >= {"file", "vin", "status", "valid", "check_digit", "confidence", "characters",
                        "low_confidence_positions", "corrections", "boxes", "warnings", "error"}
    assert set(row["check_digit"]) == {"expected", "found", "ok", "required"}
    assert len(row["characters"]) == 17 and len(row["boxes"]) == 17
    for i, ch in enumerate(row["characters"], start=1):
        assert ch["position"] == i and ch["char"] == row["vin"][i - 1] and 0 <= ch["confidence"] <= 1
        assert all(set(a) == {"char", "p"} and a["char"] != ch["char"] for a in ch["alternatives"])
    for c in row["corrections"]:
        assert set(c) == {"position", "read", "chosen"}
    assert all(len(b) == 4 for b in row["boxes"])
    assert row["error"] is None and isinstance(row["warnings"], list)
    assert 0 <= row["confidence"] <= 1


def test_exit_codes_found_not_found_invalid(tmp_path):
    from train.scenes import render_scene

    truth = expected(SAMPLES[0])
    found = ROOT / "samples" / truth["file"]
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 200, np.uint8))
    # A North American VIN printed with a wrong check digit: read, but invalid.
    good = "1HGCM82633A004352"
    wrong = [c for c in "0123456789" if c != calc_check_digit(good)][3]
    bad_vin = good[:8] + wrong + good[9:]
    scene = render_scene("plate", 5, vin=bad_vin)
    invalid = tmp_path / "invalid.png"
    cv2.imwrite(str(invalid), scene.image)

    p = run_cli(found)
    assert p.returncode == ExitCode.OK and p.stdout.split("\t")[:2] == [truth["vin"], "valid"]
    p = run_cli(blank)
    assert p.returncode == ExitCode.NOT_FOUND and p.stdout.startswith("-\tnot-found\t")
    p = run_cli("--json", invalid)
    row = json.loads(p.stdout)
    assert p.returncode == ExitCode.NOT_FOUND
    assert row["status"] == "invalid" and row["vin"] == bad_vin and row["check_digit"]["ok"] is False
    p = run_cli(found, blank)
    assert p.returncode == ExitCode.NOT_FOUND and len(p.stdout.splitlines()) == 2


def test_array_input_and_api_shortcut(reader):
    truth = expected(SAMPLES[0])
    img = cv2.imread(str(ROOT / "samples" / truth["file"]))
    res = reader.read_vin(img)
    assert res.vin == truth["vin"] and res.file is None


def test_debug_pictures_and_barcode_fields(tmp_path):
    truth = expected(ROOT / "samples" / "sticker.json")
    p = run_cli("--json", "--debug", tmp_path / "dbg", ROOT / "samples" / truth["file"])
    row = json.loads(p.stdout)
    assert row["vin"] == truth["vin"]
    assert row["barcode"]["source"] in ("both", "ocr", "barcode")
    assert row["decoded"]["wmi"] == truth["vin"][:3]
    written = sorted(f.name for f in (tmp_path / "dbg").iterdir())
    assert written == ["sticker.crops.png", "sticker.overlay.png"]
    overlay = cv2.imread(str(tmp_path / "dbg" / "sticker.overlay.png"))
    assert overlay is not None and overlay.shape[0] > 100


def test_either_polarity_keeps_each_crops_better_reading(reader):
    """An engraved groove reads as dark or light ink: "either" scores both in one batch and keeps,
    per crop, the reading with the higher top probability x glyphness."""
    crops = []
    for ch, (ink, ground) in zip("7K3", [(30, 220), (220, 30), (40, 200)]):
        img = np.full((64, 48), ground, np.uint8)
        cv2.putText(img, ch, (6, 54), cv2.FONT_HERSHEY_SIMPLEX, 2.0, ink, 5, cv2.LINE_AA)
        crops.append(img)
    dark, light = reader.score_crops(crops, "dark"), reader.score_crops(crops, "light")
    probs, glyph = reader.score_crops(crops, "either")
    for i in range(len(crops)):
        scores = [p[i].max() * g[i] for p, g in (dark, light)]
        want = (dark, light)[int(np.argmax(scores))]
        np.testing.assert_allclose(probs[i], want[0][i], atol=1e-6)
        assert glyph[i] == pytest.approx(want[1][i], abs=1e-6)
    # each crop's own polarity wins: dark ink for 7 and 3, light ink for K
    assert glyph[1] == pytest.approx(light[1][1], abs=1e-6) and light[1][1] > dark[1][1]
    assert "".join("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"[k] for k in probs.argmax(1)) == "7K3"


def test_dot_pass_runs_only_when_nothing_read_surely(reader, monkeypatch):
    """The Hessian dot pass is the fallback: a photo whose threshold lines read surely never pays for it."""
    import vinread.search as search
    from vinread.segment import find_lines

    asked = []

    def spy(image, *args, **kwargs):
        asked.append(tuple(kwargs.get("passes", ())))
        return find_lines(image, *args, **kwargs)

    monkeypatch.setattr(search, "find_lines", spy)
    truth = expected(ROOT / "samples" / "plate.json")
    assert reader.read_vin(ROOT / "samples" / truth["file"]).vin == truth["vin"]
    assert asked == [("threshold",)]
    asked.clear()
    assert reader.read_vin(np.full((400, 600, 3), 128, np.uint8)).vin is None
    assert ("dots",) in asked
    with pytest.raises(ValueError):
        find_lines(np.zeros((50, 50), np.uint8), passes=("nonsense",))


def test_a_barcode_chosen_over_the_ocr_drops_the_ocr_readings_notes(reader, monkeypatch):
    from vinread import barcode
    from vinread.barcode import BarcodeVin
    from vinread.results import VinResult
    from vinread.vin import check

    ocr, bar = "1HGCM82B33A004352", "1HGCM82633A004352"      # the OCR misread position 8
    res = VinResult("label.png", vin=ocr, warnings=[check(ocr).error, "another VIN is also in the image: X"])
    monkeypatch.setattr(barcode, "read_vin_barcodes", lambda arr, angle=None: [
        BarcodeVin(bar, "I" + bar, "Code39", (0, 0, 9, 9), 0.0, True)])
    reader._cross_check(res, np.zeros((20, 20), np.uint8), [0.0])
    assert res.vin == bar and res.valid and res.status == "valid"
    assert check(ocr).error not in res.warnings
    assert "another VIN is also in the image: X" in res.warnings
    assert any("barcode says" in w for w in res.warnings)


def test_positions_a_barcode_contradicts_are_flagged_when_the_ocr_reading_is_kept(reader, monkeypatch):
    from vinread import barcode
    from vinread.barcode import BarcodeVin
    from vinread.results import VinResult

    ocr, bar = "1HGCM82633A004352", "1HGCM82B33A004352"      # the barcode's check digit fails
    res = VinResult("label.png", vin=ocr, low_confidence_positions=[2])
    monkeypatch.setattr(barcode, "read_vin_barcodes", lambda arr, angle=None: [
        BarcodeVin(bar, "I" + bar, "Code39", (0, 0, 9, 9), 0.0, False)])
    reader._cross_check(res, np.zeros((20, 20), np.uint8), [0.0])
    assert res.vin == ocr and res.barcode["agree"] is False
    assert res.low_confidence_positions == [2, 8]


@pytest.mark.parametrize("vin, low", [("VR333VVFZ9XY1245U", [17]), ("VR333VVFZ9XY12456", [])])
def test_a_character_breaking_a_plausibility_rule_is_flagged_however_probable(reader, vin, low):
    from types import SimpleNamespace

    from vinread.alphabet import ALPHABET
    from vinread.results import VinResult

    probs = np.full((17, len(ALPHABET)), 0.01 / (len(ALPHABET) - 1))
    probs[np.arange(17), [ALPHABET.index(c) for c in vin]] = 0.99
    hyp = SimpleNamespace(probs=probs, boxes=np.zeros((17, 4), int), angle=0.0, warnings=[])
    res = reader._describe(VinResult("plate.png"), hyp)
    assert res.vin == vin and min(c.confidence for c in res.characters) >= 0.99
    assert res.low_confidence_positions == low


def test_a_crop_the_model_doubts_is_one_whole_glyph_is_flagged_however_probable(reader):
    """A logo letter or a label's edge taken into the window reads as a sure character, but its
    glyph-or-not score gives it away: that position is flagged, with a warning."""
    from types import SimpleNamespace

    from vinread.alphabet import ALPHABET
    from vinread.pipeline import LOW_GLYPHNESS
    from vinread.results import VinResult

    vin = "1M8GDM9AXKP042788"
    probs = np.full((17, len(ALPHABET)), 0.01 / (len(ALPHABET) - 1))
    probs[np.arange(17), [ALPHABET.index(c) for c in vin]] = 0.99
    glyphness = np.full(17, 0.99)
    hyp = SimpleNamespace(probs=probs, boxes=np.zeros((17, 4), int), angle=0.0, warnings=[],
                          glyphness=glyphness)
    assert reader._describe(VinResult("a.png"), hyp).low_confidence_positions == []
    glyphness[[0, 4]] = [LOW_GLYPHNESS - 0.1, LOW_GLYPHNESS - 0.3]
    res = reader._describe(VinResult("a.png"), hyp)
    assert res.vin == vin and res.low_confidence_positions == [1, 5]
    assert any("position 1, 5 may not be one whole glyph" in w for w in res.warnings)


def test_score_views_averages_the_views_of_each_crop(reader):
    """Each crop is read in every view of VIEWS (itself, turned, sheared) and the readings are
    averaged: the same as scoring the views one by one and taking the mean."""
    from vinread.pipeline import VIEWS, view_of

    crops = []
    for ch in "8B":
        img = np.full((64, 48), 215, np.uint8)
        cv2.putText(img, ch, (6, 54), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 35, 5, cv2.LINE_AA)
        crops.append(img)
    assert view_of(crops[0], 0.0, 0.0) is crops[0]
    turned = view_of(crops[0], 3.0, 0.0)
    assert turned.shape == crops[0].shape and not np.array_equal(turned, crops[0])
    probs, glyph = reader.score_views(crops, "dark")
    assert probs.shape == (2, 33) and glyph.shape == (2,)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    for i, crop in enumerate(crops):
        p, g = reader.score_crops([view_of(crop, *v) for v in VIEWS], "dark")
        np.testing.assert_allclose(probs[i], p.mean(0) / p.mean(0).sum(), atol=1e-5)
        assert glyph[i] == pytest.approx(float(g.mean()), abs=1e-5)
    assert "".join("0123456789ABCDEFGHJKLMNPRSTUVWXYZ"[k] for k in probs.argmax(1)) == "8B"


def test_crops_read_before_in_the_same_photo_are_not_normalised_again(reader, monkeypatch):
    """While a photo is searched, a crop already scored in the same polarity comes from memory:
    the same scores as reading it afresh, without normalising it again; another polarity, or
    the same crop outside a search, is read again."""
    import vinread.pipeline as pipeline

    crops = []
    for ch in "7K3":
        img = np.full((64, 48), 215, np.uint8)
        cv2.putText(img, ch, (6, 54), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 35, 5, cv2.LINE_AA)
        crops.append(img)
    afresh = reader.score_crops(crops, "dark")
    calls = []
    real = pipeline.normalize_glyph
    monkeypatch.setattr(pipeline, "normalize_glyph", lambda c, pol: calls.append(pol) or real(c, pol))
    reader._memo = {}
    try:
        first = reader.score_crops([crops[0], crops[1], crops[0].copy()], "dark")
        assert calls == ["dark", "dark"]                 # the copy of crop 0 is the same crop
        again = reader.score_crops(crops[::-1], "dark")
        assert calls == ["dark"] * 3                     # only crop 2 is new
        reader.score_crops(crops[:1], "light")
        assert calls == ["dark"] * 3 + ["light"]
        none = reader.score_crops([], "dark")
        assert none[0].shape == (0, 33) and none[1].shape == (0,)
    finally:
        reader._memo = None
    np.testing.assert_allclose(first[0], afresh[0][[0, 1, 0]], atol=1e-5)
    np.testing.assert_allclose(again[0], afresh[0][::-1], atol=1e-5)
    np.testing.assert_allclose(again[1], afresh[1][::-1], atol=1e-5)
    reader.score_crops(crops[:1], "dark")
    assert len(calls) == 5                               # no memory outside a search
    assert reader.read_vin(str(ROOT / "samples" / "sticker.jpg")).vin and reader._memo is None


def test_a_faint_glyph_among_crisp_ones_is_flagged():
    from vinread.pipeline import faint_positions

    def crop(ink: int) -> np.ndarray:
        img = np.full((40, 28), 230, np.uint8)
        cv2.putText(img, "R", (3, 32), cv2.FONT_HERSHEY_SIMPLEX, 1.0, ink, 3)
        return img

    crops = [crop(30) for _ in range(17)]
    assert faint_positions(crops) == []
    crops[5] = crop(200)                      # washed out by glare: 30 grey levels of ink
    crops[11] = np.full((40, 28), 230, np.uint8)
    assert faint_positions(crops) == [6, 12]
    assert faint_positions([]) == []


def test_a_dim_photo_is_read_with_its_grey_levels_spread(reader):
    """An engraved plate photographed with a tenth of its contrast: read as taken, no line
    survives the thresholds; read again with its grey levels spread, it gives the VIN."""
    import vinread.pipeline as pipeline

    truth = json.loads((ROOT / "samples" / "engraved.json").read_text())
    dim = (cv2.imread(str(ROOT / "samples" / truth["file"])) * 0.1 + 20).astype(np.uint8)
    assert reader.read_vin(dim).vin == truth["vin"]
    plain = pipeline.even_exposure
    try:                                        # without the second look: nothing
        pipeline.even_exposure = lambda image: image
        assert reader.read_vin(dim).vin is None
    finally:
        pipeline.even_exposure = plain


def test_an_out_of_focus_photo_is_read_with_its_strips_sharpened(reader, monkeypatch):
    """The dashboard plate blurred by 0.7 % of its longer side (a seventh of a glyph's
    height): sharpened, its strips give the VIN; as blurred, a glyph is misread. (One photo
    shows it at one blur only: at 0.6 % the monospace re-cut reads it either way. On the 24
    real photos blurred by ``bench.read --degrade blur`` sharpening reads 8, without it 4.)"""
    import vinread.segment as segment

    truth = json.loads((ROOT / "samples" / "plate.json").read_text())
    img = cv2.imread(str(ROOT / "samples" / truth["file"]))
    blurred = cv2.GaussianBlur(img, (0, 0), 0.007 * max(img.shape[:2]))
    assert reader.read_vin(blurred).vin == truth["vin"]
    monkeypatch.setattr(segment, "sharpen_blurred", lambda strip: strip)
    assert reader.read_vin(blurred).vin != truth["vin"]


def test_an_image_file_s_bytes_read_like_the_file(reader):
    """Bytes (an upload, a download) are decoded as the file would be: the same VIN, boxes in
    the image's own pixels; bad bytes give an 'unreadable' error, not an exception."""
    truth = expected(ROOT / "samples" / "sticker.json")
    path = ROOT / "samples" / truth["file"]
    data = path.read_bytes()
    from_file, from_bytes = reader.read_vin(path), reader.read_vin(data)
    assert from_bytes.vin == truth["vin"] and from_bytes.file is None
    assert from_bytes.boxes == from_file.boxes
    assert reader.read_vin(bytearray(b"not an image")).error["code"] == "unreadable"
    glyph = write_glyph_bytes("K")
    assert [g.char for g in reader.classify([glyph, memoryview(glyph)])] == ["K", "K"]


def write_glyph_bytes(char: str) -> bytes:
    img = np.full((64, 48), 255, np.uint8)
    cv2.putText(img, char, (6, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 5)
    return cv2.imencode(".png", img)[1].tobytes()


def test_a_time_limit_stops_the_search_and_says_so(monkeypatch):
    # the plate turned a quarter reads only when the photo is also searched turned: a limit of
    # 0 s lets the upright search read its first line and nothing after
    from vinread import Reader, search

    calls, lines = [], []
    searched, decode = search.best_hypothesis, search.decode_line
    monkeypatch.setattr(search, "best_hypothesis", lambda *a: calls.append(1) or searched(*a))
    monkeypatch.setattr(search, "decode_line", lambda *a, **k: lines.append(1) or decode(*a, **k))
    truth = expected(ROOT / "samples" / "plate.json")
    photo = cv2.rotate(cv2.imread(str(ROOT / "samples" / truth["file"])), cv2.ROTATE_90_CLOCKWISE)
    full = Reader().read_vin(photo)
    assert full.vin == truth["vin"] and len(calls) > 1 and len(lines) > 1
    assert not any("time limit" in w for w in full.warnings)
    calls.clear()
    lines.clear()
    cut = Reader(time_limit=0).read_vin(photo)
    assert len(calls) == 1 and len(lines) <= 1      # upright, up to its first decoded line
    assert cut.warnings[-1] == "search stopped at the 0 s time limit: the photo was not searched in full"
    both = Reader(time_limit=0).read_consensus([photo, photo])
    assert "array: search stopped at the 0 s time limit: the photo was not searched in full" in both.warnings
    # a limit the search stays within changes nothing
    roomy = Reader(time_limit=600).read_vin(photo)
    assert roomy.vin == full.vin and roomy.warnings == full.warnings
    with pytest.raises(ValueError):
        Reader(time_limit=-1)
