"""``nasga compare``: equal training budgets, one study per (sampler, seed), CSV + HTML."""

from __future__ import annotations

import csv
import itertools
import math
import operator
import random
import time

import optuna
import pytest

from nasga.cli import main
from tests.helpers import one_line_error
from nasga.compare.runs import (
    NASGA_SAMPLERS, BinaryUNetStrategy, RunSpec, compare, config_for, incumbent_curve,
    make_compare_sampler, run_one, task_config,
)
from nasga.compare.report import markdown_table, summarize
from nasga.search.config import validate
from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace
from nasga.storages.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)
ALL = ["ga", "ga-unet", "random", "tpe", "gp", "nsga2", "qmc", "cmaes"]


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_bench_comparison_three_seeds_is_fast_and_writes_csv_and_html(tmp_path) -> None:
    start = time.perf_counter()  # in-process storage; SQLite costs ~0.1 s per trial here
    cmp = compare(task_config("genetic-cnn-bench"), samplers=ALL, seeds=3, budget=12,
                  out_dir=tmp_path, storage="memory", log=lambda line: None)
    assert time.perf_counter() - start < 30
    rows = _rows(cmp.csv_path)
    keys = [(r["sampler"], r["seed"], r["training"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per (sampler, seed, training index)
    for res in cmp.results:
        trainings = [int(r["training"]) for r in rows
                     if r["sampler"] == res.sampler and int(r["seed"]) == res.seed]
        assert trainings == list(range(1, min(12, res.trainings) + 1))
        assert res.stop_reason in ("budget", "trial-cap")
    assert {r["sampler"] for r in rows} == set(ALL)
    assert all(r["regret"] != "" and float(r["regret"]) >= 0 for r in rows)
    _check_key_column(rows)
    page = cmp.html_path.read_text(encoding="utf-8")
    assert "Plotly" in page and "<script src=" not in page and "ga-unet" in page  # offline
    table = markdown_table(summarize(cmp, [5, 12]))
    assert "regret @ 12" in table and "| tpe | 3 |" in table and "trials / training" in table
    for row in summarize(cmp, [12]):  # trials per training: every run's trials / trainings
        runs = [r for r in cmp.results if r.sampler == row.sampler]
        assert row.trials_per_training == pytest.approx(
            sum(r.trials / r.trainings for r in runs) / len(runs))
        assert row.trials_per_training >= 1.0


def _check_key_column(rows: list[dict[str, str]]) -> None:
    """Each row names the key it trained; best_fitness is one key's mean over the rows so far."""
    runs: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in rows:
        seen = runs.setdefault((r["sampler"], r["seed"]), {})
        assert r["key"]
        seen.setdefault(r["key"], []).append(float(r["fitness"]))
        means = [sum(v) / len(v) for v in seen.values()]
        assert min(abs(m - float(r["best_fitness"])) for m in means) < 1e-5


def _bench_spec(tmp_path, *, budget: int, trial_cap_factor: int = 20) -> RunSpec:
    return RunSpec(task_config("genetic-cnn-bench"), "random", 0, budget, 1,
                   f"sqlite:///{tmp_path / 'acct.db'}", trial_cap_factor=trial_cap_factor)


def test_cached_proposals_do_not_spend_budget(tmp_path) -> None:
    spec = _bench_spec(tmp_path, budget=2)
    space = GeneticCNNSpace((3, 4))
    a, b = space.random_genome(random.Random(1)), space.random_genome(random.Random(2))
    assert a.key != b.key
    study = optuna.create_study(study_name=spec.study_name, storage=spec.storage,
                                direction="maximize")
    for genome in (a, a, a, b):  # the same genome proposed three times, then another
        study.enqueue_trial(space.to_params(genome))
    result = run_one(spec)
    assert result.trainings == 2 and result.trials == 4 and result.stop_reason == "budget"
    trials = optuna.load_study(study_name=spec.study_name, storage=spec.storage).trials
    assert [t.user_attrs["trained"] for t in trials] == [True, False, False, True]
    assert [t.user_attrs["cached"] for t in trials] == [False, True, True, False]
    assert [row["trial"] for row in result.curve] == [0, 3]


def test_a_sampler_stuck_on_cached_genomes_stops_at_the_trial_cap(tmp_path) -> None:
    spec = _bench_spec(tmp_path, budget=3, trial_cap_factor=2)  # at most 6 trials
    space = GeneticCNNSpace((3, 4))
    study = optuna.create_study(study_name=spec.study_name, storage=spec.storage,
                                direction="maximize")
    for _ in range(10):
        study.enqueue_trial(space.to_params(space.genome([1] * space.n_bits)))
    result = run_one(spec)
    assert (result.trainings, result.trials, result.stop_reason) == (1, 6, "trial-cap")


def test_rerun_continues_the_studies(tmp_path) -> None:
    cfg = task_config("genetic-cnn-bench")
    first = compare(cfg, samplers=["ga", "tpe"], seeds=2, budget=5, out_dir=tmp_path,
                    log=lambda line: None)
    second = compare(cfg, samplers=["ga", "tpe"], seeds=2, budget=9, out_dir=tmp_path,
                     log=lambda line: None)
    # one storage (default: a journal file in --out); names group per task and sampler
    names = {s.study_name for s in optuna.get_all_study_summaries(
        open_storage(f"journal:///{tmp_path / 'compare.log'}", create=False))}
    assert names == {f"compare-genetic-cnn-bench-{s}-s{i}" for s in ("ga", "tpe") for i in (0, 1)}
    for r1, r2 in zip(first.results, second.results):
        assert r2.trainings == 9 and r2.curve[:5] == r1.curve
        assert r2.trials >= r1.trials
    with pytest.raises(NasgaInputError, match="study_name"):
        compare(cfg, samplers=["ga"], seeds=1, budget=9, out_dir=tmp_path, max_evaluations=2,
                log=lambda line: None)


def test_a_buffered_run_is_stored_whole_when_it_stops(tmp_path) -> None:
    # the tabular task is instant: the run happens in memory and lands in the journal at the end
    cmp = compare(task_config("genetic-cnn-bench"), samplers=["ga", "tpe"], seeds=1, budget=12,
                  out_dir=tmp_path, log=lambda line: None)
    storage = open_storage(f"journal:///{tmp_path / 'compare.log'}", create=False)
    for r in cmp.results:
        study = optuna.load_study(study_name=r.study_name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        assert len(trials) == r.trials and [t.number for t in trials] == list(range(r.trials))
        assert all(t.state.is_finished() for t in trials)
        assert sum(bool(t.user_attrs.get("trained")) for t in trials) == r.trainings == 12
        assert study.user_attrs["compare_stop_reason"] == "budget"
        again = incumbent_curve(trials, budget=12)  # the stored trials give the run's curve
        assert [(row["trial"], row["best_fitness"]) for row in again] == [
            (row["trial"], row["best_fitness"]) for row in r.curve]


def test_an_interrupted_buffered_run_writes_nothing_and_reruns_the_same(tmp_path, monkeypatch) -> None:
    from nasga.evaluation.objective import Objective

    cfg, url = task_config("genetic-cnn-bench"), f"journal:///{tmp_path / 'c.log'}"
    spec = RunSpec(cfg, "ga", 0, 10, 1, url)
    calls = {"n": 0}
    real = Objective.__call__

    def dies_on_the_sixth(self, trial):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real(self, trial)

    monkeypatch.setattr(Objective, "__call__", dies_on_the_sixth)
    with pytest.raises(KeyboardInterrupt):
        run_one(spec)
    monkeypatch.setattr(Objective, "__call__", real)
    stored = optuna.load_study(study_name=spec.study_name, storage=open_storage(url, create=False))
    assert stored.get_trials(deepcopy=False) == []  # nothing half-written
    again = run_one(spec)
    fresh = run_one(RunSpec(cfg, "ga", 0, 10, 1, "memory"))
    assert again.curve == fresh.curve and again.trials == fresh.trials


def test_a_folder_with_an_earlier_sqlite_file_keeps_using_it(tmp_path) -> None:
    from nasga.compare.runs import default_storage_url

    assert default_storage_url(tmp_path).startswith("journal:///")
    (tmp_path / "compare.db").write_bytes(b"")
    assert default_storage_url(tmp_path) == f"sqlite:///{tmp_path / 'compare.db'}"


def test_memory_storage_with_two_workers(tmp_path) -> None:
    cmp = compare(task_config("genetic-cnn-bench"), samplers=["random", "ga-unet"], seeds=2,
                  budget=6, out_dir=tmp_path, storage="memory", workers=2, log=lambda line: None)
    assert sorted((r.sampler, r.seed) for r in cmp.results) == [
        ("ga-unet", 0), ("ga-unet", 1), ("random", 0), ("random", 1)]
    assert all(len(r.curve) == 6 for r in cmp.results)
    with pytest.raises(NasgaInputError, match="storage"):
        compare(task_config("genetic-cnn-bench"), samplers=["random"], seeds=1, budget=2,
                out_dir=tmp_path, workers=2, storage=f"sqlite:///{tmp_path / 'x.db'}",
                log=lambda line: None)  # SQLite, two processes
    # the default journal file takes two processes
    both = compare(task_config("genetic-cnn-bench"), samplers=["random"], seeds=2, budget=4,
                   out_dir=tmp_path / "j", workers=2, log=lambda line: None)
    assert [len(r.curve) for r in both.results] == [4, 4]


def test_real_tiny_task_two_samplers_two_seeds(tmp_path) -> None:
    cfg = config_for(task="genetic-cnn", settings=[
        "space.stages=[3,4]", "task.epochs=1", "task.max_train=300"])
    cmp = compare(cfg, samplers=["ga", "random"], seeds=2, budget=3, out_dir=tmp_path,
                  log=lambda line: None)
    assert cmp.optimum is None
    assert [(r.sampler, r.seed, r.trainings) for r in cmp.results] == [
        ("ga", 0, 3), ("ga", 1, 3), ("random", 0, 3), ("random", 1, 3)]
    rows = _rows(cmp.csv_path)
    assert len(rows) == 12 and all(r["regret"] == "" for r in rows)
    assert all(0 <= float(r["best_fitness"]) <= 1 for r in rows)
    assert cmp.html_path.exists()


def test_unet_preset_breeding_on_a_binary_space() -> None:
    space = GeneticCNNSpace((3, 4))
    rng = random.Random(0)
    parents = [space.to_vector(space.random_genome(rng)) for _ in range(8)]
    fitness = [0.5 + i / 100 for i in range(8)]
    kids = BinaryUNetStrategy(population=8).breed(parents, fitness, space=space, rng=rng)
    assert len(kids) == 8 and kids[0].operator == "elite" and kids[0].genes == parents[7]
    assert {k.operator for k in kids} <= {"elite", "copy", "crossover", "mutation"}
    assert all(len(k.genes) == 9 and set(k.genes) <= {0, 1} for k in kids)
    for k in kids:
        if k.operator == "mutation":
            assert k.genes != parents[k.parents[0]]  # a random piece always flips
    with pytest.raises(NasgaInputError, match="samplers"):
        make_compare_sampler("ga-unet", space=UNetSpace(4, (8, 16)), strategy=None, seed=0)


def test_cli_compare_and_bad_input(tmp_path, capsys) -> None:
    rc = main(["compare", "--task", "genetic-cnn-bench", "--samplers", "ga,random",
               "--seeds", "2", "--budget", "4", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "| ga | 2 |" in out and (tmp_path / "compare.html").exists()
    assert len(_rows(tmp_path / "compare.csv")) == 16
    assert main(["compare", "--samplers", "ga,sa", "--out", str(tmp_path)]) == 2
    assert "samplers" in capsys.readouterr().err
    assert main(["compare", "--set", "task.epochs", "--out", str(tmp_path)]) == 2
    assert "set" in capsys.readouterr().err
    assert main(["compare", "--budget", "0", "--out", str(tmp_path)]) == 2
    assert "budget" in capsys.readouterr().err


def test_a_task_that_always_fails_stops_with_its_reason(monkeypatch) -> None:
    from nasga.tasks.tabular import TabularTask

    def boom(self, genome, *, seed, workdir):  # noqa: ANN001, ANN202
        raise ValueError("boom")

    monkeypatch.setattr(TabularTask, "evaluate", boom)
    with pytest.raises(RuntimeError, match="failed in a row; last reason: ValueError: boom"):
        run_one(RunSpec(task_config("genetic-cnn-bench"), "random", 0, 5, 1, "memory"))


def test_aging_is_a_named_sampler_of_compare_and_run(tmp_path) -> None:
    """`aging` is wired through the one list of sampler names (compare, config, CLI)."""
    import subprocess
    import sys

    from nasga.samplers.registry import SAMPLER_NAMES, STUDY_SAMPLERS
    from nasga.compare.runs import COMPARE_SAMPLERS
    from nasga.search.config import SAMPLERS

    assert "aging" in STUDY_SAMPLERS and SAMPLERS is STUDY_SAMPLERS
    assert COMPARE_SAMPLERS is SAMPLER_NAMES
    out = subprocess.run([sys.executable, "-m", "nasga.cli", "compare", "--samplers", "aging",
                          "--budget", "8", "--seeds", "1", "--storage", "memory", "--out",
                          str(tmp_path / "cmp")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "| aging | 1 |" in out.stdout


def test_ga_variants_with_duplicate_elimination_train_on_nearly_every_trial(tmp_path) -> None:
    """Every nasga sampler under max_evaluations = 1: trials per training <= 1.2 (the issue's
    goal); the papers' literal flowchart (``strategy.dedup = false``) re-proposes cached genomes."""
    from nasga.samplers.registry import SAMPLERS

    cfg = task_config("genetic-cnn-bench")
    plain = [n for n in NASGA_SAMPLERS if SAMPLERS[n].pruner is None]  # the table has no curves
    cmp = compare(cfg, samplers=plain,
                  seeds=2, budget=40, out_dir=tmp_path, storage="memory", log=lambda line: None)
    assert {row.sampler for row in summarize(cmp, [40])} == {
        "ga", "ga-unet", "ga-dedup", "ga-steady", "aging", "aging-reeval", "aging-intensify"}
    for row in summarize(cmp, [40]):
        assert row.trials_per_training <= 1.2, row
    races = compare(config_for(table="genetic_cnn_34_digits_e27"),  # a stopped one counts
                    samplers=[n for n in NASGA_SAMPLERS if n not in plain], seeds=2, budget=1080,
                    budget_unit="epochs", out_dir=tmp_path, storage="memory", log=lambda _: None)
    assert {row.sampler for row in summarize(races, [1080])} == {"aging-asha", "ga-race"}
    for row in summarize(races, [1080]):
        assert row.trials_per_training <= 1.2, row
    literal = validate({**cfg, "strategy": {**cfg["strategy"], "dedup": False}})
    stalls = compare(literal, samplers=["ga"], seeds=2, budget=40, out_dir=tmp_path,
                     storage="memory", log=lambda line: None)
    assert summarize(stalls, [40])[0].trials_per_training > 1.5


@pytest.mark.parametrize("name,option,value", [("aging-reeval", "_breeding.reevaluate", 0.5),
                                                ("aging-intensify", "_intensify", True)])
def test_aging_presets_re_measure_up_to_max_evaluations(name, option, value) -> None:
    from nasga.samplers.aging.sampler import AgingEvolutionSampler
    from nasga.compare.run import AGING_PRESETS

    cfg = task_config("genetic-cnn-bench")
    space = GeneticCNNSpace(tuple(cfg["space"]["stages"]))
    sampler = make_compare_sampler(name, space=space, strategy=None, seed=0, max_evaluations=3)
    assert isinstance(sampler, AgingEvolutionSampler)
    assert (sampler.population_size, sampler.sample_size) == (10, 5) == (
        AGING_PRESETS[name]["population"], AGING_PRESETS[name]["sample_size"])
    assert operator.attrgetter(option)(sampler) == value and sampler._rebreed_after == 3


def test_cli_table_flag_searches_the_large_table(tmp_path, capsys) -> None:
    assert main(["compare", "--table", "genetic_cnn_44_digits", "--samplers", "ga,tpe",
                 "--budget", "4", "--seeds", "1", "--out", str(tmp_path)]) == 0
    assert "| ga | 1 |" in capsys.readouterr().out
    names = {s.study_name for s in optuna.get_all_study_summaries(
        open_storage(f"journal:///{tmp_path / 'compare.log'}", create=False))}
    assert names == {f"compare-genetic-cnn-bench-genetic_cnn_44_digits-{s}-s0" for s in ("ga", "tpe")}
    with pytest.raises(NasgaInputError, match="^table: "):
        config_for(task="unet", table="genetic_cnn_44_digits")


def test_negative_seeds_are_refused_before_anything_runs(tmp_path) -> None:
    from nasga.compare.runs import compare, task_config

    with pytest.raises(NasgaInputError, match=r"^seeds: must be integers >= 0, got -2$"):
        compare(task_config("genetic-cnn-bench"), samplers=["random"], seeds=[1, -2], budget=5,
                out_dir=tmp_path, write=False, log=lambda line: None)
    assert list(tmp_path.iterdir()) == []


def test_qmc_baseline_differs_between_seeds() -> None:
    import optuna

    from nasga.samplers.registry import make_sampler
    from nasga.evaluation.objective import Objective
    from nasga.samplers.ga.strategies import get_strategy
    from nasga.tasks.synthetic import SyntheticTask

    space, strategy = GeneticCNNSpace((3, 4)), get_strategy("genetic-cnn")
    firsts = []
    for seed in (0, 1):
        study = optuna.create_study(direction="maximize",
                                    sampler=make_sampler("qmc", space=space, strategy=strategy,
                                                         seed=seed))
        study.optimize(Objective(space=space, task=SyntheticTask(space)), n_trials=4)
        firsts.append([t.params for t in study.trials[1:]])  # trial 0: independent sampler
    assert firsts[0] != firsts[1]  # scrambled Sobol: a seed is a different sequence


def test_incumbent_curve_counts_reused_measurements_like_best_but_budgets_trainings() -> None:
    from optuna.trial import create_trial

    from nasga.compare.run import incumbent_curve

    def trial(number: int, key: str, raw: float, **attrs: object) -> optuna.trial.FrozenTrial:
        t = create_trial(value=raw, user_attrs={"key": key, "genome": key, "fitness_raw": raw,
                                                **attrs})
        t.number = number
        return t

    trials = [trial(0, "a", 0.9, trained=True), trial(1, "b", 0.5, trained=True),
              trial(2, "b", 0.5, reused_from="other:3"),  # a measurement, not a training
              trial(3, "b", 0.6, trained=True), trial(4, "a", 0.2, trained=True)]
    rows = incumbent_curve(trials, budget=3)
    assert [r["trial"] for r in rows] == [0, 1, 3]  # the reuse is not a training
    # after trial 3, b has 3 measurements (0.5, 0.5, 0.6) and a has 1: the threshold is
    # min(3, 3) = 3, so b is named, as best_genome names it from the same trials
    assert rows[-1]["incumbent"] == "b"
    assert rows[-1]["best_fitness"] == pytest.approx(1.6 / 3)


def _e27(pruner: str | None = None) -> dict:
    sets = [f'study.pruner="{pruner}"'] if pruner else []
    return config_for(table="genetic_cnn_34_digits_e27", settings=sets)


def test_an_epoch_budget_counts_each_full_training_as_its_epochs() -> None:
    res = run_one(RunSpec(_e27(), "random", 0, 270, 3, "memory", budget_unit="epochs",
                          epochs=27))
    assert res.spent == 270 and res.trainings == 10
    assert [row["spent"] for row in res.curve] == [27 * i for i in range(1, 11)]


def test_under_a_pruner_a_pruned_training_costs_the_epochs_it_ran(tmp_path) -> None:
    from optuna.trial import TrialState

    from nasga.evaluation.records import PRUNED_AT

    url = f"journal:///{tmp_path / 'e.log'}"
    spec = RunSpec(_e27("hyperband"), "aging", 1, 600, 3, url, budget_unit="epochs", epochs=27)
    res = run_one(spec)
    study = optuna.load_study(study_name=spec.study_name,
                              storage=open_storage(url, heartbeat=False))
    trials = study.get_trials()
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned and all(1 <= t.user_attrs[PRUNED_AT] < 27 for t in pruned)
    assert not any(t.state == TrialState.FAIL for t in trials)  # never failed, never retried
    costs = [spec.cost(t) for t in sorted(trials, key=lambda t: t.number) if spec.cost(t)]
    assert res.spent == sum(costs) >= 600 and sum(costs[:-1]) < 600
    assert [row["spent"] for row in res.curve] == list(itertools.accumulate(costs))
    keys = [str(t.user_attrs.get("key")) for t in pruned]  # a pruned key measures nothing
    assert all(math.isnan(row["fitness"]) for row in res.curve if row["trial"] in
               {t.number for t in pruned}) and keys


def test_an_epoch_budget_needs_a_task_that_trains_in_epochs(tmp_path, capsys) -> None:
    assert main(["compare", "--budget-unit", "epochs", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "budget_unit" in err and "genetic_cnn_34_digits_e27" in err
    assert main(["compare", "--table", "genetic_cnn_34_digits_e27", "--pruner", "sometimes",
                 "--out", str(tmp_path)]) == 2
    assert "study.pruner" in capsys.readouterr().err
    assert not (tmp_path / "compare.csv").exists()


def test_a_multi_fidelity_preset_runs_under_its_pruner_at_equal_epochs() -> None:
    res = run_one(RunSpec(_e27(), "aging-asha", 0, 540, 3, "memory", budget_unit="epochs",
                          epochs=27))
    assert res.spent >= 540
    paid = [row["spent"] for row in res.curve]
    assert any(b - a < 27 for a, b in zip([0, *paid], paid))  # some trainings were stopped


def test_a_multi_fidelity_preset_on_a_table_without_curves_is_one_line(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    err, _ = one_line_error(main, ["compare", "--samplers", "aging-asha,tpe", "--seeds", "1",
                                   "--out", str(out)], capsys)
    assert err.endswith("samplers: aging-asha races trainings by their per-epoch values, which "
                        "the task does not report; got 'aging-asha'")
    assert not out.exists()


def test_aging_asha_past_its_exhausted_space_spends_every_trial_on_a_training() -> None:
    # the 186-key table is exhausted (every key measured or stopped) after about 1,100 epochs
    res = run_one(RunSpec(_e27(), "aging-asha", 0, 2400, 3, "memory", budget_unit="epochs",
                          epochs=27))
    keys = {row["key"] for row in res.curve}
    assert len(keys) == 186 and res.spent >= 2400
    assert res.trials == res.trainings + res.stopped  # no answer from the cache
