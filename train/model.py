"""Keras architectures for the glyph classifier.

Every model takes (N, 28, 28, 1) float32 glyphs from
:func:`vinread.normalize.normalize_glyph` and has two outputs:
``char`` (N, 33) softmax over :data:`vinread.alphabet.ALPHABET` and
``glyph`` (N, 1) sigmoid, the glyph-or-not score.
"""
from __future__ import annotations

import keras
from keras import layers, ops

from vinread.alphabet import NUM_CLASSES
from vinread.normalize import SIZE

ARCHITECTURES = ("small", "medium", "deep", "original")


def _heads(x, dropout: float) -> tuple:
    x = layers.Dropout(dropout)(x)
    char = layers.Dense(NUM_CLASSES, activation="softmax", name="char")(x)
    glyph = layers.Dense(1, activation="sigmoid", name="glyph")(x)
    return char, glyph


def build_small(filters: tuple[int, int, int] = (32, 64, 128), dense: int = 128,
                dropout: float = 0.3, convs: int = 1) -> keras.Model:
    """Three 3x3 conv blocks and a small dense layer: about 7.5 M MACs per glyph at the default
    widths (``small``); ``medium`` is (48, 96, 192) filters and 256 units; ``deep``, the shipped
    model, has ``convs=2`` 3x3 convs per block (VGG-like), (32, 64, 128) filters and 256 units."""
    inp = keras.Input((SIZE, SIZE, 1), name="glyphs")
    x = inp
    for i, f in enumerate(filters):
        for k in range(convs):
            tag = f"{i + 1}" + ("" if k == 0 else chr(ord("a") + k))
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{tag}")(x)
            x = layers.BatchNormalization(name=f"bn{tag}")(x)
            x = layers.ReLU(name=f"relu{tag}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i + 1}")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense, activation="relu", name="dense")(x)
    return keras.Model(inp, _heads(x, dropout), name="vinread_small")


def build_original(dropout: float = 0.5) -> keras.Model:
    """The original tool's 5 M-parameter CNN: two 5x5 convs (128, 256), 1024-unit dense, dropout."""
    inp = keras.Input((SIZE, SIZE, 1), name="glyphs")
    x = layers.Conv2D(128, 5, activation="relu")(inp)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(256, 5, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    return keras.Model(inp, _heads(x, dropout), name="vinread_original")


def build(arch: str = "small") -> keras.Model:
    """Build an architecture by name (one of :data:`ARCHITECTURES`)."""
    if arch == "small":
        return build_small()
    if arch == "medium":
        return build_small(filters=(48, 96, 192), dense=256)
    if arch == "deep":
        return build_small(filters=(32, 64, 128), dense=256, convs=2)
    if arch == "original":
        return build_original()
    raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")


@keras.saving.register_keras_serializable(package="vinread")
def masked_char_loss(y_true, y_pred):
    """Sparse cross-entropy over the 33 classes; samples labelled -1 (rejects) count zero."""
    y = ops.cast(ops.reshape(y_true, (-1,)), "int32")
    mask = ops.cast(y >= 0, y_pred.dtype)
    ce = keras.losses.sparse_categorical_crossentropy(ops.maximum(y, 0), y_pred)
    return ce * mask


@keras.saving.register_keras_serializable(package="vinread")
def masked_char_accuracy(y_true, y_pred):
    """Top-1 accuracy over the samples that are real glyphs (label >= 0)."""
    y = ops.cast(ops.reshape(y_true, (-1,)), "int32")
    mask = ops.cast(y >= 0, "float32")
    hit = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y), "float32")
    return ops.sum(hit * mask) / ops.maximum(ops.sum(mask), 1.0)


def compile_model(model: keras.Model, learning_rate: float = 2e-3) -> keras.Model:
    """Compile with Adam, the masked character loss and the glyph-or-not loss."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={"char": masked_char_loss, "glyph": keras.losses.BinaryCrossentropy()},
        loss_weights={"char": 1.0, "glyph": 0.5},
        metrics={"char": [masked_char_accuracy], "glyph": ["binary_accuracy"]},
    )
    return model
