"""The ``vinread`` command line.

Results go to stdout, one line per input (``--json``: one JSON object per
line); errors and progress go to stderr. The exit code is the highest that
applies over the batch, see :class:`ExitCode`.
"""
from __future__ import annotations

import json
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
  vinread --single glyphs/          classify single-character images:
                                    "090, glyphs/z.png" (ASCII code, path)

\b
Exit codes: 0 all valid, 1 some input gave no valid VIN, 2 usage error,
3 some input unreadable, 4 model not loadable, 130 interrupted.
"""

BATCH = 64
"""Single-character images classified per model call."""


def _err(path: str | None, message: str) -> None:
    where = f"{path}: " if path else ""
    click.echo(f"vinread: {where}{message}", err=True)


def _emit(obj: dict, as_json: bool, text: str) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False) if as_json else text)
    sys.stdout.flush()


def _run_single(reader, inputs, as_json: bool) -> ExitCode:
    from .results import GlyphResult, error_dict

    code = ExitCode.OK
    it = iter(inputs)
    while chunk := list(islice(it, BATCH)):
        readable = [i.path for i in chunk if i.error is None]
        answers = iter(reader.classify(readable))
        for item in chunk:
            if item.error is not None:
                res = GlyphResult(item.path, error=error_dict("unreadable", item.error))
            else:
                res = next(answers)
            if res.error:
                _err(res.file, res.error["message"])
                code = max(code, ExitCode.UNREADABLE if res.error["code"] == "unreadable"
                           else ExitCode.NOT_FOUND)
                if as_json:
                    _emit(res.to_dict(), True, "")
                continue
            _emit(res.to_dict(), as_json, f"{res.ascii:03d}, {res.file}")
    return code


def _run_vin(reader, inputs, as_json: bool) -> ExitCode:
    from .results import VinResult, error_dict

    code = ExitCode.OK
    for item in inputs:
        if item.error is not None:
            res = VinResult(item.path, status="error", error=error_dict("unreadable", item.error))
        else:
            res = reader.read_vin(item.path)
        if res.error:
            _err(res.file, res.error["message"])
            code = max(code, ExitCode.UNREADABLE)
            if as_json:
                _emit(res.to_dict(), True, "")
            continue
        if not res.valid:
            code = max(code, ExitCode.NOT_FOUND)
        low = f" low-confidence:{','.join(map(str, res.low_confidence_positions))}" \
            if res.vin and res.low_confidence_positions else ""
        _emit(res.to_dict(), as_json, f"{res.vin or '-'}\t{res.status.replace('_', '-')}{low}\t{res.file}")
    return code


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="IMAGE_OR_DIR...")
@click.option("--single", is_flag=True, help="Classify single-character images instead of reading VINs.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines output: one object per input.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="The .tflite glyph model [default: the shipped one].")
@click.option("--low-confidence", type=click.FloatRange(0, 1), default=None,
              help="Flag positions whose probability is below this [default: 0.8].")
@click.version_option(__version__, prog_name="vinread")
def cli(inputs, single, as_json, model_path, low_confidence):
    """Read the 17-character VIN in each photo (or, with --single, the character in each image)."""
    from .correct import LOW_CONFIDENCE
    from .images import iter_inputs
    from .model import ModelLoadError
    from .pipeline import Reader

    try:
        reader = Reader(model_path, LOW_CONFIDENCE if low_confidence is None else low_confidence)
    except ModelLoadError as exc:
        _err(None, f"cannot load the model: {exc}")
        sys.exit(ExitCode.MODEL)
    run = _run_single if single else _run_vin
    sys.exit(run(reader, iter_inputs(inputs), as_json))


def main() -> None:
    """Console entry point: maps Ctrl-C and broken pipes to clean exits."""
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
