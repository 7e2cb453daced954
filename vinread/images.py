"""Finding and reading input images, with one clear error per bad input.

Every input is checked before it is decoded: it must be a regular file of at
most :data:`MAX_FILE_BYTES`, and an image whose header claims more than
:data:`MAX_PIXELS` pixels is refused before anything is allocated for it
(decompression bombs). Images are returned as BGR ``uint8`` with their EXIF
orientation applied and transparency composited onto white; images whose long
side exceeds :data:`MAX_SIDE` are worked on reduced (large JPEGs are decoded
reduced, at 1/2, 1/4 or 1/8 scale, so the full-size picture is never held).
"""
from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif",
                            ".pbm", ".pgm", ".ppm", ".jp2"})
MAX_PIXELS = 100_000_000
"""Images whose header claims more pixels than this (100 megapixels) are refused before decoding."""
STDIN = "-"
"""The input name that stands for the image piped into standard input (``./-`` names a file)."""
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Files larger than this are refused without being read."""
MAX_SIDE = 3200
"""Images whose long side is larger are reduced to at most this many pixels (JPEGs while decoding)."""
MIN_SIDE = 2
"""Images narrower or lower than this are refused."""
QUIET_NATIVE = False
"""When true, the image libraries' own messages on file descriptor 2 (libpng, libjpeg, OpenCV
warnings) are silenced while decoding; the ``vinread`` command sets it so that stderr carries
one line per bad input. Off by default: redirecting fd 2 affects the whole process."""

_ORIENTATION_TAG = 0x0112
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La", "I;16A"})


class ImageReadError(OSError):
    """An input could not be read as an image; the message is one line naming the cause."""


@dataclass(frozen=True)
class Input:
    """One input to process: a path, or the error that stops it from being read."""

    path: str
    error: str | None = None


@dataclass
class LoadedImage:
    """A decoded image: ``image`` (BGR uint8, or as decoded with ``IMREAD_UNCHANGED``), the
    ``scale`` it was reduced by (its width / the oriented original's width, 1.0 when not
    reduced) and the oriented original's ``size`` (width, height)."""

    image: np.ndarray
    scale: float
    size: tuple[int, int]


def _dir_entries(p: Path) -> Iterator[Input]:
    try:
        with os.scandir(p) as it:
            names = sorted(e.name for e in it if not e.name.startswith(".")
                           and Path(e.name).suffix.lower() in IMAGE_SUFFIXES
                           and _is_file(e))
    except OSError as exc:
        yield Input(str(p), _os_message(exc))
        return
    if not names:
        yield Input(str(p), "no image files in directory")
        return
    for name in names:
        yield Input(str(p / name))


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def iter_inputs(args: Iterable) -> Iterator[Input]:
    """Expand command-line paths lazily: files as given, directories' image files sorted.

    :data:`STDIN` (``-``) is the image piped into standard input. Hidden files, sub-folders
    and files without an image suffix inside a directory are skipped; a missing path, an
    unlistable or empty directory yields an :class:`Input` carrying its error. Only names are
    listed here: no image is opened until the consumer reads it.
    """
    for arg in args:
        arg = os.fspath(arg)
        if isinstance(arg, bytes):
            arg = os.fsdecode(arg)
        if not arg:
            yield Input(arg, "no such file or directory")
            continue
        if arg == STDIN:
            yield Input(arg)
            continue
        p = Path(arg)
        if p.is_dir():
            yield from _dir_entries(p)
        elif p.exists() or p.is_symlink():
            yield Input(arg)
        else:
            yield Input(arg, "no such file or directory")


def count_inputs(args: Iterable) -> int:
    """How many inputs :func:`iter_inputs` will yield (lists directories, opens no image)."""
    return sum(1 for _ in iter_inputs(args))


def _os_message(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def _open(path, mode="rb"):
    """``open``; a seam for tests that simulate unreadable files."""
    return open(path, mode)


def _stdin_bytes() -> bytes:
    """Standard input's bytes, at most :data:`MAX_FILE_BYTES` + 1; refused when it is a terminal
    (nothing was piped in: reading would wait for typing)."""
    stream = sys.stdin
    if stream is None or getattr(stream, "buffer", None) is None:
        raise ImageReadError("no standard input")
    try:
        if stream.isatty():
            raise ImageReadError("standard input is a terminal: pipe an image into it")
        return stream.buffer.read(MAX_FILE_BYTES + 1)
    except ImageReadError:
        raise
    except (OSError, ValueError) as exc:      # ValueError: the stream is closed
        raise ImageReadError(f"standard input: {exc}") from None


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`, or :class:`ImageReadError`.

    Special files (FIFOs, devices) are refused before they are opened, so none can block or
    stream forever. :data:`STDIN` (``-``) reads the bytes piped into standard input.
    """
    if os.fspath(path) == STDIN:
        return _checked_size(_stdin_bytes(), "nothing on standard input")
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ImageReadError("is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise ImageReadError(f"file too large: {st.st_size:,} bytes, the limit is {MAX_FILE_BYTES:,}")
        with _open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except ImageReadError:
        raise
    except OSError as exc:
        raise ImageReadError(_os_message(exc)) from None
    return _checked_size(data)


def _checked_size(data: bytes, empty: str = "empty file") -> bytes:
    if not data:
        raise ImageReadError(empty)
    if len(data) > MAX_FILE_BYTES:
        raise ImageReadError(f"file too large: over {MAX_FILE_BYTES:,} bytes")
    return data


@dataclass
class _Header:
    format: str
    width: int
    height: int
    mode: str
    alpha: bool
    orientation: int


def _png_ihdr(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _orientation(im) -> int:
    if im.format == "TIFF":  # libtiff (OpenCV and Pillow) applies the orientation tag itself
        return 1
    try:
        if im.format == "PNG":  # PngImageFile.getexif() would decode the pixels
            raw = im.info.get("exif")
            if not raw:
                return 1
            from PIL import Image

            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = im.getexif()
        value = int(exif.get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block only loses the orientation
        return 1
    return value if 1 <= value <= 8 else 1


def _header(data: bytes) -> _Header | None:
    """What the file's header says (format, size, mode, orientation), read without decoding the
    pixels; None when Pillow does not recognise it."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                mode = im.mode
                alpha = mode in _ALPHA_MODES or "transparency" in im.info
                return _Header(im.format or "?", int(w), int(h), mode, alpha, _orientation(im))
        except Image.DecompressionBombError:
            size = _png_ihdr(data)
            raise ImageReadError(f"image too large: {size[0]}x{size[1]} pixels, the limit is {MAX_PIXELS:,}"
                                 if size else f"image too large: over {MAX_PIXELS:,} pixels") from None
        except Exception:
            return None


@contextlib.contextmanager
def _quiet_fd2():
    """Silence native libraries' messages on fd 2 (only when :data:`QUIET_NATIVE`)."""
    if not QUIET_NATIVE:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        return None
    return img if img is not None and img.size else None


def _pil_decode(data: bytes) -> np.ndarray | None:
    """Pillow's decode, for files OpenCV cannot decode; None when Pillow cannot either."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                    arr = np.asarray(im.convert("I"), np.int64)
                    return np.clip(arr, 0, 65535).astype(np.uint16)
                has_alpha = im.mode in _ALPHA_MODES or "transparency" in im.info
                im = im.convert("RGBA" if has_alpha else "RGB")
                arr = np.asarray(im)
        except Exception:
            return None
    return cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA if arr.shape[2] == 4 else cv2.COLOR_RGB2BGR)


def _orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8), as Pillow's ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.flip(img, -1)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return np.ascontiguousarray(np.swapaxes(img, 0, 1))
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return np.ascontiguousarray(np.swapaxes(img, 0, 1)[::-1, ::-1])
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


def _to_bgr8(img: np.ndarray) -> np.ndarray:
    """Any decoded image -> BGR uint8, transparency composited onto white."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        f = img.astype(np.float32)
        img = np.clip(f * (255.0 if f.size and f.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    channels = img.shape[2]
    if channels == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 2:  # gray + alpha
        gray = img[:, :, :1].astype(np.float32)
        a = img[:, :, 1:2].astype(np.float32) / 255.0
        out = (gray * a + 255.0 * (1.0 - a)).round().astype(np.uint8)
        return cv2.cvtColor(out[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 4:
        a = img[:, :, 3:4].astype(np.float32) / 255.0
        out = img[:, :, :3].astype(np.float32) * a + 255.0 * (1.0 - a)
        return out.round().astype(np.uint8)
    return np.ascontiguousarray(img[:, :, :3])


EXPOSURE_PERCENTILES = (0.5, 99.5)
"""Grey levels of a photo stretched to black and white by :func:`even_exposure`."""
MIN_EXPOSURE_GAIN = 1.25
"""A photo whose grey levels already span more than 1/1.25 of the scale is left as it is."""
MAX_EXPOSURE_GAIN = 4.0
"""The most a dim or washed-out photo's contrast is multiplied by."""


def gray_u8(image: np.ndarray) -> np.ndarray:
    """Any image array -> (H, W) uint8 gray, C-contiguous: BGR and BGRA by OpenCV's weights,
    another channel count by its first channel; uint16 by its high byte, bool as 0 / 255,
    floats in [0, 1] scaled by 255 (others clipped to 0-255).

    >>> gray_u8(np.array([[[0, 0, 255]]], np.uint8)).tolist(), gray_u8(np.array([[0.5]])).tolist()
    ([[76]], [[127]])
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 4:
        a = cv2.cvtColor(a, cv2.COLOR_BGRA2GRAY)
    elif a.ndim == 3 and a.shape[2] == 3:
        a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    elif a.ndim == 3:
        a = a[:, :, 0]
    if a.dtype != np.uint8:
        if a.dtype == np.uint16:
            a = (a >> 8).astype(np.uint8)
        elif a.dtype == bool:
            a = a.astype(np.uint8) * 255
        else:
            a = np.clip(np.asarray(a, np.float32) * (255.0 if a.max() <= 1.0 else 1.0),
                        0, 255).astype(np.uint8)
    return np.ascontiguousarray(a)


def even_exposure(image: np.ndarray) -> np.ndarray:
    """A dim, hazy or washed-out photo -> the same with its grey levels spread over the scale.

    The :data:`EXPOSURE_PERCENTILES` of the gray are stretched to 0 and 255 (at most
    :data:`MAX_EXPOSURE_GAIN` times), the same way in every channel, so the segmentation's
    thresholds see the contrast of a well-exposed photo. Photos that already span most of the
    scale (a gain under :data:`MIN_EXPOSURE_GAIN`) and arrays that are not ``uint8`` come back
    unchanged.

    Parameters
    ----------
    image : (H, W) gray or (H, W, C) BGR(A) uint8 array.

    Returns
    -------
    Array of the same shape and dtype.
    """
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim not in (2, 3) or a.size == 0:
        return image
    step = max(1, int(np.sqrt(a.shape[0] * a.shape[1] / 250_000)))  # a quarter-megapixel sample
    sample = gray_u8(a[::step, ::step])
    lo, hi = np.percentile(sample, EXPOSURE_PERCENTILES)
    gain = min(255.0 / max(float(hi - lo), 1.0), MAX_EXPOSURE_GAIN)
    if gain < MIN_EXPOSURE_GAIN:
        return image
    # centre the stretched range on the old one's middle when the gain is capped
    lo = (lo + hi) / 2 - 127.5 / gain
    lut = np.clip((np.arange(256) - lo) * gain, 0, 255).round().astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 4:       # leave transparency alone
        out = a.copy()
        out[:, :, :3] = cv2.LUT(np.ascontiguousarray(a[:, :, :3]), lut)
        return out
    return cv2.LUT(a, lut)


def _jpeg_truncated(data: bytes) -> bool:
    """True when no end-of-image marker follows the last start-of-scan (a cut-off JPEG; some
    libjpeg builds would decode it with the missing part grey). Inside entropy-coded data 0xFF is
    always followed by 0x00 or a restart marker, so neither marker can occur there by chance."""
    sos = data.rfind(b"\xff\xda")
    return sos >= 0 and data.find(b"\xff\xd9", sos) < 0


def _reduce_flag(factor: int) -> int:
    return {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[factor]


def decode_image(data: bytes, flags: int = cv2.IMREAD_COLOR, max_side: int | None = MAX_SIDE) -> LoadedImage:
    """Decode an image file's bytes; see :func:`load_image`."""
    with _quiet_fd2():   # OpenCV's and Pillow's codecs (libpng, libjpeg, libtiff) print on fd 2
        return _decode(data, flags, max_side)


def _decode(data: bytes, flags: int, max_side: int | None) -> LoadedImage:
    if not data:
        raise ImageReadError("empty file")
    head = _header(data)
    if head is None:
        size = _png_ihdr(data)
        if size is not None and min(size) < MIN_SIDE:
            raise ImageReadError(f"image too small: {size[0]}x{size[1]} pixels")
    else:
        if head.width * head.height > MAX_PIXELS:
            raise ImageReadError(f"image too large: {head.width}x{head.height} pixels, "
                                 f"the limit is {MAX_PIXELS:,}")
        if min(head.width, head.height) < MIN_SIDE:
            raise ImageReadError(f"image too small: {head.width}x{head.height} pixels")
    if head is not None and head.format in ("JPEG", "MPO") and _jpeg_truncated(data):
        raise ImageReadError(f"corrupt or truncated {head.format} image")
    unchanged = flags == cv2.IMREAD_UNCHANGED
    orientation = head.orientation if head else 1
    decode_flags = flags
    reduced = False
    if not unchanged:
        if head is not None and head.alpha:
            decode_flags = cv2.IMREAD_UNCHANGED      # composited onto white below
        else:
            decode_flags = flags | cv2.IMREAD_IGNORE_ORIENTATION
            if head is not None and head.format in ("JPEG", "MPO") and max_side and flags == cv2.IMREAD_COLOR:
                long = max(head.width, head.height)
                factor = next((f for f in (2, 4, 8) if long / f <= max_side), 8) if long > max_side else 1
                if factor > 1:
                    decode_flags = _reduce_flag(factor) | cv2.IMREAD_IGNORE_ORIENTATION
                    reduced = True
    img = _imdecode(data, decode_flags)
    if img is None and head is not None:
        img = _pil_decode(data)
        reduced = False
    if img is None:
        if head is None:
            raise ImageReadError("not an image (unknown format or corrupt data)")
        raise ImageReadError(f"corrupt or truncated {head.format} image")
    if img.ndim not in (2, 3) or min(img.shape[:2]) < MIN_SIDE:
        raise ImageReadError(f"image too small: {img.shape[1]}x{img.shape[0]} pixels")
    if reduced and head is not None:
        w0, h0 = head.width, head.height   # decoded reduced: the original size is the header's
    else:
        h0, w0 = img.shape[:2]
    if not unchanged:
        img = _to_bgr8(img)
    img = _orient(img, orientation)
    size = (w0, h0) if orientation <= 4 else (h0, w0)
    long = max(img.shape[:2])
    if max_side and long > max_side:
        s = max_side / long
        img = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    return LoadedImage(img, img.shape[1] / size[0], (int(size[0]), int(size[1])))


def load_image(path: str | os.PathLike, flags: int = cv2.IMREAD_COLOR,
               max_side: int | None = MAX_SIDE) -> LoadedImage:
    """Read an image file (any path) -> :class:`LoadedImage`.

    With the default flags the image is BGR uint8, EXIF orientation applied,
    transparency composited onto white, reduced to at most ``max_side`` pixels
    on its long side (``None``: never reduced). ``flags=cv2.IMREAD_UNCHANGED``
    keeps gray, alpha and 16-bit data. Raises :class:`ImageReadError` with a
    one-line reason.
    """
    return decode_image(read_bytes(path), flags, max_side)


def read_image(path: str | os.PathLike, flags: int = cv2.IMREAD_COLOR,
               max_side: int | None = None) -> np.ndarray:
    """Read an image file -> array (see :func:`load_image`); raises :class:`ImageReadError`.

    Unlike :func:`load_image` it keeps the full size by default, so coordinates found in the
    array are the file's own; pass ``max_side`` to bound it (and use :func:`load_image` to learn
    the scale)."""
    return load_image(path, flags, max_side).image
