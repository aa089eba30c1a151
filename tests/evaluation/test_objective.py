from __future__ import annotations

import math

import optuna
import pytest
from optuna.trial import TrialState

from nasga.evaluation.objective import MeasurementPool, Objective, evaluation_seed
from nasga.tasks.synthetic import SyntheticTask
from tests.helpers import small_gcnn, small_unet


def _enqueued(space, genome_text: str, times: int, max_evaluations, noise: float = 0.1):
    task = SyntheticTask(space, noise=noise)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    genome = space.parse(genome_text)
    for _ in range(times):
        study.enqueue_trial(space.to_params(genome))
    objective = Objective(space=space, task=task, max_evaluations=max_evaluations, seed=7)
    study.optimize(objective, n_trials=times)
    return study, task


def test_cache_skips_training_at_max_evaluations_1() -> None:
    study, task = _enqueued(small_gcnn(), "1-01|0-01-111", 3, max_evaluations=1)
    assert task.calls == 1
    first, *rest = study.trials
    assert first.user_attrs["trained"] and not first.user_attrs["cached"]
    for t in rest:
        assert t.user_attrs["cached"] and not t.user_attrs["trained"]
        assert t.value == first.value
        assert t.user_attrs["macs"] == first.user_attrs["macs"]  # measurements copied


def test_repeats_are_averaged_at_max_evaluations_3() -> None:
    study, task = _enqueued(small_gcnn(), "1-01|0-01-111", 5, max_evaluations=3)
    assert task.calls == 3
    raw = [t.user_attrs["fitness_raw"] for t in study.trials if t.user_attrs["trained"]]
    assert len(raw) == 3 and len(set(raw)) == 3  # different seeds per repeat
    assert study.trials[2].value == pytest.approx(sum(raw) / 3)
    assert study.trials[4].value == pytest.approx(sum(raw) / 3)
    assert [t.user_attrs["n_evaluations"] for t in study.trials] == [1, 2, 3, 3, 3]


def test_unlimited_evaluations_retrain_every_time() -> None:
    study, task = _enqueued(small_gcnn(), "0-00|0-00-000", 4, max_evaluations=None)
    assert task.calls == 4


def test_isomorphic_genomes_share_the_cache() -> None:
    space = small_gcnn()
    task = SyntheticTask(space)
    study = optuna.create_study(direction="maximize")
    for text in ("1-10|0-00-000", "0-11|0-00-000"):  # 1->2,1->3 vs 1->3,2->3: different
        study.enqueue_trial(space.to_params(space.parse(text)))
    for text in ("1-10|0-00-000", "0-01|0-00-000", "1-00|0-00-000"):  # 2->3 ~ 1->2
        study.enqueue_trial(space.to_params(space.parse(text)))
    study.optimize(Objective(space=space, task=task, max_evaluations=1), n_trials=5)
    assert task.calls == 3  # 1-10 (fan-out), 0-11 (fan-in), 0-01 (a 2-node chain)
    assert [t.user_attrs["cached"] for t in study.trials] == [False, False, True, False, True]


def test_failure_becomes_failed_trial_with_reason() -> None:
    space = small_unet()

    class Broken(SyntheticTask):
        def fitness(self, measurements):
            return math.nan

    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(space=space, task=Broken(space)), n_trials=2)
    assert all(t.state == TrialState.FAIL for t in study.trials)
    assert "fitness is nan" in study.trials[0].user_attrs["fail_reason"]


def test_evaluation_seed_is_stable_and_distinct() -> None:
    assert evaluation_seed(0, "k", 0) == evaluation_seed(0, "k", 0)
    assert len({evaluation_seed(0, "k", i) for i in range(10)}) == 10


SAMPLERS = {
    "random": lambda: optuna.samplers.RandomSampler(seed=0),
    "tpe": lambda: optuna.samplers.TPESampler(seed=0, n_startup_trials=5),
    "gp": lambda: optuna.samplers.GPSampler(seed=0, n_startup_trials=5),
    "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=0, population_size=6),
    "qmc": lambda: optuna.samplers.QMCSampler(seed=0),
    "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=0, n_startup_trials=3),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
@pytest.mark.parametrize("space_fn", [small_gcnn, small_unet])
def test_builtin_samplers_drive_the_same_objective(name: str, space_fn) -> None:
    space = space_fn()
    study = optuna.create_study(direction="maximize", sampler=SAMPLERS[name]())
    study.optimize(Objective(space=space, task=SyntheticTask(space)), n_trials=12)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 12
    for t in complete:
        assert set(t.params) == set(space.param_names)
        assert space.parse(t.user_attrs["genome"]) == space.from_params(t.params)


def test_never_sampled_running_trial_of_a_dead_worker_is_failed(tmp_path) -> None:
    import datetime

    from nasga.storages.heartbeat import fail_stale_trials
    from nasga.storages.storage import open_storage

    storage = open_storage(f"sqlite:///{tmp_path / 'hb.db'}", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage, direction="maximize")
    old = datetime.datetime.now() - datetime.timedelta(seconds=10)
    dead = optuna.trial.create_trial(state=TrialState.RUNNING)
    dead.datetime_start = old
    study.add_trial(dead)
    fresh = optuna.trial.create_trial(state=TrialState.RUNNING)  # a live worker still sampling
    study.add_trial(fresh)
    fail_stale_trials(study)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL, TrialState.RUNNING]


class _WeightedTask(SyntheticTask):
    """Fitness = score - weight·macs: ``weight`` changes only the fitness (like the U-Net γ)."""

    fitness_settings = ("weight",)

    def __init__(self, space, *, weight: float) -> None:
        super().__init__(space, noise=0.1)
        self.weight = weight

    def fitness(self, measurements) -> float:
        return float(measurements["score"]) + 1.0 - self.weight * float(measurements["macs"])


def _run(space, task, genomes: list[str], *, max_evaluations, pool=None, name: str = "s",
         storage=None) -> optuna.Study:
    study = optuna.create_study(direction="maximize", study_name=name, storage=storage)
    for text in genomes:
        study.enqueue_trial(space.to_params(space.parse(text)))
    objective = Objective(space=space, task=task, max_evaluations=max_evaluations, seed=3,
                          measurements_from=pool)
    study.optimize(objective, n_trials=len(genomes))
    return study


def test_reuse_copies_another_studys_training_and_recomputes_fitness() -> None:
    space = small_gcnn()
    storage = optuna.storages.InMemoryStorage()
    low = _WeightedTask(space, weight=0.0)
    a = _run(space, low, ["1-01|0-01-111", "0-00|1-11-000"], max_evaluations=1, name="a",
             storage=storage)
    high = _WeightedTask(space, weight=0.05)
    pool = MeasurementPool([a])
    b = _run(space, high, ["1-01|0-01-111", "1-11|1-11-111", "1-01|0-01-111"],
             max_evaluations=1, pool=pool, name="b", storage=storage)
    assert high.calls == 1  # only the genome that study a never trained
    reused, fresh, cached = b.trials
    source = a.trials[0]
    assert reused.user_attrs["reused_from"] == f"a:{source.number}"
    assert not reused.user_attrs["trained"] and reused.user_attrs["cached"]
    assert reused.user_attrs["score"] == source.user_attrs["score"]
    expected = source.user_attrs["score"] + 1.0 - 0.05 * source.user_attrs["macs"]
    assert reused.value == pytest.approx(expected)
    assert reused.value != pytest.approx(source.value)  # this study's fitness, not a's
    assert fresh.user_attrs["trained"]
    assert cached.value == reused.value and "reused_from" not in cached.user_attrs


def test_reuse_fills_repeats_then_trains_the_rest() -> None:
    space = small_gcnn()
    storage = optuna.storages.InMemoryStorage()
    a = _run(space, _WeightedTask(space, weight=0.0), ["1-01|0-01-111"] * 2,
             max_evaluations=None, name="a", storage=storage)
    task = _WeightedTask(space, weight=0.01)
    b = _run(space, task, ["1-01|0-01-111"] * 4, max_evaluations=3, pool=MeasurementPool([a]),
             name="b", storage=storage)
    kinds = [("reused" if "reused_from" in t.user_attrs else
              "trained" if t.user_attrs["trained"] else "cached") for t in b.trials]
    assert kinds == ["reused", "reused", "trained", "cached"]
    assert task.calls == 1
    seeds = [t.user_attrs["eval_seed"] for t in b.trials[:3]]
    assert len(set(seeds)) == 3  # two of a's trainings, one new repeat
    # a chain does not offer a training twice: c sees a's two trainings and b's one
    c = _run(space, _WeightedTask(space, weight=0.02), ["1-01|0-01-111"] * 3,
             max_evaluations=None, pool=MeasurementPool([b, a]), name="c", storage=storage)
    assert all("reused_from" in t.user_attrs for t in c.trials)
    assert len({t.user_attrs["eval_seed"] for t in c.trials}) == 3


def test_enqueued_genome_outside_the_space_fails_its_trial_not_the_run() -> None:
    space = small_unet()
    study = optuna.create_study(direction="maximize")
    params = space.to_params(space.reference_genome())
    study.enqueue_trial({**params, "ch_0": 99}, skip_if_exists=False)  # no such channel choice
    with pytest.warns(UserWarning, match="out of range"):
        study.optimize(Objective(space=space, task=SyntheticTask(space)), n_trials=2)
    first, second = study.trials
    assert first.state == TrialState.FAIL
    assert first.user_attrs["fail_reason"].startswith("genome cannot be built: genome:")
    assert second.state == TrialState.COMPLETE  # the search went on


def test_genome_too_large_for_memory_is_a_failed_trial() -> None:
    """A network whose estimate exceeds the device's memory fails with a one-line reason
    before anything is allocated (the classification task, paper's space)."""
    import nasga.models.memory as memory
    from nasga.spaces import GeneticCNNSpace
    from nasga.tasks.classification import ClassificationTask

    space = GeneticCNNSpace((3, 4))
    task = ClassificationTask(space, epochs=1, max_train=50)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(space.to_params(space.parse("1-11|1-11-111")))
    limit = memory.memory_limit
    memory.memory_limit = lambda device="cpu": 1000
    try:
        study.optimize(Objective(space=space, task=task), n_trials=1)
    finally:
        memory.memory_limit = limit
    (trial,) = study.trials
    assert trial.state == TrialState.FAIL
    reason = trial.user_attrs["fail_reason"]
    assert reason.startswith("EvaluationError: 1-11|1-11-111 needs about") and "\n" not in reason


def test_max_trials_prunes_a_trial_beyond_the_total_and_counts_only_live_older_trials() -> None:
    space = small_gcnn()
    objective = Objective(space=space, task=SyntheticTask(space), max_evaluations=None,
                          max_trials=3)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    trials = [study.ask() for _ in range(5)]  # 0..4 all RUNNING
    with pytest.raises(optuna.TrialPruned, match="3 evaluations are complete or running"):
        objective(trials[3])  # 0, 1, 2 are older and RUNNING: the total is claimed
    study.tell(trials[3], state=TrialState.PRUNED)
    assert math.isfinite(objective(trials[2]))  # two older claims: evaluates
    study.tell(trials[1], state=TrialState.FAIL)  # a failed trial frees its place
    assert math.isfinite(objective(trials[4]))  # older live: 0, 2 (3 pruned, 1 failed)


def test_max_trials_counts_waiting_retries_and_ignores_confirmation_trials() -> None:
    from nasga.evaluation.objective import CONFIRM_ATTR

    space = small_gcnn()
    objective = Objective(space=space, task=SyntheticTask(space), max_evaluations=None,
                          max_trials=2)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.enqueue_trial({}, user_attrs={CONFIRM_ATTR: 3})
    confirmation = study.ask()  # number 0, a confirmation: never pruned, never counted
    assert confirmation.number == 0 and math.isfinite(objective(confirmation))
    first = study.ask()  # number 1
    study.enqueue_trial({})  # number 2 stays WAITING (e.g. a stale trial's retry copy)

    def fresh() -> optuna.Trial:  # a new RUNNING trial that does not pop the WAITING one
        return optuna.Trial(study, study._storage.create_new_trial(study._study_id))

    third = fresh()
    assert [first.number, third.number] == [1, 3]
    with pytest.raises(optuna.TrialPruned):
        objective(third)  # older live: 1 (RUNNING) and 2 (WAITING)
    assert math.isfinite(objective(first))


def test_garbage_is_collected_after_a_trained_network_or_a_failure_only(monkeypatch) -> None:
    import nasga.evaluation.objective as objective_module
    from nasga.tasks.base import Evaluation

    calls: list[int] = []
    monkeypatch.setattr(objective_module.gc, "collect", lambda *a: calls.append(1) or 0)
    space = small_gcnn()

    class WithModel(SyntheticTask):
        def evaluate(self, genome, *, seed, workdir):  # type: ignore[override]
            return Evaluation(super().evaluate(genome, seed=seed, workdir=workdir).measurements,
                              model=object())

    class Broken(SyntheticTask):
        def evaluate(self, genome, *, seed, workdir):  # type: ignore[override]
            raise RuntimeError("CUDA out of memory")

    for task, expected in ((SyntheticTask(space), 0), (WithModel(space), 3), (Broken(space), 3)):
        calls.clear()
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
        study.optimize(Objective(space=space, task=task, max_evaluations=None), n_trials=3)
        assert len(calls) == expected, type(task).__name__


def test_training_index_reads_each_trial_once_and_rechecks_only_unfinished_ones() -> None:
    from nasga.evaluation.objective import TrainingIndex

    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage)
    index = TrainingIndex()

    def measured(key: str) -> optuna.Trial:
        t = study.ask()
        t.set_user_attr("key", key)
        t.set_user_attr("trained", True)
        return t

    slow = measured("a")  # stays RUNNING across many updates
    older_read = study.get_trials(deepcopy=False)  # another thread's read, older than ours
    for _ in range(3):
        study.tell(measured("b"), 1.0)
        index.update(study.get_trials(deepcopy=False), study.study_name)
    assert [t.number for t in index.trainings("b")] == [1, 2, 3]
    assert index.trainings("a") == []
    pending_beyond = measured("c")  # unfinished, numbered past the older read's end
    index.update(study.get_trials(deepcopy=False), study.study_name)
    index.update(older_read, study.study_name)  # must not look past that read's end
    study.tell(pending_beyond, state=optuna.trial.TrialState.FAIL)
    study.tell(slow, 2.0)  # finishes after newer trials were indexed
    failed = measured("a")
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    index.update(study.get_trials(deepcopy=False), study.study_name)
    index.update(study.get_trials(deepcopy=False), study.study_name)  # nothing counted twice
    assert [t.number for t in index.trainings("a")] == [0]
    assert [t.number for t in index.trainings("b")] == [1, 2, 3]
    other = optuna.create_study(storage=storage)
    index.update(other.get_trials(deepcopy=False), other.study_name)  # another study: reset
    assert index.trainings("b") == []
