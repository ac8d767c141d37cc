"""What a user feels of the confidence: how often `qa` answers, and how often its answers are
right, at each threshold (`qa eval` tables and `qa eval --plot`).

An answer is right when its F1 against a gold answer is at least 0.5 (the answer's words and
the gold's mostly agree: "Jens Stoltenberg" for "Stoltenberg", not a clause that contains it).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

RIGHT = 0.5
THRESHOLDS = [round(0.1 * i, 1) for i in range(1, 10)]


def right(row: dict) -> bool:
    return row["raw_f1"] >= RIGHT


def _cells(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["cell"] != "withheld":
            out[f"{r['cell']} {r['lang']}"].append(r)
    return dict(sorted(out.items()))


def precision_at(rows: list[dict], coverage: float) -> float:
    """Precision of the most confident ``coverage`` share of the questions, all answered."""
    ranked = sorted(rows, key=lambda r: -r["conf"])[: max(1, round(len(rows) * coverage))]
    return round(sum(map(right, ranked)) / len(ranked), 4)


def table(rows: list[dict]) -> dict[str, list[dict]]:
    """Per cell and threshold: the share of questions answered and the precision of those
    answers (1.0 when none is given), and precision at 50% coverage."""
    out = {}
    for cell, rs in _cells(rows).items():
        curve = []
        for t in THRESHOLDS:
            given = [r for r in rs if r["conf"] >= t]
            curve.append(
                {
                    "threshold": t,
                    "answered": round(len(given) / len(rs), 4),
                    "precision": round(sum(map(right, given)) / len(given), 4) if given else 1.0,
                }
            )
        out[cell] = {"curve": curve, "precision_at_50": precision_at(rs, 0.5)}
    return out


def lines(rows: list[dict]) -> list[str]:
    """The precision/coverage table as text: one row per threshold, a column pair per cell."""
    tab = table(rows)
    cells = list(tab)
    head = f"{'threshold':<10}" + "".join(f"{c + ' ans/prec':>22}" for c in cells)
    out = ["precision of answers given (F1 >= 0.5) by threshold", head]
    for i, t in enumerate(THRESHOLDS):
        row = f"{t:<10}"
        for c in cells:
            pt = tab[c]["curve"][i]
            row += f"{pt['answered']:>14.3f}/{pt['precision']:<7.3f}"
        out.append(row)
    out.append(f"{'@50% cov':<10}" + "".join(f"{tab[c]['precision_at_50']:>21.3f} " for c in cells))
    return out


def plot(
    rows: list[dict], path: Path, title: str = "qa eval", before: list[dict] | None = None
) -> Path:
    """Precision against coverage for each cell (every question answered in order of
    confidence), with the default threshold's point marked; written as PNG to ``path``.
    ``before``: rows of an earlier run, drawn dashed in the same colours."""
    from qa.errors import need

    need("eval", "matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    old = _cells(before or [])
    for cell, rs in _cells(rows).items():
        (line,) = ax.plot(*_curve(rs), label=cell)
        if cell in old:
            ax.plot(*_curve(old[cell]), "--", color=line.get_color(), alpha=0.6, linewidth=1)
        given = [r for r in rs if r["answered"]]
        if given:
            ax.plot(
                len(given) / len(rs),
                sum(map(right, given)) / len(given),
                "o",
                color=line.get_color(),
            )
    ax.set_xlabel("coverage (share of questions answered, most confident first)")
    ax.set_ylabel("precision (answers with F1 >= 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    note = "dots: the default threshold" + ("; dashed: before" if before else "")
    ax.set_title(f"{title}\n({note})", fontsize=10)
    ax.legend(loc="lower left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _curve(rows: list[dict]) -> tuple[list[float], list[float]]:
    """(coverage, precision) answering the most confident first."""
    ranked = sorted(rows, key=lambda r: -r["conf"])
    xs, ys, good = [], [], 0
    for i, r in enumerate(ranked, 1):
        good += right(r)
        xs.append(i / len(ranked))
        ys.append(good / i)
    return xs, ys
