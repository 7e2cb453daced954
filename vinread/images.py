"""Finding and reading input images, with one clear error per bad input."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif",
                            ".pbm", ".pgm", ".ppm", ".jp2"})
MAX_PIXELS = 100_000_000
"""Images claiming more pixels than this are refused before decoding (decompression bombs)."""


class ImageReadError(OSError):
    """An input could not be read as an image; the message is one line naming the cause."""


@dataclass(frozen=True)
class Input:
    """One input to process: a path, or the error that stops it from being read."""

    path: str
    error: str | None = None


def iter_inputs(args) -> Iterator[Input]:
    """Expand command-line paths lazily: files as given, directories' image files sorted.

    Hidden files, sub-folders and files without an image suffix inside a
    directory are skipped; a missing path or an empty directory yields an
    :class:`Input` carrying its error.
    """
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            found = False
            for entry in sorted(os.scandir(p), key=lambda e: e.name):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                if Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                found = True
                yield Input(str(p / entry.name))
            if not found:
                yield Input(str(arg), "no image files in directory")
        elif p.exists():
            yield Input(str(arg))
        else:
            yield Input(str(arg), "no such file or directory")


def _pixel_count(data: bytes) -> int | None:
    """Pixels the file's header claims, read without decoding; None when unknown."""
    from PIL import Image

    import io

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Image.DecompressionBombError:
        return MAX_PIXELS + 1
    except Exception:
        return None
    return int(w) * int(h)


def read_image(path: str | os.PathLike, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Read an image file (any path, EXIF orientation applied) -> BGR uint8 array.

    ``flags=cv2.IMREAD_UNCHANGED`` keeps gray, alpha and 16-bit data.
    Raises :class:`ImageReadError` with a one-line reason.
    """
    try:
        data = Path(path).read_bytes()
    except PermissionError:
        raise ImageReadError("permission denied") from None
    except IsADirectoryError:
        raise ImageReadError("is a directory") from None
    except FileNotFoundError:
        raise ImageReadError("no such file or directory") from None
    except OSError as exc:
        raise ImageReadError(exc.strerror or str(exc)) from None
    if not data:
        raise ImageReadError("empty file")
    pixels = _pixel_count(data)
    if pixels is not None and pixels > MAX_PIXELS:
        raise ImageReadError(f"image too large: over {MAX_PIXELS:,} pixels")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None or img.size == 0:
        raise ImageReadError("not a readable image (unknown format or corrupt data)")
    if min(img.shape[:2]) < 2:
        raise ImageReadError(f"image too small: {img.shape[1]}x{img.shape[0]} pixels")
    return img
