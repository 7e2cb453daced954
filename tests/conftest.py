"""Shared fixtures: a tiny exported model built by the real export path."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DEV = ROOT.parent / "shared" / "dev"


def run_cli(*args, cwd=None, env=None):
    """Run ``python -m vinread`` in a fresh process; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "vinread", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=full_env, timeout=120)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained small model exported (.keras, .tflite, card) the way training exports it."""
    pytest.importorskip("tensorflow")
    import keras

    from train.export import export
    from train.model import build

    keras.utils.set_random_seed(0)
    model = build("small")
    out = tmp_path_factory.mktemp("tiny_model")
    export(model, out, {"architecture": "small", "epochs": 0, "data": {}, "metrics": {}})
    return out / "vinread.tflite"


def assert_no_traceback(proc):
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
