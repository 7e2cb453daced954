"""A tiny end-to-end training run: data -> fit -> export -> vinread loads it."""
import json

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from vinread.alphabet import NUM_CLASSES  # noqa: E402
from vinread.model import GlyphModel, sha256_of  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from train.fit import train_and_export

    out = tmp_path_factory.mktemp("trained")
    card = train_and_export(
        counts={"printed": 200, "handwriting": 100}, n_rejects=60, emnist="none", emnist_limit=0,
        epochs=1, batch_size=64, arch="small", seed=3, test_per_source=40, workers=1,
        real_dir=None, out=out, machine="test")
    return out, card


def test_writes_every_file_with_matching_sha256(trained):
    out, card = trained
    for name in ("vinread.tflite", "vinread.keras", "vinread.json", "REPORT.md"):
        assert (out / name).is_file()
    on_disk = json.loads((out / "vinread.json").read_text())
    assert on_disk == card
    for name, facts in card["files"].items():
        assert facts["sha256"] == sha256_of(out / name)
    assert card["alphabet"] == "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    assert card["data"]["sources"] == {"printed": 200, "handwriting": 100}
    assert set(card["metrics"]) >= {"synthetic printed", "synthetic handwriting", "glyph-or-not"}
    report = (out / "REPORT.md").read_text()
    assert "| class | precision | recall | F1 | support |" in report


def test_vinread_loads_it_and_tflite_agrees_with_keras(trained):
    import keras

    from train.data import make_glyphs

    out, _ = trained
    x, _ = make_glyphs("printed", 40, seed=99)
    lite = GlyphModel(out / "vinread.tflite")
    probs, glyph = lite.predict(x)
    assert probs.shape == (40, NUM_CLASSES) and glyph.shape == (40,)
    assert np.allclose(probs.sum(1), 1, atol=1e-4)
    model = keras.models.load_model(out / "vinread.keras", compile=False)
    kprobs, kglyph = model.predict(x[..., None], verbose=0)
    assert np.abs(kprobs - probs).max() < 1e-4
    assert np.abs(kglyph.reshape(-1) - glyph).max() < 1e-4
    assert (kprobs.argmax(1) == probs.argmax(1)).all()


def test_wrong_alphabet_card_is_refused(trained, tmp_path):
    from vinread.model import ModelLoadError

    out, card = trained
    (tmp_path / "m.tflite").write_bytes((out / "vinread.tflite").read_bytes())
    (tmp_path / "m.json").write_text(json.dumps({**card, "alphabet": "0123456789"}))
    with pytest.raises(ModelLoadError, match="alphabet"):
        GlyphModel(tmp_path / "m.tflite")
