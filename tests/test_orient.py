import numpy as np
import pytest

from vinread.orient import TURNS, rotate, unrotate_boxes
from vinread.pipeline import WEAK_SCORE


@pytest.mark.parametrize("angle", sorted(TURNS))
def test_boxes_map_back_to_the_same_pixels(angle):
    img = np.zeros((60, 90), np.uint8)
    x, y, w, h = 20, 10, 15, 7
    img[y:y + h, x:x + w] = 255
    turned = rotate(img, angle)
    ys, xs = np.nonzero(turned)
    box = [int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1]
    assert unrotate_boxes([box], angle, img.shape) == [[x, y, w, h]]


def test_text_angle_turns():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert rotate(img, 90).shape == (4, 3) and rotate(img, 180)[0, 0] == 11


@pytest.fixture(scope="module")
def reader():
    from vinread import Reader
    from vinread.model import default_model_path

    if not default_model_path().is_file():
        pytest.skip("no shipped model")
    return Reader(barcodes=False)


@pytest.fixture(scope="module")
def plate():
    import json

    import cv2

    from conftest import ROOT

    meta = json.loads((ROOT / "samples" / "plate.json").read_text())
    return cv2.imread(str(ROOT / "samples" / meta["file"])), meta


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_turned_photos_are_read_with_the_angle(reader, plate, angle):
    import cv2

    image, meta = plate
    upright = reader.read_vin(image)
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[angle]
    res = reader.read_vin(cv2.rotate(image, turn))
    assert res.vin == meta["vin"] and res.valid
    assert abs(((res.angle - upright.angle - angle) + 180) % 360 - 180) < 3
    turned_shape = cv2.rotate(image, turn).shape
    for x, y, w, h in res.boxes:
        assert 0 <= x and x + w <= turned_shape[1] + 2 and 0 <= y and y + h <= turned_shape[0] + 2


@pytest.mark.parametrize("tilt", [-8, 5])
def test_small_angles(reader, plate, tilt):
    import cv2

    image, meta = plate
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0)
    res = reader.read_vin(cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    assert res.vin == meta["vin"]


def test_consensus_of_several_photos(reader, plate, tmp_path):
    import cv2

    image, meta = plate
    blurred = tmp_path / "blurred.png"
    cv2.imwrite(str(blurred), cv2.GaussianBlur(image, (0, 0), 1.2))
    res = reader.read_consensus([image, str(blurred), str(tmp_path / "missing.png")])
    assert res.vin == meta["vin"] and res.file == "consensus of 2 photos"
    assert any(w.startswith("unreadable: ") and "missing.png" in w for w in res.warnings)


def test_turns_worth_reading(reader, plate):
    """Nothing found: every turn. An upright reading: no turn. The same photo upside down:
    the half turn is tried (only it when the upside-down reading is plausible, scores at least
    WEAK_SCORE and its crops, turned over, read nearly as well; every turn when nothing
    plausible, or only a weak reading, is found upright)."""
    import cv2

    from vinread.search import best_hypothesis

    image, _ = plate
    assert sorted(reader._turns_to_try(None)) == sorted(TURNS)
    assert reader._turns_to_try(best_hypothesis(image, reader)) == []
    upside_down = best_hypothesis(cv2.rotate(image, cv2.ROTATE_180), reader)
    turns = reader._turns_to_try(upside_down)
    assert 180 in turns
    if upside_down is None or upside_down.score < WEAK_SCORE:
        assert sorted(turns) == sorted(TURNS)       # nothing plausible, or only weakly: every turn
    else:
        assert turns == [180]


def test_unsure_upright_reading_tries_every_turn(reader, plate):
    """A photo turned a quarter can still give an upright 'reading' of its vertical text
    that scores above WEAK_SCORE; when it is so unsure that it would be withheld, every turn
    is read all the same."""
    import copy

    from vinread.correct import choose_vin
    from vinread.search import best_hypothesis

    image, _ = plate
    sure = best_hypothesis(image, reader)
    assert sure.score >= WEAK_SCORE and reader._turns_to_try(sure) == []
    unsure = copy.copy(sure)
    flat = sure.probs ** 0.1                      # same ranking, far less sure
    unsure.probs = flat / flat.sum(1, keepdims=True)
    unsure.mixture = [(1.0, unsure.probs)]        # no rivals: the reading alone
    assert choose_vin(unsure.probs).confidence < reader.min_confidence
    assert sorted(reader._turns_to_try(unsure)) == sorted(TURNS)
