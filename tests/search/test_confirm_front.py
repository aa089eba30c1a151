"""``nasga run --confirm K`` on a multi-objective study (issue 29): the front's first K
members (most measured, then crowding distance) are measured until each has 3 trainings, the
front is recomputed from the new means, and a rerun trains nothing."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.cli import main
from nasga.evaluation.objective import CONFIRM_ATTR
from nasga.evaluation.records import lineage
from nasga.results.best import FrontMember, pareto_front
from nasga.results.stats import generation_stats
from nasga.search.config import validate
from nasga.search.confirm import confirm, confirm_order
from nasga.search.run import open_search, optimize
from nasga.search.summary import summary

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _member(key: str, n: int, crowding: float, first: int) -> FrontMember:
    return FrontMember(key=key, genome=key, values=(0.0, 0.0), n_measurements=n,
                       trial=None,  # type: ignore[arg-type]
                       confirmed=n >= 3, trials=(first,), crowding=crowding)


def test_confirm_order_keeps_measured_members_then_boundaries_first() -> None:
    members = [_member("mid", 1, 0.5, 0), _member("edge", 1, math.inf, 4),
               _member("edge2", 1, math.inf, 2), _member("twice", 2, 0.3, 7),
               _member("done", 5, 0.2, 9)]
    order = [m.key for m in confirm_order(members, 3)]
    assert order == ["done", "twice", "edge2", "edge", "mid"]
    assert [m.key for m in confirm_order(members, 2)] == ["twice", "done", "edge2", "edge",
                                                          "mid"]  # capped at 2: crowding decides


def _cfg() -> dict:
    return validate({"study": {"name": "c", "task": "genetic-cnn", "seed": 3,
                               "objectives": ["score", "macs"]},
                     "space": {"stages": [3, 4]},
                     "strategy": {"population": 8, "generations": 1, "max_evaluations": 1},
                     "task": {"task": "synthetic", "noise": 0.1}})


def test_confirm_measures_the_front_until_its_first_k_are_confirmed(tmp_path: Path) -> None:
    search = open_search(_cfg(), storage_url=f"sqlite:///{tmp_path / 'c.db'}")
    optimize(search, progress=False, log=lambda s: None)
    table = [(r.generation, r.n) for r in generation_stats(search.study)]
    before = pareto_front(search.study)
    assert len(before) > 2 and not any(m.confirmed for m in before)
    n_before = len(search.study.trials)
    lines: list[str] = []

    ran = confirm(search, top_k=2, log=lines.append)
    extra = search.study.get_trials(deepcopy=False)[n_before:]
    assert ran == len(extra) >= 4 and lines and "Pareto front's first 2 members" in lines[0]
    assert all(t.state == TrialState.COMPLETE and t.user_attrs[CONFIRM_ATTR] == 3
               and t.user_attrs["trained"] and "ga_generation" not in lineage(t) for t in extra)
    after = pareto_front(search.study)
    first = confirm_order(after, 3)[:2]
    assert all(m.n_measurements == 3 and m.confirmed for m in first)
    # the boundary points of the search's front were the first asked
    edges = {m.key for m in before if math.isinf(m.crowding)}
    assert edges <= {t.user_attrs["key"] for t in extra}
    for m in after:  # each member's values: its means over every measurement, confirmations too
        ts = [search.study.trials[n] for n in m.trials]
        assert m.values[0] == pytest.approx(sum(t.user_attrs["score"] for t in ts) / len(ts))
    assert [(r.generation, r.n) for r in generation_stats(search.study)] == table
    assert search.done() and confirm(search, top_k=2, log=lines.append) == 0  # a fixed point
    assert "mean of 3 trainings)" in summary(search)


def test_cli_run_confirm_on_a_multi_objective_study(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "mo.toml"
    study.write_text('[study]\nname = "mo"\ntask = "genetic-cnn"\n'
                     'objectives = ["score", "macs"]\n[space]\nstages = [3, 4]\n'
                     '[task]\ntask = "synthetic"\nnoise = 0.1\n', encoding="utf-8")
    argv = ["run", "--study", str(study), "--population", "6", "--generations", "1",
            "--max-evaluations", "1", "--storage", f"sqlite:///{tmp_path / 'mo.db'}", "--quiet"]
    assert main([*argv, "--confirm", "1"]) == 0
    out = capsys.readouterr().out
    assert "confirm: 2 more training(s) so the Pareto front's first 1 members" in out
    assert "Pareto front: " in out and "mean of 3 trainings)" in out
