"""``python -m train``: generate data, train, evaluate and export the glyph model.

Run from the repository root with the ``train`` extra installed::

    python -m train                       # the shipped model, defaults below
    python -m train --per-source 2000 --epochs 1 --out /tmp/m   # a quick try
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REAL_DIR = ROOT.parent / "shared" / "dev" / "single"


def describe_machine() -> str:
    """'x86_64, 2 cores', with the GPU and Keras backend when training runs on one."""
    desc = f"{platform.machine()}, {os.cpu_count()} cores"
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    gpu = None
    with contextlib.suppress(Exception):
        if backend == "jax":
            import jax
            gpu = next((d.device_kind for d in jax.devices() if d.platform == "gpu"), None)
        elif backend == "torch":
            import torch
            gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        else:
            import tensorflow as tf
            gpu = "a GPU" if tf.config.list_physical_devices("GPU") else None
    return f"{desc}, {gpu} (Keras backend {backend})" if gpu else desc


def _command() -> str:
    """This run's command line, with the Keras backend when it is not TensorFlow."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    prefix = [] if backend == "tensorflow" else [f"KERAS_BACKEND={backend}"]
    return " ".join([*prefix, "python -m train", *sys.argv[1:]])


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--sources", default="printed,dotpeen,engraved,handwriting,scene", show_default=True,
              help="Comma-separated synthetic sources (scene: glyphs cut from rendered photos the way "
                   "the segmenter cuts them).")
@click.option("--per-source", default=40000, show_default=True, help="Training glyphs per source.")
@click.option("--source-weights", default="printed=1,dotpeen=0.75,engraved=0.75,handwriting=1.25,scene=1.75",
              show_default=True, help="Multipliers of --per-source per source.")
@click.option("--rejects", default=None, type=int, help="Reject crops for the glyph-or-not output "
              "[default: a fifth of the glyphs].")
@click.option("--emnist", type=click.Choice(["auto", "none", "balanced", "byclass"]), default="auto",
              show_default=True, help="Add EMNIST (auto: when the emnist package's cache holds it).")
@click.option("--emnist-limit", default=60000, show_default=True, help="At most this many EMNIST glyphs.")
@click.option("--epochs", default=10, show_default=True)
@click.option("--batch-size", default=256, show_default=True)
@click.option("--arch", type=click.Choice(["small", "medium", "deep", "original"]), default="small", show_default=True)
@click.option("--seed", default=1, show_default=True, help="Seed of the training data and weights.")
@click.option("--test-per-source", default=3000, show_default=True, help="Test glyphs per source.")
@click.option("--workers", default=2, show_default=True, help="Processes generating data.")
@click.option("--real-dir", type=click.Path(path_type=Path), default=DEFAULT_REAL_DIR,
              help="Labelled real glyphs (LABEL/image files), evaluated when present.")
@click.option("--out", type=click.Path(path_type=Path), default=ROOT / "models", show_default=True)
@click.option("--init", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Fine-tune: start from this .keras model (of --arch) instead of fresh weights.")
@click.option("--learning-rate", default=2e-3, show_default=True,
              help="Start of the cosine learning-rate schedule (lower it to fine-tune).")
def main(sources, per_source, source_weights, rejects, emnist, emnist_limit, epochs, batch_size, arch,
         seed, test_per_source, workers, real_dir, out, init, learning_rate):
    """Train the 33-class glyph model and export it with its card and REPORT.md."""
    from train.fit import train_and_export

    weights = dict(kv.split("=") for kv in source_weights.split(",") if kv)
    names = [s for s in sources.split(",") if s]
    counts = {s: int(round(per_source * float(weights.get(s, 1)))) for s in names}
    with contextlib.redirect_stdout(sys.stderr):
        card = train_and_export(
            counts=counts, n_rejects=rejects, emnist=emnist, emnist_limit=emnist_limit, epochs=epochs,
            batch_size=batch_size, arch=arch, seed=seed, test_per_source=test_per_source,
            workers=workers, real_dir=real_dir, out=out,
            machine=describe_machine(), command=_command(), init=init, learning_rate=learning_rate)
    print(json.dumps(card["metrics"], indent=2))


if __name__ == "__main__":
    main()
