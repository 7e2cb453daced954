"""Export a trained Keras glyph model: ``.keras``, ``.tflite`` and the JSON model card.

The ``.tflite`` conversion needs TensorFlow. A model trained under another Keras backend
(JAX or PyTorch on a GPU machine, say) is exported as ``.keras`` alone; then, where TensorFlow
is installed::

    python -m train.export DIR      # evaluate DIR/vinread.keras, convert it, rewrite card and REPORT.md
"""
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
    import keras

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras_tmp, tflite_tmp = out / (KERAS_FILE + ".part.keras"), out / (MODEL_FILE + ".part")
    model.save(keras_tmp)
    try:
        if keras.config.backend() != "tensorflow":  # jax2tf's conversion fails on the seed state
            raise ImportError(f"Keras runs on {keras.config.backend()}, not TensorFlow")
        tflite = to_tflite(model)
    except ImportError as exc:
        tflite = None
        print(f"{exc}: {out / KERAS_FILE} only; convert it with "
              f"`python -m train.export {out}` where TensorFlow is", file=sys.stderr)
    keras_tmp.replace(out / KERAS_FILE)
    if tflite is not None:
        tflite_tmp.write_bytes(tflite)
        tflite_tmp.replace(out / MODEL_FILE)
    else:
        (out / MODEL_FILE).unlink(missing_ok=True)  # an older model's file would not match the card
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
                  for name in (MODEL_FILE, KERAS_FILE) if (out / name).exists()},
    }
    (out / CARD_FILE).write_text(json.dumps(full, indent=2) + "\n")
    print(f"exported {', '.join(str(out / n) for n in (*full['files'], CARD_FILE))}", file=sys.stderr)
    return full


def finish(out_dir: str | Path, real_dir: Path | None, workers: int = 2) -> dict:
    """Re-evaluate ``out_dir/vinread.keras`` on the test sets its card names, convert it to
    ``.tflite`` and rewrite the card and ``REPORT.md``; returns the card."""
    import keras

    import train.model  # noqa: F401  (registers the custom loss and metric for loading)
    from train import data
    from train.evaluate import write_report
    from train.fit import _emnist_sets, evaluate

    out = Path(out_dir)
    card = json.loads((out / CARD_FILE).read_text())
    model = keras.models.load_model(out / KERAS_FILE)
    sources = card["data"]["sources"]
    em_test = None
    for name, n in sources.items():
        if name.startswith("emnist-"):
            em = _emnist_sets(name.split("-", 1)[1], n)
            em_test = (em[2], em[3], em[4]) if em is not None else None
    results = evaluate(model, [s for s in sources if s in data.SOURCES], card["seed"],
                       card.get("test_per_source", 3000), workers, real_dir, em_test)
    training = {k: v for k, v in card.items()
                if k not in ("name", "alphabet", "input", "normalization_version", "outputs", "files")}
    training["metrics"] = {r["set"]: round(r["accuracy"], 4) for r in results}
    full = export(model, out, training)
    write_report(out / "REPORT.md", full, results)
    return full


def main(argv: list[str] | None = None) -> int:
    """``python -m train.export DIR [--real-dir D] [--workers N]``."""
    import argparse

    from train.__main__ import DEFAULT_REAL_DIR

    parser = argparse.ArgumentParser(prog="python -m train.export", description=finish.__doc__)
    parser.add_argument("dir", type=Path, help="folder holding vinread.keras and vinread.json")
    parser.add_argument("--real-dir", type=Path, default=DEFAULT_REAL_DIR,
                        help="labelled real glyphs (LABEL/image files), evaluated when present")
    parser.add_argument("--workers", type=int, default=2, help="processes generating the test sets")
    args = parser.parse_args(argv)
    card = finish(args.dir, args.real_dir, args.workers)
    print(json.dumps(card["metrics"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
