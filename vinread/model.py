"""The glyph model: loading the shipped ``.tflite`` file and running it.

Runs on LiteRT (``ai-edge-litert``); where that is missing but TensorFlow is
installed, ``tf.lite.Interpreter`` runs the same file. TensorFlow is never
imported otherwise. The model card (a JSON file beside the model) records the
alphabet, the input size and the normalisation version, and is checked on load.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from .alphabet import ALPHABET, NUM_CLASSES
from .normalize import NORMALIZATION_VERSION, SIZE

MODEL_FILE = "vinread.tflite"
CARD_FILE = "vinread.json"


class ModelLoadError(RuntimeError):
    """The model file is missing, unreadable or not the model vinread expects."""


def models_dir() -> Path:
    """Folder of the shipped model: the installed package data, else the checkout's ``models/``."""
    installed = Path(__file__).resolve().parent / "models"
    if (installed / MODEL_FILE).is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "models"


def default_model_path() -> Path:
    """Path of the shipped ``.tflite`` model (``$VINREAD_MODEL`` overrides it)."""
    env = os.environ.get("VINREAD_MODEL")
    return Path(env) if env else models_dir() / MODEL_FILE


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence the runtime's native log lines (e.g. "Created ... XNNPACK delegate") on fd 2."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf
        except ImportError as exc:
            raise ModelLoadError(
                "no model runtime: install ai-edge-litert (or tensorflow)") from exc
        Interpreter = tf.lite.Interpreter
    return Interpreter


def read_card(model_path: str | os.PathLike) -> dict | None:
    """The model card beside ``model_path`` (``NAME.json``), or None when there is none."""
    card_path = Path(model_path).with_suffix(".json")
    if not card_path.is_file():
        return None
    try:
        return json.loads(card_path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{card_path}: unreadable model card ({exc})") from exc


MAX_THREADS = 4
"""Most threads the classifier uses by default: its batches (every candidate crop of a line)
split well over a few cores, and vinread's other stages keep the rest busy."""


def default_threads() -> int:
    """Threads for the classifier: ``VINREAD_THREADS`` when set (1 for many vinread processes
    side by side), else the machine's cores up to :data:`MAX_THREADS`."""
    env = os.environ.get("VINREAD_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ModelLoadError(f"VINREAD_THREADS must be a whole number, not {env!r}") from None
        if n < 1:
            raise ModelLoadError(f"VINREAD_THREADS must be at least 1, not {n}")
        return n
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


MAX_BATCH = 256
"""Most glyphs one interpreter call reads: a larger batch is read in parts of this size (the
interpreter's tensors take about 0.3 MB per glyph of a batch and stay allocated; at 256
glyphs per call it reads as fast as at any larger size)."""


class GlyphModel:
    """The 33-class glyph classifier with its glyph-or-not score.

    >>> m = GlyphModel()                                  # doctest: +SKIP
    >>> probs, glyphness = m.predict(batch)               # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike | None = None, num_threads: int | None = None):
        self.path = Path(path) if path is not None else default_model_path()
        if not self.path.is_file():
            raise ModelLoadError(f"{self.path}: model file not found")
        self.card = read_card(self.path)
        if self.card is not None:
            if self.card.get("alphabet", ALPHABET) != ALPHABET:
                raise ModelLoadError(f"{self.path}: model alphabet differs from vinread's")
            version = self.card.get("normalization_version", NORMALIZATION_VERSION)
            if version != NORMALIZATION_VERSION:
                raise ModelLoadError(
                    f"{self.path}: trained for normalisation v{version}, vinread has v{NORMALIZATION_VERSION}")
        threads = num_threads or default_threads()
        try:
            with _quiet_native_stderr():
                self._it = _interpreter_class()(model_path=str(self.path), num_threads=threads)
                self._it.allocate_tensors()
        except ModelLoadError:
            raise
        except Exception as exc:  # the runtimes raise ValueError/RuntimeError with long texts
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{self.path}: not a valid model file ({first})") from exc
        inp = self._it.get_input_details()
        outs = self._it.get_output_details()
        if len(inp) != 1 or tuple(inp[0]["shape"][1:]) != (SIZE, SIZE, 1):
            raise ModelLoadError(f"{self.path}: wrong input shape {[tuple(d['shape']) for d in inp]}")
        by_width = {int(o["shape"][-1]): o["index"] for o in outs}
        if NUM_CLASSES not in by_width or 1 not in by_width or len(outs) != 2:
            raise ModelLoadError(f"{self.path}: wrong outputs {[tuple(o['shape']) for o in outs]}")
        self._input = inp[0]["index"]
        self._char, self._glyph = by_width[NUM_CLASSES], by_width[1]
        self._batch = int(inp[0]["shape"][0])

    def predict(self, glyphs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Classify normalised glyphs.

        Parameters
        ----------
        glyphs : (N, 28, 28) or (N, 28, 28, 1) float32 in [0, 1].

        Returns
        -------
        probs : (N, 33) float32, a probability per alphabet class.
        glyphness : (N,) float32, the glyph-or-not score in [0, 1].
        """
        x = np.asarray(glyphs, np.float32)
        if x.ndim == 3:
            x = x[..., None]
        n = len(x)
        if n == 0:
            return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0,), np.float32)
        if n > MAX_BATCH:   # the interpreter's tensors grow with the batch: keep them bounded
            parts = [self.predict(x[i:i + MAX_BATCH]) for i in range(0, n, MAX_BATCH)]
            return np.concatenate([p for p, _ in parts]), np.concatenate([g for _, g in parts])
        if n != self._batch:
            self._it.resize_tensor_input(self._input, [n, SIZE, SIZE, 1])
            self._it.allocate_tensors()
            self._batch = n
        self._it.set_tensor(self._input, np.ascontiguousarray(x))
        self._it.invoke()
        probs = self._it.get_tensor(self._char).copy()
        glyph = self._it.get_tensor(self._glyph).reshape(-1).copy()
        return probs, glyph
