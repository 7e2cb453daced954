"""The ``vinread`` command line.

Results go to stdout, one line per input (``--json``: one JSON object per
line); errors and progress go to stderr. The exit code is the highest that
applies over the batch, see :class:`ExitCode`.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from enum import IntEnum
from itertools import islice

import click

from . import __version__


class ExitCode(IntEnum):
    """Exit codes of ``vinread``; where several apply, the highest wins."""

    OK = 0
    """Every input gave a valid VIN (with ``--single``: a character)."""
    NOT_FOUND = 1
    """Some input was read but gave no valid VIN (or no character)."""
    USAGE = 2
    """The command line was wrong."""
    UNREADABLE = 3
    """Some input could not be read (missing, not an image, empty directory...)."""
    MODEL = 4
    """The model could not be loaded."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C."""


EPILOG = """\b
Examples:
  vinread photo.jpg                 read the VIN in a photo
  vinread --json photos/            one JSON object per line, per image
  cat photo.jpg | vinread -         read the image piped into standard input
  vinread --single glyphs/          classify single-character images:
                                    "090, glyphs/z.png" (ASCII code, path)

\b
Exit codes: 0 all valid, 1 some input gave no valid VIN, 2 usage error,
3 some input unreadable, 4 model not loadable, 130 interrupted.
"""

BATCH = 64
"""Single-character images classified per model call."""

_CONTROL = {c: f"\\x{c:02x}" for c in range(32)} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def _shown(path: str | None) -> str:
    """A path as printed in text lines: control characters escaped so one input stays one line."""
    if path is None:
        return "-"
    return path.translate(_CONTROL) if path else "''"


class _Out:
    """stdout (results, one whole line each, flushed) and stderr (errors, progress).

    Ctrl-C is held off while a line is written, so an interrupted run never
    leaves half a line. The progress line (``\r[12/340] name``) is drawn only
    when stderr is a terminal, and cleared before anything else is printed.
    """

    def __init__(self, total: int | None = None):
        self.total = total
        self.progress_shown = False
        self.done = 0

    def _write(self, stream, text: str) -> None:
        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        except (AttributeError, ValueError, OSError):  # not the main thread, or no such call
            old = None
        try:
            stream.write(text)
            stream.flush()
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _clear(self) -> None:
        if self.progress_shown:
            self._write(sys.stderr, "\r\x1b[K")
            self.progress_shown = False

    def result(self, line: str) -> None:
        self._clear()
        self._write(sys.stdout, line + "\n")

    def error(self, path: str | None, message: str) -> None:
        self._clear()
        where = f"{_shown(path)}: " if path is not None else ""
        self._write(sys.stderr, f"vinread: {where}{' '.join(str(message).split())}\n")

    def step(self, name: str) -> None:
        """One more input is being worked on (drawn only on a terminal)."""
        self.done += 1
        if self.total is None:
            return
        try:
            width = os.get_terminal_size(sys.stderr.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            width = 80
        text = f"[{self.done}/{self.total}] {_shown(os.path.basename(name) or name)}"
        self._write(sys.stderr, "\r" + text[:max(10, width - 1)] + "\x1b[K")
        self.progress_shown = True

    def finish(self) -> None:
        self._clear()


def _json_line(obj: dict) -> str:
    line = json.dumps(obj, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not valid UTF-8: escape it
        line = json.dumps(obj)
    return line


def _internal(exc: BaseException) -> str:
    """One line naming an unexpected exception (the batch goes on)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    kind = type(exc).__name__
    if type(exc).__module__ not in ("builtins", None):
        kind = f"{type(exc).__module__}.{kind}"
    return f"internal error ({kind}{': ' + first if first else ''})"


def _classify_chunk(reader, paths: list[str]) -> list:
    """``reader.classify`` on a chunk; if it fails, image by image, so one bad input stays one."""
    from .results import GlyphResult, error_dict

    try:
        return reader.classify(paths)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception:
        out = []
        for p in paths:
            try:
                out.extend(reader.classify([p]))
            except (KeyboardInterrupt, BrokenPipeError):
                raise
            except Exception as exc:  # noqa: BLE001 - reported as this input's error
                out.append(GlyphResult(p, error=error_dict("internal", _internal(exc))))
        return out


def _run_single(reader, inputs, as_json: bool, out: _Out) -> ExitCode:
    from .results import GlyphResult, error_dict

    code = ExitCode.OK
    it = iter(inputs)
    while chunk := list(islice(it, BATCH)):
        readable = [i.path for i in chunk if i.error is None]
        answers = iter(_classify_chunk(reader, readable))
        for item in chunk:
            out.step(item.path)
            if item.error is not None:
                res = GlyphResult(item.path, error=error_dict("unreadable", item.error))
            else:
                res = next(answers)
                res.file = item.path
            if res.error:
                out.error(res.file, res.error["message"])
                code = max(code, ExitCode.NOT_FOUND if res.error["code"] == "no_character"
                           else ExitCode.UNREADABLE)
                if as_json:
                    out.result(_json_line(res.to_dict()))
                continue
            out.result(_json_line(res.to_dict()) if as_json else f"{res.ascii:03d}, {_shown(res.file)}")
    return code


def read_one(reader, path: str, debug_dir=None):
    """Read the VIN in one file as the CLI does: bounded decode, boxes in original pixels, and
    every failure (unreadable file, unexpected exception) in the result's ``error``."""
    from .results import VinResult, error_dict

    try:
        return reader.read_vin(path, debug_dir=debug_dir)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # noqa: BLE001 - MemoryError, cv2.error...: this input's error
        return VinResult(path, status="error", error=error_dict("internal", _internal(exc)))


def _run_vin(reader, inputs, as_json: bool, out: _Out, debug_dir=None) -> ExitCode:
    from .results import VinResult, error_dict

    code = ExitCode.OK
    for item in inputs:
        out.step(item.path)
        if item.error is not None:
            res = VinResult(item.path, status="error", error=error_dict("unreadable", item.error))
        else:
            res = read_one(reader, item.path, debug_dir)
        if res.error:
            out.error(res.file, res.error["message"])
            code = max(code, ExitCode.UNREADABLE)
        elif not res.valid:
            code = max(code, ExitCode.NOT_FOUND)
        out.result(_vin_line(res, as_json))
    return code


def _vin_line(res, as_json: bool) -> str:
    """One result line: the JSON object, or ``VIN<TAB>STATUS[ low-confidence:P,..]<TAB>PATH``."""
    if as_json:
        return _json_line(res.to_dict())
    low = f" low-confidence:{','.join(map(str, res.low_confidence_positions))}" \
        if res.vin and res.low_confidence_positions else ""
    return f"{res.vin or '-'}\t{res.status.replace('_', '-')}{low}\t{_shown(res.file)}"


def _run_consensus(reader, inputs, as_json: bool, out: _Out) -> ExitCode:
    code = ExitCode.OK
    paths = []
    for item in inputs:
        if item.error is not None:
            out.error(item.path, item.error)
            code = max(code, ExitCode.UNREADABLE)
        else:
            paths.append(item.path)
    from .pipeline import UNREADABLE_PREFIX

    res = reader.read_consensus(paths)
    for w in res.warnings:
        if w.startswith(UNREADABLE_PREFIX):
            out.error(None, w[len(UNREADABLE_PREFIX):])
            code = max(code, ExitCode.UNREADABLE)
    if not res.valid:
        code = max(code, ExitCode.NOT_FOUND)
    out.result(_vin_line(res, as_json))
    return code


def _load_reader(model_path, low_confidence, out: _Out, barcodes: bool = True, min_confidence=None,
                 time_limit=None):
    from .correct import LOW_CONFIDENCE, MIN_CONFIDENCE
    from .model import ModelLoadError, default_model_path
    from .pipeline import Reader

    try:
        return Reader(model_path, LOW_CONFIDENCE if low_confidence is None else low_confidence, barcodes,
                      MIN_CONFIDENCE if min_confidence is None else min_confidence, time_limit)
    except ModelLoadError as exc:
        out.error(None, f"cannot load the model: {exc}")
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # noqa: BLE001 - any runtime failure is a model problem
        out.error(None, f"cannot load the model: {model_path or default_model_path()}: {_internal(exc)}")
    sys.exit(ExitCode.MODEL)


def _quiet_stdout_for_exit() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush does not complain."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGE_OR_DIR...")
@click.option("--single", is_flag=True, help="Classify single-character images instead of reading VINs.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines output: one object per input.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="The .tflite glyph model [default: the shipped one].")
@click.option("--low-confidence", type=click.FloatRange(0, 1), default=None,
              help="Flag positions whose probability is below this [default: 0.8].")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Report no VIN when the reading's joint probability is below this [default: 0.02].")
@click.option("--consensus", is_flag=True,
              help="All inputs are photos of one VIN: combine them into one answer.")
@click.option("--no-barcode", is_flag=True, help="Do not read the VIN's barcode to cross-check the OCR.")
@click.option("--time-limit", type=click.FloatRange(0), default=None, metavar="SECONDS",
              help="Stop searching a photo after this long and report the best reading so far, "
                   "with a warning [default: no limit].")
@click.option("--debug", "debug_dir", type=click.Path(file_okay=False),
              help="Write NAME.overlay.png and NAME.crops.png per image into this folder.")
@click.version_option(__version__, prog_name="vinread")
def cli(inputs, single, as_json, model_path, low_confidence, min_confidence, consensus, no_barcode,
        time_limit, debug_dir):
    """Read the 17-character VIN in each photo (or, with --single, the character in each image)."""
    out = _Out()
    try:
        from . import images

        images.QUIET_NATIVE = True   # libpng/libjpeg/OpenCV messages would break one line per error
        try:
            cv2_logging = __import__("cv2").utils.logging
            cv2_logging.setLogLevel(cv2_logging.LOG_LEVEL_SILENT)
        except AttributeError:
            pass
        reader = _load_reader(model_path, low_confidence, out, barcodes=not no_barcode,
                              min_confidence=min_confidence, time_limit=time_limit)
        if _is_terminal(sys.stderr):
            out.total = images.count_inputs(inputs)
        if single:
            code = _run_single(reader, images.iter_inputs(inputs), as_json, out)
        elif consensus:
            code = _run_consensus(reader, images.iter_inputs(inputs), as_json, out)
        else:
            code = _run_vin(reader, images.iter_inputs(inputs), as_json, out, debug_dir)
        out.finish()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not add a traceback
        out.finish()
        out.error(None, "interrupted")
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout_for_exit()
        code = ExitCode.OK
    sys.exit(code)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def main() -> None:
    """Console entry point: maps Ctrl-C and broken pipes to clean exits."""
    try:  # file names that are not valid UTF-8 are written back as the bytes they were
        sys.stdout.reconfigure(errors="surrogateescape")
    except (AttributeError, ValueError):
        pass
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        sys.exit(ExitCode.USAGE)
    except click.UsageError as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except click.exceptions.Abort:
        click.echo("vinread: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("vinread: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
