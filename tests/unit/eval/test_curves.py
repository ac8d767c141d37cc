"""Precision against coverage (qa.eval.curves): what `qa eval` reports of the confidence."""

from __future__ import annotations

import pytest

from qa.eval import curves


def row(cell: str, lang: str, conf: float, f1: float, answered: bool | None = None) -> dict:
    return {
        "cell": cell,
        "lang": lang,
        "conf": conf,
        "raw_f1": f1,
        "answered": conf >= 0.5 if answered is None else answered,
    }


ROWS = [
    row("mixed", "en", 0.9, 1.0),
    row("mixed", "en", 0.8, 0.6),
    row("mixed", "en", 0.3, 0.0),
    row("mixed", "en", 0.2, 0.4),  # F1 0.4: not right
    row("mixed", "ru", 0.7, 0.0),
    row("mixed", "ru", 0.6, 1.0),
    row("withheld", "en", 0.95, 0.0),  # withheld rows are not a cell of the table
]


def test_precision_at_coverage_ranks_by_confidence():
    en = [r for r in ROWS if r["lang"] == "en" and r["cell"] == "mixed"]
    assert curves.precision_at(en, 0.5) == 1.0  # the two most confident are right
    assert curves.precision_at(en, 1.0) == 0.5
    assert curves.precision_at(en, 0.25) == 1.0
    ru = [r for r in ROWS if r["lang"] == "ru"]
    assert curves.precision_at(ru, 0.5) == 0.0  # the surest Russian answer is wrong


def test_table_per_cell_and_threshold():
    tab = curves.table(ROWS)
    assert list(tab) == ["mixed en", "mixed ru"]
    en = {p["threshold"]: p for p in tab["mixed en"]["curve"]}
    assert en[0.1] == {"threshold": 0.1, "answered": 1.0, "precision": 0.5}
    assert en[0.5] == {"threshold": 0.5, "answered": 0.5, "precision": 1.0}
    assert en[0.9] == {"threshold": 0.9, "answered": 0.25, "precision": 1.0}
    ru = {p["threshold"]: p for p in tab["mixed ru"]["curve"]}
    assert ru[0.7]["precision"] == 0.0 and ru[0.8] == {
        "threshold": 0.8,
        "answered": 0.0,
        "precision": 1.0,  # nothing said, nothing wrong
    }
    lines = curves.lines(ROWS)
    assert len(lines) == 2 + len(curves.THRESHOLDS) + 1 and "mixed ru" in lines[1]


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = curves.plot(ROWS, tmp_path / "sub" / "p.png", title="test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
