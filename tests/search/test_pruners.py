"""``[study] pruner``: Optuna's pruners on nasga's searches (issue 27)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.cli import main
from nasga.errors import NasgaInputError
from nasga.evaluation.records import lineage
from nasga.samplers.ga.claims import work_of
from nasga.search.config import validate
from nasga.search.pruners import make_pruner, pruner_table
from nasga.search.run import open_search, optimize
from tests.helpers import one_line_error

EPOCHS = 4
P, G = 4, 3  # population, last generation


def _cfg(name: str, sampler: str, pruner: object, *, noise: float = 0.05) -> dict:
    return validate({"study": {"name": name, "task": "genetic-cnn", "seed": 2,
                               "sampler": sampler, "pruner": pruner},
                     "space": {"stages": [3, 4]},
                     "strategy": {"population": P, "generations": G},
                     "task": {"task": "synthetic", "epochs": EPOCHS, "noise": noise}})


@pytest.mark.parametrize("sampler", ["ga", "ga-steady", "aging", "aging-intensify", "tpe"])
@pytest.mark.parametrize("pruner", ["median", "successive-halving", "hyperband"])
def test_every_sampler_runs_under_every_pruner_and_pruned_children_are_final(
        tmp_path: Path, sampler: str, pruner: str) -> None:
    search = open_search(_cfg("p", sampler, pruner), storage_url=f"sqlite:///{tmp_path / 'p.db'}")
    optimize(search, progress=False, log=lambda s: None)
    trials = search.study.get_trials(deepcopy=False)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned, "nothing was pruned: the test shows nothing"
    assert not [t for t in trials if t.state == TrialState.FAIL]
    for t in pruned:  # stopped early, its curve up to there
        assert 1 <= t.user_attrs["pruned_at_epoch"] < EPOCHS
        assert sorted(t.intermediate_values) == list(range(1, t.user_attrs["pruned_at_epoch"] + 1))
    for t in complete:
        assert sorted(t.intermediate_values) == list(range(1, EPOCHS + 1))
    if sampler.startswith("ga"):  # one attempt per child: a pruned one is never retried
        items = [work_of(t) for t in trials]
        assert None not in items and len(set(items)) == len(items)
        assert {i[1] for i in items} == {0}  # round 0 only
        generations = Counter(lineage(t)["ga_generation"] for t in trials)
        assert generations == {g: P for g in range(G + 1)}
    else:  # the budget counts COMPLETE trials; pruned ones come on top
        assert len(complete) == P * (G + 1)
    assert search.study.user_attrs["nasga_config"]["study"]["pruner"]["name"] == pruner


def test_a_search_without_a_pruner_stores_none_and_prunes_nothing(tmp_path: Path) -> None:
    cfg = _cfg("n", "ga", "none")
    assert "pruner" not in cfg["study"]  # the default, stored as before the setting existed
    search = open_search(cfg, storage_url=f"sqlite:///{tmp_path / 'n.db'}")
    optimize(search, progress=False, log=lambda s: None)
    trials = search.study.get_trials(deepcopy=False)
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all(sorted(t.intermediate_values) == list(range(1, EPOCHS + 1)) for t in trials)
    assert isinstance(search.study.pruner, optuna.pruners.NopPruner)


def test_the_last_epoch_is_never_pruned(tmp_path: Path) -> None:
    # A pruner that prunes everything it is asked about: the last epoch is not asked.
    search = open_search(_cfg("l", "aging", {"name": "median", "n_startup_trials": 0},
                              noise=0.0), storage_url=f"sqlite:///{tmp_path / 'l.db'}")
    optimize(search, progress=False, log=lambda s: None)
    assert all(t.user_attrs.get("pruned_at_epoch", 0) < EPOCHS
               for t in search.study.get_trials(deepcopy=False))


def test_hyperband_resources_are_the_tasks_epochs() -> None:
    table = pruner_table({"name": "hyperband", "reduction_factor": 3}, epochs=27)
    pruner = make_pruner(table, epochs=27)
    assert isinstance(pruner, optuna.pruners.HyperbandPruner)
    assert pruner._max_resource == 27  # noqa: SLF001 - Optuna keeps it private


@pytest.mark.parametrize("value,epochs,message", [
    ("bogus", 4, "study.pruner: must be one of none, median, successive-halving, hyperband, "
                 "got 'bogus'"),
    (3, 4, "study.pruner: must be a pruner name or a table with a name, got 3"),
    ({"name": "median", "foo": 1}, 4, "study.pruner.foo: unknown parameter of the median "
                                      "pruner; known: n_startup_trials, n_warmup_steps, "
                                      "interval_steps"),
    ({"name": "hyperband", "reduction_factor": 1}, 4,
     "study.pruner.reduction_factor: must be an integer >= 2 and <= 100,000 (the most epochs "
     "a task trains), got 1"),
    ({"name": "successive-halving", "min_early_stopping_rate": 10**21}, 4,  # else a hang
     "study.pruner.min_early_stopping_rate: must be an integer >= 0 and <= 100,000 (the most "
     "epochs a task trains), got 1000000000000000000000"),
    ({"name": ["median"]}, 4, "study.pruner: must be one of none, median, successive-halving, "
                              "hyperband, got ['median']"),
    ({"name": "hyperband", "min_resource": 5}, 4,
     "study.pruner.min_resource: must be <= the task's epochs (4): a rung beyond the last "
     "epoch, got 5"),
    ("median", None, "study.pruner: the task reports no per-epoch values, so nothing can be "
                     "pruned; got 'median'"),
])
def test_bad_pruners_are_one_line_errors(value: object, epochs: int | None,
                                         message: str) -> None:
    with pytest.raises(NasgaInputError) as info:
        pruner_table(value, epochs=epochs)
    assert str(info.value) == message


def test_nasga_run_refuses_a_bad_pruner_in_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, study = tmp_path / "bad.db", tmp_path / "s.toml"
    study.write_text('[study]\ntask = "genetic-cnn"\n[space]\nstages = [3, 4]\n'
                     '[task]\ntask = "synthetic"\n')  # no epochs: nothing to prune
    err, _ = one_line_error(main, ["run", "--study", str(study), "--pruner", "hyperband",
                                   "--storage", f"sqlite:///{db}"], capsys)
    assert err.endswith("study.pruner: the task reports no per-epoch values, so nothing can be "
                        "pruned; got 'hyperband'")
    assert not db.exists()


@pytest.mark.parametrize("prune", [False, True])
def test_the_objective_prunes_only_when_asked(prune: bool) -> None:
    """Optuna's pruning integrations are opt-in: a study with Optuna's default pruner (median)
    keeps every training unless the objective is told to prune."""
    from nasga.evaluation.objective import Objective
    from nasga.samplers.registry import make_sampler
    from nasga.samplers.ga.strategies import get_strategy
    from nasga.spaces import GeneticCNNSpace
    from nasga.tasks.synthetic import SyntheticTask

    space = GeneticCNNSpace((3, 4))
    study = optuna.create_study(direction="maximize", sampler=make_sampler(
        "aging", space=space, seed=0, strategy=get_strategy("genetic-cnn", population=8)))
    assert isinstance(study.pruner, optuna.pruners.MedianPruner)
    study.optimize(Objective(space=space, task=SyntheticTask(space, epochs=EPOCHS, noise=0.1),
                             prune=prune), n_trials=30)
    states = Counter(t.state for t in study.trials)
    assert all(len(t.intermediate_values) >= 1 for t in study.trials)
    assert (states[TrialState.PRUNED] > 0) == prune


# --- multi-fidelity presets (issue 27 part 3) -------------------------------------------------
@pytest.mark.parametrize("sampler", ["aging-asha", "ga-race"])
def test_the_multi_fidelity_presets_race_children_under_their_pruner(
        tmp_path: Path, sampler: str) -> None:
    from nasga.samplers.registry import RACE

    cfg = validate({"study": {"name": "r", "task": "genetic-cnn", "seed": 2, "sampler": sampler},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": P, "generations": G, "max_evaluations": 3},
                    "task": {"task": "synthetic", "epochs": EPOCHS, "noise": 0.05}})
    assert cfg["study"]["pruner"] == RACE  # the preset's, stored like a study's own
    search = open_search(cfg, storage_url=f"sqlite:///{tmp_path / 'r.db'}")
    assert isinstance(search.study.pruner, optuna.pruners.SuccessiveHalvingPruner)
    optimize(search, progress=False, log=lambda s: None)
    states = Counter(t.state for t in search.study.get_trials(deepcopy=False))
    assert states[TrialState.PRUNED] and states[TrialState.COMPLETE]
    assert not states[TrialState.FAIL]


def test_a_study_pruner_replaces_the_presets() -> None:
    cfg = validate({"study": {"name": "h", "task": "genetic-cnn", "sampler": "aging-asha",
                              "pruner": {"name": "hyperband", "reduction_factor": 3}},
                    "space": {"stages": [3, 4]},
                    "task": {"task": "synthetic", "epochs": EPOCHS}})
    assert cfg["study"]["pruner"] == {"name": "hyperband", "reduction_factor": 3}


@pytest.mark.parametrize("extra,task,message", [
    ([], {"task": "synthetic"},
     "study.sampler: aging-asha races trainings by their per-epoch values, which the task does "
     "not report; got 'aging-asha'"),
    (["--pruner", "none"], {"task": "synthetic", "epochs": EPOCHS},
     "study.pruner: aging-asha races its children with a pruner: name one of median, "
     "successive-halving, hyperband, or a sampler without one; got 'none'"),
])
def test_a_preset_without_its_pruner_is_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], task: dict,
        message: str) -> None:
    db, study = tmp_path / "bad.db", tmp_path / "s.toml"
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in task.items())
    study.write_text('[study]\ntask = "genetic-cnn"\n[space]\nstages = [3, 4]\n'
                     f"[task]\n{lines}")
    err, _ = one_line_error(main, ["run", "--study", str(study), "--sampler", "aging-asha",
                                   *extra, "--storage", f"sqlite:///{db}"], capsys)
    assert err.endswith(message)
    assert not db.exists()


def test_a_re_measurement_is_never_pruned() -> None:
    """Only a key's first training is raced: a key with a finished training passed every rung,
    so its repeats (max_evaluations > 1) run to the last epoch whatever the pruner says."""
    from nasga.evaluation import records as R
    from nasga.evaluation.objective import Objective
    from nasga.samplers.registry import make_sampler
    from nasga.samplers.ga.strategies import get_strategy
    from nasga.spaces import GeneticCNNSpace
    from nasga.tasks.synthetic import SyntheticTask

    space = GeneticCNNSpace((3, 4))
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(
        n_startup_trials=0), sampler=make_sampler(
        "aging-intensify", space=space, seed=0, max_evaluations=3,
        strategy=get_strategy("genetic-cnn", population=8)))
    study.optimize(Objective(space=space, task=SyntheticTask(space, epochs=EPOCHS, noise=0.1),
                             max_evaluations=3, prune=True), n_trials=80)
    trained: set[str] = set()  # keys with a finished training so far (one process: in order)
    repeats = 0
    for t in study.trials:
        key = t.user_attrs[R.KEY]
        if key in trained and t.user_attrs.get(R.TRAINED):
            repeats += 1
            assert t.state == TrialState.COMPLETE
        assert not (t.state == TrialState.PRUNED and key in trained)
        if t.state == TrialState.COMPLETE and t.user_attrs.get(R.TRAINED):
            trained.add(key)
    pruned = sum(t.state == TrialState.PRUNED for t in study.trials)
    assert repeats and pruned, (repeats, pruned)  # both kinds happened
