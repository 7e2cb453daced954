"""Export a trained Keras glyph model: ``.keras``, ``.tflite`` and the JSON model card."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from vinread.alphabet import ALPHABET
from vinread.model import CARD_FILE, MODEL_FILE, sha256_of
from vinread.normalize import FIT, NORMALIZATION_VERSION, SIZE

KERAS_FILE = "vinread.keras"


def to_tflite(model) -> bytes:
    """Convert a Keras model to a float32 ``.tflite`` flatbuffer with a dynamic batch size."""
    import tempfile

    import keras
    import tensorflow as tf

    inference = keras.models.clone_model(model)  # without the optimizer's state
    inference.set_weights(model.get_weights())
    with tempfile.TemporaryDirectory() as tmp:
        inference.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        return converter.convert()


def export(model, out_dir: str | Path, card: dict) -> dict:
    """Write ``vinread.keras``, ``vinread.tflite`` and ``vinread.json`` into ``out_dir``.

    ``card`` holds the training facts (data, epochs, metrics); the alphabet,
    input and normalisation settings and each file's sha256 are added here.
    Files are written beside their final names and renamed, so a failed export
    leaves no half-written model. Returns the full card.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras_tmp, tflite_tmp = out / (KERAS_FILE + ".part.keras"), out / (MODEL_FILE + ".part")
    model.save(keras_tmp)
    tflite_tmp.write_bytes(to_tflite(model))
    keras_tmp.replace(out / KERAS_FILE)
    tflite_tmp.replace(out / MODEL_FILE)
    full = {
        "name": "vinread-glyph",
        "alphabet": ALPHABET,
        "input": {"height": SIZE, "width": SIZE, "channels": 1, "dtype": "float32", "range": [0, 1],
                  "ink": "white on black", "fit": FIT},
        "normalization_version": NORMALIZATION_VERSION,
        "outputs": {"char": f"softmax over the {len(ALPHABET)} alphabet classes",
                    "glyph": "sigmoid glyph-or-not score"},
        **card,
        "files": {name: {"sha256": sha256_of(out / name), "bytes": (out / name).stat().st_size}
                  for name in (MODEL_FILE, KERAS_FILE)},
    }
    (out / CARD_FILE).write_text(json.dumps(full, indent=2) + "\n")
    print(f"exported {out / MODEL_FILE}, {out / KERAS_FILE}, {out / CARD_FILE}", file=sys.stderr)
    return full
