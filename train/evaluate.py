"""Evaluation of the glyph classifier: per-class report, confusions, REPORT.md."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from vinread.alphabet import ALPHABET


def per_class_report(y_true: np.ndarray, y_pred: np.ndarray) -> list[dict]:
    """Precision, recall, F1 and support per alphabet class (classes with no support and no prediction are left out)."""
    rows = []
    for k, c in enumerate(ALPHABET):
        tp = int(np.sum((y_pred == k) & (y_true == k)))
        fp = int(np.sum((y_pred == k) & (y_true != k)))
        fn = int(np.sum((y_pred != k) & (y_true == k)))
        if tp + fn == 0 and fp == 0:
            continue
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        rows.append({"char": c, "precision": p, "recall": r, "f1": f, "support": tp + fn})
    return rows


def top_confusions(y_true: np.ndarray, y_pred: np.ndarray, k: int = 10) -> list[tuple[str, str, int]]:
    """The ``k`` most frequent (true, predicted, count) mistakes."""
    pairs = Counter((ALPHABET[t], ALPHABET[p]) for t, p in zip(y_true, y_pred) if t != p)
    return [(t, p, n) for (t, p), n in pairs.most_common(k)]


def summarize(name: str, y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, macro F1, the per-class rows and top confusions of one test set."""
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(axis=1)
    rows = per_class_report(y_true, y_pred)
    return {
        "set": name, "n": int(len(y_true)),
        "accuracy": float(np.mean(y_pred == y_true)) if len(y_true) else float("nan"),
        "macro_f1": float(np.mean([r["f1"] for r in rows])) if rows else float("nan"),
        "per_class": rows, "confusions": top_confusions(y_true, y_pred),
    }


def glyphness_summary(glyph_scores: np.ndarray, rejects_scores: np.ndarray, threshold: float = 0.5) -> dict:
    """How well the glyph-or-not score separates whole glyphs from reject crops."""
    correct = np.sum(glyph_scores >= threshold) + np.sum(rejects_scores < threshold)
    total = len(glyph_scores) + len(rejects_scores)
    return {"set": "glyph-or-not", "n": int(total), "accuracy": float(correct / max(total, 1)),
            "glyph_recall": float(np.mean(glyph_scores >= threshold)) if len(glyph_scores) else float("nan"),
            "reject_recall": float(np.mean(rejects_scores < threshold)) if len(rejects_scores) else float("nan")}


def _table(rows: list[dict]) -> list[str]:
    out = ["| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    out += [f"| {r['char']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
            for r in rows]
    return out


def write_report(path: str | Path, card: dict, results: list[dict]) -> None:
    """Write ``REPORT.md``: a summary table, then per-set per-class reports and confusions."""
    lines = ["# Glyph model report", "",
             f"Architecture `{card.get('architecture')}`, {card.get('params', '?'):,} parameters, "
             f"{card.get('epochs')} epochs, trained in {card.get('train_seconds', 0) / 60:.1f} min "
             f"on {card.get('machine', '?')}, by `{card.get('command') or 'python -m train'}` (see README).", "",
             "| test set | samples | accuracy | macro F1 |", "|---|---|---|---|"]
    for r in results:
        f1 = f"{r['macro_f1']:.4f}" if "macro_f1" in r else "-"
        lines.append(f"| {r['set']} | {r['n']} | {r['accuracy']:.4f} | {f1} |")
    for r in results:
        if "per_class" not in r:
            continue
        lines += ["", f"## {r['set']}", ""]
        lines += _table(r["per_class"])
        if r["confusions"]:
            lines += ["", "Top confusions (true -> predicted: count): " +
                      ", ".join(f"{t}->{p}: {n}" for t, p, n in r["confusions"])]
    for r in results:
        if "glyph_recall" in r:
            lines += ["", "## Glyph-or-not score", "",
                      f"Accuracy {r['accuracy']:.4f} at threshold 0.5 on {r['n']} crops "
                      f"(whole glyphs kept {r['glyph_recall']:.4f}, rejects refused {r['reject_recall']:.4f})."]
    Path(path).write_text("\n".join(lines) + "\n")
