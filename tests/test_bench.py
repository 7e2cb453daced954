"""bench's RESULTS.md table: figures per set and engine, and where each engine's rows come from."""
from bench.__main__ import available, figures, speed_probe, write_results

VIN = "1HGCM82633A004352"
WRONG = "1HGCM82633A004353"     # one character off: fails its check digit


def _rows(engine, preds):
    return [{"engine": engine, "set": "scene sticker", "path": f"{i}.png", "truth": VIN, "pred": p, "ms": 10.0 * (i + 1)}
            for i, p in enumerate(preds)]


def test_figures_of_a_set():
    f = figures(_rows("x", [VIN, WRONG, None, VIN]))
    assert f["n"] == 4 and f["exact"] == 0.5
    assert f["valid"] == 0.5 and f["wrong_valid"] == 0
    assert abs(f["char_acc"] - (17 + 16 + 0 + 17) / 68) < 1e-9
    assert f["median_ms"] == 25.0


def test_results_name_each_engines_run(tmp_path):
    results = {
        "fresh": {"rows": _rows("fresh", [VIN, VIN]), "peak_rss_mb": 100.0, "cold_ms": 500.0,
                  "ran": {"date": "2026-11-29", "speed_probe_ms": 80.5}},
        "reused": {"rows": _rows("reused", [None, VIN]), "peak_rss_mb": 50.0},
    }
    out = tmp_path / "RESULTS.md"
    write_results(results, out)
    text = out.read_text()
    assert "| scene sticker | fresh | 2 | 1.000 |" in text
    assert "| scene sticker | reused | 2 | 0.500 |" in text
    assert "| fresh | 500 | 100 | 2026-11-29 | 80.5 |" in text
    assert "| reused | - | 50 | earlier | - |" in text


def test_speed_probe_is_a_positive_time():
    ms = speed_probe(rounds=1)
    assert 0 < ms < 60_000


def test_engines_missing_here_run_only_where_their_results_are_reused(tmp_path):
    names = ["vinread", "tesseract6", "tesseract7", "rapidocr"]
    lacking = ["Tesseract: apt-get install tesseract-ocr"]
    assert available(names, lacking) == ["vinread", "rapidocr"]
    (tmp_path / "tesseract7.json").write_text("{}")
    assert available(names, lacking, tmp_path) == ["vinread", "tesseract7", "rapidocr"]
    assert available(names, []) == names
