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


def test_fine_tuning_starts_from_the_given_model(trained, tmp_path):
    """--init loads a model's weights before training: at a negligible learning rate the
    fine-tuned model keeps the weights it started from; a fresh one has its own. The card
    names the starting model and its sha256."""
    import keras

    from train.fit import train_and_export
    from vinread.model import sha256_of

    out, _ = trained
    kernels = {}
    for name, init in (("tuned", out / "vinread.keras"), ("fresh", None)):
        card = train_and_export(
            counts={"printed": 66}, n_rejects=10, emnist="none", emnist_limit=0, epochs=1,
            batch_size=64, arch="small", seed=4, test_per_source=10, workers=1, real_dir=None,
            out=tmp_path / name, machine="test", init=init, learning_rate=1e-9)
        assert card["learning_rate"] == 1e-9
        assert card["init"] == ({"file": init.name, "sha256": sha256_of(init)} if init else None)
        kernels[name] = keras.models.load_model(tmp_path / name / "vinread.keras", compile=False) \
            .get_layer("conv1").get_weights()[0]
    base = keras.models.load_model(out / "vinread.keras", compile=False).get_layer("conv1").get_weights()[0]
    assert np.abs(kernels["tuned"] - base).max() < 1e-6
    assert np.abs(kernels["fresh"] - base).max() > 1e-2


def test_wrong_alphabet_card_is_refused(trained, tmp_path):
    from vinread.model import ModelLoadError

    out, card = trained
    (tmp_path / "m.tflite").write_bytes((out / "vinread.tflite").read_bytes())
    (tmp_path / "m.json").write_text(json.dumps({**card, "alphabet": "0123456789"}))
    with pytest.raises(ModelLoadError, match="alphabet"):
        GlyphModel(tmp_path / "m.tflite")


def test_a_model_trained_without_tensorflow_is_exported_as_keras_then_finished(trained, tmp_path,
                                                                            monkeypatch):
    """Under another Keras backend (a GPU machine's JAX, say) export writes .keras and a card without
    the .tflite; ``python -m train.export DIR`` then evaluates, converts and rewrites the card."""
    import sys

    import keras

    from train.export import export, main

    out, card = trained
    model = keras.models.load_model(out / "vinread.keras")
    (tmp_path / "vinread.tflite").write_bytes(b"an older model")
    training = {k: card[k] for k in ("architecture", "params", "epochs", "batch_size", "seed",
                                     "test_per_source", "data", "train_seconds", "machine", "metrics")}
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    part = export(model, tmp_path, training)
    monkeypatch.undo()
    assert set(part["files"]) == {"vinread.keras"}
    assert not (tmp_path / "vinread.tflite").exists()

    assert main([str(tmp_path), "--real-dir", str(tmp_path / "none"), "--workers", "1"]) == 0
    done = json.loads((tmp_path / "vinread.json").read_text())
    assert set(done["files"]) == {"vinread.keras", "vinread.tflite"}
    for name, facts in done["files"].items():
        assert facts["sha256"] == sha256_of(tmp_path / name)
    assert done["metrics"] == card["metrics"]  # same model, same fixed-seed test sets
    assert done["data"] == card["data"] and done["epochs"] == card["epochs"]
    assert "synthetic printed" in (tmp_path / "REPORT.md").read_text()
    GlyphModel(tmp_path / "vinread.tflite")


def test_export_under_another_backend_writes_keras_only(trained, tmp_path, monkeypatch):
    """With TensorFlow installed but Keras on JAX, the jax2tf conversion would fail: .keras alone."""
    import keras

    from train.export import export

    out, card = trained
    model = keras.models.load_model(out / "vinread.keras")
    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    part = export(model, tmp_path, {"architecture": "small"})
    assert set(part["files"]) == {"vinread.keras"}


def test_architectures_are_built_by_name_small_first_original_largest():
    from train.model import ARCHITECTURES, build

    sizes = [build(a).count_params() for a in ARCHITECTURES]
    assert ARCHITECTURES == ("small", "medium", "deep", "original")
    assert sizes[0] < sizes[1] and sizes[0] < sizes[2] < sizes[3]
    with pytest.raises(ValueError, match="unknown architecture"):
        build("huge")
