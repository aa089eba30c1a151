"""Files of a sampler comparison: the per-training CSV, summaries and a self-contained HTML.

Values at a budget ``b`` carry the best-so-far forward: a run that stopped before ``b``
trainings (space exhausted, trial cap) keeps its last incumbent. Mean ± standard error
(``std(ddof=1) / √n``) across seeds.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go

CSV_COLUMNS = ("task", "sampler", "seed", "study", "training", "trial", "key", "fitness",
               "best_fitness", "incumbent", "regret")
"""``key`` and ``fitness``: the genome this training measured; ``incumbent``: the best genome so far."""


@dataclass
class RunResult:
    """A finished run: its curve (one row per training) and bookkeeping."""

    sampler: str
    seed: int
    study_name: str
    trainings: int
    trials: int
    wall_seconds: float
    stop_reason: str
    curve: list[dict[str, Any]] = field(default_factory=list)
    front: list[str] = field(default_factory=list)
    """A multi-objective run's returned front at its end (:func:`nasga.compare.front.front_curve`)."""
    spent: int = 0
    """The budget it spent, in the comparison's unit (0 in runs saved before units: its trainings)."""
    stopped: int = 0
    """Trainings the study's pruner stopped (PRUNED with ``pruned_at_epoch``): trainings too,
    for trials per training (issue 27)."""


@dataclass
class Comparison:
    """Every run of a comparison, and where its files went."""

    task: str
    budget: int
    max_evaluations: int | None
    results: list[RunResult]
    optimum: float | None
    csv_path: Path | None = None
    html_path: Path | None = None
    objectives: tuple[str, ...] = ()
    """A multi-objective comparison's objectives (regret is hypervolume regret then)."""
    budget_unit: str = "trainings"
    """What the budgets count: ``trainings`` or ``epochs`` (:data:`nasga.compare.run.BUDGET_UNITS`)."""

    @property
    def samplers(self) -> list[str]:
        return list(dict.fromkeys(r.sampler for r in self.results))


def write_csv(path: str | Path, cmp: Comparison) -> Path:
    """One row per (sampler, seed, training index)."""
    p = Path(path)
    with p.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in cmp.results:
            for row in r.curve:
                regret = "" if math.isnan(row["regret"]) else f"{row['regret']:.6g}"
                writer.writerow([cmp.task, r.sampler, r.seed, r.study_name, row["training"],
                                 row["trial"], row.get("key", ""), f"{row['fitness']:.6g}",
                                 f"{row['best_fitness']:.6g}", row["incumbent"], regret])
    return p


def curve_matrix(results: list[RunResult], column: str, budget: int) -> np.ndarray:
    """``(runs, budget)`` values once ``1..budget`` of the budget is spent (trainings, or
    epochs: a row's ``spent``), carried forward; NaN before the first."""
    out = np.full((len(results), budget), np.nan)
    for i, r in enumerate(results):
        last = math.nan
        values = {row.get("spent", row["training"]): row[column] for row in r.curve}
        for b in range(1, budget + 1):
            last = values.get(b, last)
            out[i, b - 1] = last
    return out


def mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the finite values (s.e. NaN for fewer than two)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return math.nan, math.nan
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return float(v.mean()), se


@dataclass(frozen=True)
class SummaryRow:
    """One sampler at one budget."""

    sampler: str
    budget: int
    n_seeds: int
    best: tuple[float, float]
    regret: tuple[float, float]
    reached: int
    wall_seconds: float
    trials: float
    stops: str
    trials_per_training: float = math.nan


def summarize(cmp: Comparison, budgets: list[int] | None = None) -> list[SummaryRow]:
    """Mean ± s.e. of best-found fitness and regret per sampler at each budget."""
    rows = []
    for b in budgets or [cmp.budget]:
        for s in cmp.samplers:
            runs = [r for r in cmp.results if r.sampler == s]
            reasons: dict[str, int] = {}
            for r in runs:
                reasons[r.stop_reason] = reasons.get(r.stop_reason, 0) + 1
            rows.append(SummaryRow(
                s, b, len(runs), mean_se(curve_matrix(runs, "best_fitness", b)[:, -1]),
                mean_se(curve_matrix(runs, "regret", b)[:, -1]),
                sum((r.spent or r.trainings) >= b for r in runs),
                float(np.mean([r.wall_seconds for r in runs])),
                float(np.mean([r.trials for r in runs])),
                ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())),
                float(np.mean([r.trials / max(r.trainings + r.stopped, 1) for r in runs]))))
    return rows


def _pm(pair: tuple[float, float], digits: int = 4) -> str:
    m, se = pair
    if math.isnan(m):
        return "–"
    return f"{m:.{digits}f} ± {se:.{digits}f}" if not math.isnan(se) else f"{m:.{digits}f}"


def curve_figure(cmp: Comparison, column: str, title: str) -> go.Figure:
    """A plotly figure of ``column`` (``"regret"`` or ``"best_fitness"``) after each training:
    one line per sampler, mean ± s.e. across seeds as a band (values to 6 decimals)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
              "#7f7f7f", "#bcbd22", "#17becf"]
    x = np.arange(1, cmp.budget + 1)
    for k, s in enumerate(cmp.samplers):
        m = curve_matrix([r for r in cmp.results if r.sampler == s], column, cmp.budget)
        stats = [mean_se(m[:, j]) for j in range(cmp.budget)]
        mean = np.round([a for a, _ in stats], 6)
        se = np.round(np.nan_to_num(np.array([b for _, b in stats])), 6)
        color = colors[k % len(colors)]
        fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]),
                                 y=np.concatenate([mean + se, (mean - se)[::-1]]),
                                 fill="toself", fillcolor=color, opacity=0.2, line={"width": 0},
                                 hoverinfo="skip", showlegend=False, legendgroup=s))
        fig.add_trace(go.Scatter(x=x, y=mean, name=f"{s} (n={m.shape[0]})", legendgroup=s,
                                 line={"color": color}))
    fig.update_layout(title=title, xaxis_title=cmp.budget_unit, yaxis_title=column.replace("_", " "),
                      template="plotly_white", height=480)
    return fig


def write_html(path: str | Path, cmp: Comparison, budgets: list[int] | None = None) -> Path:
    """A self-contained page (plotly.js inlined, works offline): curves ± s.e. and a table."""
    from plotly.offline import get_plotlyjs

    regret = cmp.optimum is not None
    several = len(cmp.objectives) > 1
    titles = {"best_fitness": "Returned front's observed hypervolume (mean ± s.e. across seeds)"
              if several else "Best-so-far fitness (mean ± s.e. across seeds)"}
    if regret:
        titles["regret"] = ((f"Hypervolume regret vs the table's true front, HV {cmp.optimum:.4f}"
                             if several else f"Regret vs the table optimum {cmp.optimum:.4f}")
                            + " (mean ± s.e. across seeds)")
    parts = [curve_figure(cmp, column, title).to_html(include_plotlyjs=False, full_html=False)
             for column, title in titles.items()]
    head = ("<tr><th>sampler</th><th>budget</th><th>seeds</th><th>best fitness</th>"
            + ("<th>regret</th>" if regret else "")
            + "<th>runs reaching budget</th><th>wall s / run</th><th>trials / run</th>"
            + "<th>trials / training</th>"
            "<th>stopped by</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(r.sampler)}</td><td>{r.budget}</td><td>{r.n_seeds}</td>"
        f"<td>{_pm(r.best)}</td>" + (f"<td>{_pm(r.regret)}</td>" if regret else "")
        + f"<td>{r.reached}</td><td>{r.wall_seconds:.2f}</td><td>{r.trials:.0f}</td>"
        + f"<td>{r.trials_per_training:.2f}</td>"
        f"<td>{html.escape(r.stops)}</td></tr>"
        for r in summarize(cmp, budgets))
    me = "every proposal trains" if cmp.max_evaluations is None else str(cmp.max_evaluations)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>nasga compare: {html.escape(cmp.task)}</title>
<script type="text/javascript">{get_plotlyjs()}</script>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>Sampler comparison on {html.escape(cmp.task)}</h1>
<p>Budget {cmp.budget} {cmp.budget_unit} per run ({_cost(cmp)}); max_evaluations {me};
mean ± standard error across seeds. {_rule(cmp)}</p>
{''.join(parts)}
<h2>Final values</h2><table>{head}{body}</table>
</body></html>
"""
    p = Path(path)
    p.write_text(page, encoding="utf-8")
    return p


def _cost(cmp: Comparison) -> str:
    if cmp.budget_unit == "epochs":
        return ("the epochs trained: a pruned training costs the epochs it ran, answers from "
                "the cache nothing")
    return "cached trials are free"


def _rule(cmp: Comparison) -> str:
    """How a run's result and its regret are defined, for the page."""
    regret = cmp.optimum is not None
    if len(cmp.objectives) > 1:
        return (f"Objectives {html.escape(', '.join(cmp.objectives))}. A run returns the genomes "
                "whose observed mean vectors no other measured genome dominates; "
                + ("hypervolume regret = the true front's hypervolume − that of the returned "
                   "genomes' table means, each objective scaled 0 (best key) to 1 (worst key), "
                   "reference point (1, …, 1) (nasga.compare.front)." if regret else
                   "the task has no table of true values, so no regret."))
    return ("The incumbent is the genome with the best mean observed fitness so far among those "
            "trained at least min(3, most trainings of any genome) times"
            + ("; regret = table optimum − its mean accuracy over the table's repeats." if regret
               else "."))


def markdown_table(rows: list[SummaryRow], *, regret: bool = True, unit: str = "trainings"
                   ) -> str:
    """Samplers as rows, budgets as columns: mean regret (or best fitness) ± s.e.; budgets in
    epochs say so in the header."""
    budgets = list(dict.fromkeys(r.budget for r in rows))
    samplers = list(dict.fromkeys(r.sampler for r in rows))
    by = {(r.sampler, r.budget): r for r in rows}
    what = "regret" if regret else "best fitness"
    suffix = " epochs" if unit == "epochs" else ""
    lines = ["| sampler | seeds | " + " | ".join(f"{what} @ {b}{suffix}" for b in budgets)
             + " | trials / training | wall s / run |",
             "|---|---:|" + "---:|" * len(budgets) + "---:|---:|"]
    for s in samplers:
        cells = [_pm(by[(s, b)].regret if regret else by[(s, b)].best) for b in budgets]
        last = by[(s, budgets[-1])]
        lines.append(f"| {s} | {last.n_seeds} | " + " | ".join(cells)
                     + f" | {last.trials_per_training:.2f} | {last.wall_seconds:.2f} |")
    return "\n".join(lines)


def verdict(rows: list[SummaryRow], budget: int, *, ours: Sequence[str],
            peers: Sequence[str] = ("tpe", "random")) -> str:
    """One line: the best of ``ours`` by mean regret at ``budget`` against each peer.

    Each comparison gives the difference of means and its size in standard errors of the
    difference, ``sqrt(se_a² + se_b²)`` (issue 16's goals: lower than TPE, and better than
    random search by at least 2 s.e.).
    """
    at = {r.sampler: r for r in rows if r.budget == budget and not math.isnan(r.regret[0])}
    mine = [at[s] for s in ours if s in at]
    if not mine:
        return (f"@ {budget}: none of {', '.join(ours)} ran" if ours
                else f"@ {budget}: no nasga sampler in this comparison")
    best = min(mine, key=lambda r: r.regret[0])
    parts = [f"@ {budget}: best nasga {best.sampler} {_pm(best.regret)}"]
    for peer in (p for p in peers if p in at):
        (m, se), (pm, pse) = best.regret, at[peer].regret
        z = (pm - m) / math.hypot(se, pse) if se > 0 or pse > 0 else math.inf
        parts.append(f"{peer} {_pm(at[peer].regret)}: {'lower' if m < pm else 'NOT lower'} by "
                     f"{pm - m:+.4f} = {z:.1f} s.e.")
    return "; ".join(parts)


__all__ = ["CSV_COLUMNS", "Comparison", "RunResult", "SummaryRow", "curve_figure", "curve_matrix",
           "markdown_table", "mean_se", "summarize", "verdict", "write_csv", "write_html"]
