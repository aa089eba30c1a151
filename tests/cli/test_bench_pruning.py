"""``nasga run --pruner`` on the tabular task (issue 27): a learning-curve table's replayed
curves are the trials' intermediate values and Hyperband stops some of them; a table without
curves takes no pruner (one line, exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from nasga.bench import BenchTable
from nasga.cli import main
from nasga.evaluation import records as R
from nasga.storages.storage import CONFIG_ATTR, open_storage
from tests.bench.tiny import build_tiny
from tests.helpers import one_line_error

optuna.logging.set_verbosity(optuna.logging.WARNING)

STUDY = """
[study]
name = "s"
task = "genetic-cnn"
[space]
stages = [3, 3]
[strategy]
population = 8
generations = 3
max_evaluations = 3
[task]
task = "genetic-cnn-bench"
table = "{table}"
"""


def _study_file(tmp_path: Path, curves: bool) -> tuple[Path, BenchTable]:
    build_tiny(tmp_path / "t.npz", (3, 3), repeats=3, epochs=6, curves=curves)
    study = tmp_path / "bench.toml"
    study.write_text(STUDY.format(table=tmp_path / "t.npz"), "utf-8")
    return study, BenchTable.load(tmp_path / "t.npz")  # as stored: float32


def test_hyperband_on_a_curve_table_prunes_replayed_curves(tmp_path: Path, capsys) -> None:
    study, table = _study_file(tmp_path, curves=True)
    url = f"journal:///{tmp_path / 's.log'}"
    assert main(["run", "--study", str(study), "--storage", url, "--quiet",
                 "--pruner", "hyperband"]) == 0
    loaded = optuna.load_study(study_name="s", storage=open_storage(url, create=False))
    assert loaded.user_attrs[CONFIG_ATTR]["study"]["pruner"] == {"name": "hyperband"}
    trials = loaded.get_trials(deepcopy=False)
    states = {s: [t for t in trials if t.state == s]
              for s in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)}
    pruned = states[optuna.trial.TrialState.PRUNED]
    complete = states[optuna.trial.TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == len(trials)
    acc = table.curves["val_accuracy"]  # type: ignore[index]
    for t in complete:
        if not t.user_attrs.get(R.TRAINED):
            continue  # answered from the cache: no curve
        i, r = table.row(t.user_attrs[R.KEY]), t.user_attrs["bench_repeat"]
        assert t.intermediate_values == {e: float(acc[i, r, e - 1]) for e in range(1, 7)}
    for t in pruned:
        e = t.user_attrs[R.PRUNED_AT]
        assert 1 <= e < 6 and sorted(t.intermediate_values) == list(range(1, e + 1))
        i = table.row(t.user_attrs[R.KEY])
        values = [t.intermediate_values[s] for s in range(1, e + 1)]
        assert any(values == acc[i, r, :e].tolist() for r in range(3))  # a recorded prefix


@pytest.mark.parametrize("pruner", ["hyperband", "median"])
def test_a_pruner_on_a_table_without_curves_is_one_line(tmp_path: Path, capsys,
                                                        pruner: str) -> None:
    study, _ = _study_file(tmp_path, curves=False)
    store = tmp_path / "s.log"
    line, _ = one_line_error(main, ["run", "--study", str(study), "--storage",
                                    f"journal:///{store}", "--pruner", pruner], capsys)
    assert line == ("nasga run: error: study.pruner: the task reports no per-epoch values, so "
                    f"nothing can be pruned; got '{pruner}'")
    assert not store.exists()
