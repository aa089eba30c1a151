"""AgingEvolutionSampler (Real et al. 2019, Algorithm 1): contract, population, workers, dedup."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from unittest.mock import patch

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState, create_trial

from nasga.samplers.aging.sampler import AgingEvolutionSampler
from nasga.evaluation.objective import Objective
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.results.stats import generation_stats
from nasga.tasks.synthetic import SyntheticTask
from nasga.evaluation.records import lineage
from tests.helpers import small_gcnn, small_unet

MEMBER = AgingEvolutionSampler.MEMBER_KEY


def generic(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    n = trial.suggest_int("n", 0, 9)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return -(x - 1) ** 2 - (n - 7) ** 2 + (c == "b")


def bits(space: GeneticCNNSpace):
    task = SyntheticTask(space)

    def f(trial: optuna.Trial) -> float:
        genome = space.from_params({n: trial.suggest_int(n, 0, 1) for n in space.param_names})
        return task.evaluate(genome, seed=0, workdir=Path(".")).measurements["score"]
    return f


def run(objective, *, n: int = 40, direction: str = "maximize", storage=None, n_jobs: int = 1,
        **kw) -> optuna.Study:
    kw.setdefault("population", 6)
    kw.setdefault("sample_size", 3)
    study = optuna.create_study(direction=direction, storage=storage,
                                sampler=AgingEvolutionSampler(**kw))
    study.optimize(objective, n_trials=n, n_jobs=n_jobs)
    return study


def params_of(study: optuna.Study) -> list[dict]:
    return [t.params for t in study.trials]


# --- constructor -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,field", [
    ({"population": 1}, "population"), ({"population": 2.5}, "population"),
    ({"population": True}, "population"), ({"sample_size": 0}, "sample_size"),
    ({"population": 4, "sample_size": 5}, "sample_size"), ({"max_rebreeds": -1}, "max_rebreeds"),
    ({"seed": "1"}, "seed"), ({"seed": 1.0}, "seed"), ({"space": "gcnn"}, "space"),
    ({"independent_sampler": object()}, "independent_sampler"),
    ({"reevaluate": -0.1}, "reevaluate"), ({"reevaluate": 1.5}, "reevaluate"),
    ({"reevaluate": True}, "reevaluate"), ({"reevaluate": "0.5"}, "reevaluate"),
])
def test_bad_constructor_arguments(kwargs, field) -> None:
    with pytest.raises(NasgaInputError) as err:
        AgingEvolutionSampler(**kwargs)
    assert err.value.field == field
    assert repr(next(iter(kwargs.values())) if len(kwargs) == 1 else kwargs["sample_size"]) \
        in str(err.value)
    with pytest.raises(TypeError):
        AgingEvolutionSampler(20)  # type: ignore[misc]  # keyword-only


def test_defaults() -> None:
    s = AgingEvolutionSampler()
    assert (s.population_size, s.sample_size, s.space) == (20, 5, None)
    assert isinstance(s._independent, optuna.samplers.RandomSampler)
    AgingEvolutionSampler(population=2, sample_size=2, max_rebreeds=0)  # the edges are valid


# --- reproducibility -----------------------------------------------------------------------------
@pytest.mark.parametrize("space", [None, small_gcnn()])
def test_same_seed_same_trials_other_seed_or_reseed_others(space) -> None:
    f = generic if space is None else bits(space)
    a = params_of(run(f, seed=3, space=space))
    assert a == params_of(run(f, seed=3, space=space))
    assert a != params_of(run(f, seed=4, space=space))
    reseeded = AgingEvolutionSampler(population=6, sample_size=3, seed=3, space=space)
    reseeded.reseed_rng()
    study = optuna.create_study(direction="maximize", sampler=reseeded)
    study.optimize(f, n_trials=40)
    assert a != params_of(study)


def test_seed_none_base_seed_is_stored_and_shared() -> None:
    study = optuna.create_study(direction="maximize")
    s1, s2 = AgingEvolutionSampler(), AgingEvolutionSampler()
    base = s1.base_seed(study)
    assert study._storage.get_study_system_attrs(study._study_id)[
        AgingEvolutionSampler.SEED_KEY] == base
    assert s2.base_seed(study) == base
    study.sampler = s2
    study.optimize(generic, n_trials=3)
    assert {AgingEvolutionSampler.member_seed(t) for t in study.trials} == {base}


# --- Algorithm 1: random start, population, tournament --------------------------------------------
@pytest.mark.parametrize("space", [None, small_gcnn(), small_unet()])
def test_random_start_then_mutations_of_the_p_most_recent(space) -> None:
    population = 5
    if space is None:
        f = generic
    elif isinstance(space, GeneticCNNSpace):
        f = bits(space)
    else:
        f = (lambda t: float(sum(t.suggest_int(n, d.low, d.high)
                                 for n, d in space.distributions.items())))
    study = run(f, n=45, population=population, sample_size=2, space=space, seed=0)
    trials = study.trials
    assert Counter(lineage(t)["ga_generation"] for t in trials) == {g: 5 for g in range(9)}
    for t in trials:
        if t.number < population:
            assert (lineage(t)["ga_operator"], lineage(t)["ga_parents"]) == ("random", [])
            continue
        assert lineage(t)["ga_operator"] == "mutation"
        (parent,) = lineage(t)["ga_parents"]
        alive = [u.number for u in trials[:t.number] if u.state == TrialState.COMPLETE]
        assert parent in alive[-population:]  # the older ones are retired
        changed = [n for n in t.params if t.params[n] != trials[parent].params[n]]
        if space is None:  # one parameter resampled (ints and categoricals change)
            assert len(changed) <= 1 and (changed or t.params == trials[parent].params) \
                and all(n == "x" or n in changed for n in changed)
    rows = generation_stats(study)  # nasga's per-generation stats read the lineage attrs
    assert [r.generation for r in rows] == list(range(9))


def _constructed(values: list[float], direction: str = "maximize") -> optuna.Study:
    study = optuna.create_study(direction=direction)
    dist = {"n": IntDistribution(0, 100)}
    for i, v in enumerate(values):
        study.add_trial(create_trial(params={"n": i}, distributions=dist, value=v,
                                     system_attrs={MEMBER: 0}))
    return study


@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_tournament_over_the_whole_population_picks_its_best(direction) -> None:
    # Trial 0 is the best ever, but it is retired: P=3 keeps trials 5, 6, 7 only.
    sign = 1 if direction == "maximize" else -1
    study = _constructed([sign * v for v in [100, 1, 2, 3, 4, 5, 9, 7]], direction)
    study.sampler = AgingEvolutionSampler(population=3, sample_size=3, seed=0)
    for _ in range(5):
        trial = study.ask()
        trial.suggest_int("n", 0, 100)
        assert lineage(study.trials[trial.number])["ga_parents"] == [6]  # as stored
        study.tell(trial, state=TrialState.FAIL)  # failed children join no population


@pytest.mark.parametrize("space", [None, small_gcnn()])
def test_minimize_is_maximize_mirrored(space) -> None:
    f = generic if space is None else bits(space)
    up = run(f, seed=1, space=space)
    down = run(lambda t: -f(t), direction="minimize", seed=1, space=space)
    assert params_of(up) == params_of(down)
    assert up.best_value == -down.best_value


def test_search_improves_on_random() -> None:
    rows = [run(generic, n=120, population=10, sample_size=4, seed=s).best_value
            for s in range(3)]
    rand = [run(generic, n=10, population=10, sample_size=4, seed=s).best_value for s in range(3)]
    assert all(a >= r for a, r in zip(rows, rand)) and sum(rows) > sum(rand)


# --- robustness ----------------------------------------------------------------------------------
def test_parameters_outside_the_space_go_to_the_independent_sampler() -> None:
    space = small_gcnn()
    inner = optuna.samplers.RandomSampler(seed=0)
    sampler = AgingEvolutionSampler(population=4, sample_size=2, space=space, seed=0,
                                    independent_sampler=inner)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with patch.object(inner, "sample_independent", wraps=inner.sample_independent) as spy:
        def f(trial: optuna.Trial) -> float:
            lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            return bits(space)(trial) + lr
        study.optimize(f, n_trials=16)
    assert {c.args[2] for c in spy.call_args_list} == {"lr"}
    assert spy.call_count == 16
    assert Counter(lineage(t)["ga_operator"] for t in study.trials)["mutation"] == 12


def test_generic_space_parameters_outside_the_intersection_go_to_the_independent_sampler() -> None:
    inner = optuna.samplers.RandomSampler(seed=0)
    sampler = AgingEvolutionSampler(population=3, sample_size=2, seed=0, independent_sampler=inner)
    study = optuna.create_study(sampler=sampler)

    def f(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.suggest_float("fixed", 2, 2)  # in every trial, but a single value: not relative
        if trial.number % 2:
            return x + trial.suggest_float("odd", 0, 1)  # not in every trial: not relative
        return x

    with patch.object(inner, "sample_independent", wraps=inner.sample_independent) as spy:
        study.optimize(f, n_trials=12)
    names = Counter(c.args[2] for c in spy.call_args_list)
    assert names["x"] == 3  # the random start (P=3) only: later trials mutate a parent
    assert names["odd"] == 6 and "fixed" not in names  # Optuna answers single values itself
    space = sampler.infer_relative_search_space(study, study.trials[-1])
    assert space == {"x": FloatDistribution(0, 1)}  # "fixed" is single, "odd" not in all


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
@pytest.mark.parametrize("space", [None, small_gcnn()])
def test_infinite_values_do_not_stop_breeding(space, bad) -> None:
    f = generic if space is None else bits(space)
    study = run(lambda t: (f(t), bad)[t.number % 3 == 0], n=30, space=space, seed=0)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    ops = Counter(lineage(t)["ga_operator"] for t in study.trials)
    assert ops == {"random": 6, "mutation": 24}
    if bad > 0:  # +inf ties with the best: a tournament with it picks it
        parents = Counter(p for t in study.trials for p in lineage(t)["ga_parents"])
        assert any(study.trials[p].value == math.inf for p in parents)


@pytest.mark.parametrize("space", [None, small_gcnn()])
def test_failed_and_pruned_trials_are_never_parents(space) -> None:
    f = generic if space is None else bits(space)

    def flaky(trial: optuna.Trial) -> float:
        value = f(trial)
        if trial.number % 3 == 1:
            raise RuntimeError("boom")
        if trial.number % 3 == 2:
            raise optuna.TrialPruned()
        return value

    study = optuna.create_study(direction="maximize", sampler=AgingEvolutionSampler(
        population=4, sample_size=2, space=space, seed=0))
    study.optimize(flaky, n_trials=45, catch=(RuntimeError,))
    parents = {p for t in study.trials for p in lineage(t)["ga_parents"]}
    assert parents and all(study.trials[p].state == TrialState.COMPLETE for p in parents)


def test_trials_without_the_full_genome_are_never_parents() -> None:
    space = small_gcnn()

    def partial(trial: optuna.Trial) -> float:
        names = space.param_names if trial.number % 2 else space.param_names[:4]
        return float(sum(trial.suggest_int(n, 0, 1) for n in names))

    study = run(partial, n=30, population=4, sample_size=4, space=space, seed=0)
    parents = {p for t in study.trials for p in lineage(t)["ga_parents"]}
    assert parents and all(p % 2 for p in parents)


def test_enqueued_trials_are_not_members_but_may_be_parents() -> None:
    space = small_gcnn()
    study = optuna.create_study(direction="maximize", sampler=AgingEvolutionSampler(
        population=3, sample_size=3, space=space, seed=0))
    study.optimize(bits(space), n_trials=3)
    study.enqueue_trial({n: 1 for n in space.param_names})  # the optimum, not a child
    study.optimize(bits(space), n_trials=5)
    enqueued = study.trials[3]
    assert AgingEvolutionSampler.member_seed(enqueued) is None and "ga_operator" not in lineage(enqueued)
    assert [lineage(t).get("ga_operator") for t in study.trials] == ["random"] * 3 + [
        None] + ["mutation"] * 4
    assert lineage(study.trials[4])["ga_parents"] == [3]  # P=S=3: trials 1-3, 3 the best


def test_after_trial_of_the_independent_sampler_is_called() -> None:
    sampler = AgingEvolutionSampler()
    study = optuna.create_study(sampler=sampler)
    with patch.object(sampler._independent, "after_trial",
                      wraps=sampler._independent.after_trial) as spy:
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert spy.call_count == 3


def test_pickled_sampler_carries_no_study_state_and_resumes() -> None:
    sampler = AgingEvolutionSampler(population=4, sample_size=2, seed=None)
    study = optuna.create_study(sampler=sampler)
    study.optimize(generic, n_trials=6)
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy._lock is not sampler._lock and "_lock" not in copy.__getstate__()
    study.sampler = copy
    study.optimize(generic, n_trials=6)
    assert len({AgingEvolutionSampler.member_seed(t) for t in study.trials}) == 1  # read back from the study


# --- workers and storages ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["memory", "sqlite", "journal"])
@pytest.mark.parametrize("direction", ["maximize", "minimize"])
def test_n_jobs_two_on_every_storage(kind, direction, tmp_path) -> None:
    storage = {"memory": None, "sqlite": f"sqlite:///{tmp_path / 'a.db'}",
               "journal": JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))}[kind]
    space = small_gcnn()
    sign = 1 if direction == "maximize" else -1
    n = 16 if kind == "sqlite" else 30  # SQLite: ~0.4 s a trial on 2 busy cores
    study = run(lambda t: sign * bits(space)(t), n=n, n_jobs=2, direction=direction,
                storage=storage, space=space, seed=0, population=5, sample_size=2)
    assert len(study.trials) == n
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    ops = Counter(lineage(t)["ga_operator"] for t in study.trials)
    assert ops == {"random": 5, "mutation": n - 5}  # ranks are exact under threads


WORKER = textwrap.dedent(
    """
    import sys, optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from nasga.samplers.aging.sampler import AgingEvolutionSampler
    from nasga.evaluation.objective import Objective
    from nasga.tasks.synthetic import SyntheticTask
    from tests.helpers import small_gcnn
    space = small_gcnn()
    storage = JournalStorage(JournalFileBackend(sys.argv[1]))
    sampler = AgingEvolutionSampler(population=6, sample_size=3, space=space)  # seed=None
    study = optuna.create_study(study_name="aging", storage=storage, sampler=sampler,
                                direction="maximize", load_if_exists=True)
    objective = Objective(space=space, task=SyntheticTask(space, sleep=0.02), max_evaluations=1)
    study.optimize(objective, n_trials=20)
    """
)


def test_two_journal_worker_processes_share_one_study(tmp_path) -> None:
    path = str(tmp_path / "journal.log")
    optuna.create_study(study_name="aging", direction="maximize",
                        storage=JournalStorage(JournalFileBackend(path)))
    root = Path(__file__).resolve().parents[3]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, path], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
    study = optuna.load_study(study_name="aging", storage=JournalStorage(JournalFileBackend(path)))
    assert len(study.trials) == 40
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    # One base seed: the one stored in the study (two workers racing to store it at their very
    # first trials may each use their own there, never later).
    stored = study._storage.get_study_system_attrs(study._study_id)[
        AgingEvolutionSampler.SEED_KEY]
    seeds = Counter(AgingEvolutionSampler.member_seed(t) for t in study.trials)
    assert seeds[stored] >= 38, seeds
    ops = Counter(lineage(t)["ga_operator"] for t in study.trials)
    assert ops["random"] >= 6 and ops["mutation"] >= 30
    assert sum(bool(t.user_attrs["cached"]) for t in study.trials) <= 12


# --- dedup and search quality with nasga's objective ---------------------------------------------
def _nasga_run(space, seed: int, n: int, *, max_rebreeds: int = 10, stop_at=None,
               k: int = 1, reevaluate: float = 0.0) -> optuna.Study:
    task = SyntheticTask(space, noise=0.05 if k > 1 else 0.0)
    sampler = AgingEvolutionSampler(population=10, sample_size=3, space=space, seed=seed,
                                    max_rebreeds=max_rebreeds, rebreed_after=k,
                                    reevaluate=reevaluate)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def stop(st: optuna.Study, t) -> None:
        if stop_at is not None and t.value is not None and t.value >= stop_at - 1e-9:
            st.stop()

    study.optimize(Objective(space=space, task=task, max_evaluations=k, seed=seed),
                   n_trials=n, callbacks=[stop])
    return study


def test_rebreed_after_k_measures_good_genomes_k_times_and_rarely_hits_the_cache() -> None:
    study = _nasga_run(small_gcnn(), 0, 120, k=3)
    trials = study.get_trials(deepcopy=False)
    per_key = Counter(t.user_attrs["key"] for t in trials if t.user_attrs.get("trained"))
    assert max(per_key.values()) == 3  # re-measured up to the cache's limit, never beyond
    assert sum(bool(t.user_attrs["cached"]) for t in trials) / len(trials) < 0.12
    with pytest.raises(NasgaInputError, match="rebreed_after"):
        AgingEvolutionSampler(rebreed_after=0)


def _remeasured(study: optuna.Study) -> tuple[int, int]:
    """(bred trials whose genome is their parent's, bred trials)."""
    by_number = {t.number: t for t in study.trials}
    bred = [t for t in study.trials if lineage(t).get("ga_parents")]
    same = sum(t.params == by_number[lineage(t)["ga_parents"][0]].params for t in bred)
    return same, len(bred)


@pytest.mark.parametrize("q", [0.5, 1.0])
def test_reevaluate_re_measures_tournament_winners_up_to_rebreed_after(q) -> None:
    study = _nasga_run(small_gcnn(), 0, 120, k=3, reevaluate=q)
    per_key = Counter(t.user_attrs["key"] for t in study.trials if t.user_attrs.get("trained"))
    assert max(per_key.values()) == 3  # never beyond the cache's limit
    same, bred = _remeasured(study)
    assert bred == 110 and 0.2 * q * bred < same < bred  # winners with 3 trainings are mutated
    assert _remeasured(_nasga_run(small_gcnn(), 0, 120, k=3)) == (0, 110)  # q = 0: Algorithm 1
    assert sum(bool(t.user_attrs["cached"]) for t in study.trials) / 120 < 0.12


def test_rebreeding_keeps_cached_trials_rare() -> None:
    # Measured on GeneticCNNSpace((3, 4)), P=10, S=3, 120 trials, seeds 0-9: the cached share
    # is 0.025-0.117 (mean 0.064) with max_rebreeds=10, and 0.44-0.57 (mean 0.49) with 0.
    share = [sum(bool(t.user_attrs["cached"]) for t in s.trials) / len(s.trials)
             for s in (_nasga_run(small_gcnn(), seed, 120) for seed in range(3))]
    assert max(share) < 0.2 and sum(share) / 3 < 0.12
    none = _nasga_run(small_gcnn(), 0, 120, max_rebreeds=0)
    assert sum(bool(t.user_attrs["cached"]) for t in none.trials) / 120 > 0.3


def test_reaches_the_synthetic_optimum() -> None:
    # Measured on GeneticCNNSpace((3, 3)) (64 genomes), P=10, S=3, seeds 0-19: the optimum is
    # found after 3-24 trials (mean 15.7); we allow 60 (random search needs ~64 on average).
    space = GeneticCNNSpace((3, 3))
    optimum = SyntheticTask(space).optimum()
    for seed in range(5):
        study = _nasga_run(space, seed, 60, stop_at=optimum)
        assert study.best_value == pytest.approx(optimum), seed
