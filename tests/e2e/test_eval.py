"""`qa eval` end to end (qa.eval.run): a tiny parallel SQuAD pair on the real model is
deterministic (same inputs, same numbers). Its data handling: tests/unit/eval/test_squad.py."""

from __future__ import annotations

import pytest

from qa.eval import run as evaluate_run

pytestmark = pytest.mark.slow


@pytest.mark.slow
def test_tiny_eval_end_to_end_is_deterministic(squad_files, real_settings, tmp_path):
    s = real_settings.with_(quiet=True)
    runs = [
        evaluate_run.run(squad_files, s, workdir=tmp_path / "w", log=lambda m: None)
        for _ in range(2)
    ]
    assert runs[0]["summary"] == runs[1]["summary"]
    mixed_en = runs[0]["summary"]["mixed|en|all"]
    assert mixed_en["n"] == 3 and mixed_en["R@1"] == 1.0
    assert runs[0]["summary"]["mixed|ru|all"]["R@1"] == 1.0
    assert {"en->ru|en|all", "ru->en|ru|all", "withheld|en|all"} <= set(runs[0]["summary"])
    table = evaluate_run.table(runs[0])
    assert "mixed" in table and "R@1" in table
