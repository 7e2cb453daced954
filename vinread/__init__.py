"""vinread: read Vehicle Identification Numbers from photos.

The public API is :class:`Reader` with :func:`read_vin` and
:func:`classify_glyphs` as shortcuts, and the validation stage in
:mod:`vinread.vin`. Importing vinread never imports TensorFlow.
"""
__version__ = "0.1.0"

__all__ = ["Reader", "read_vin", "classify_glyphs", "__version__"]


def __getattr__(name):
    if name in ("Reader", "read_vin", "classify_glyphs"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'vinread' has no attribute {name!r}")
