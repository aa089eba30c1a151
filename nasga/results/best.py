"""The one rule that names a study's best genome (run summary, export, train-best, report, compare).

**Rule.** Group the study's *measurements* (COMPLETE trials that trained a genome or reused a
training, :func:`nasga.evaluation.records.is_measurement`) by canonical key; a key's fitness is the mean
``fitness_raw`` over all of its measurements. A key is a *candidate* only if it has at least
``threshold = min(min_trainings, the most measurements any key has)`` measurements, with
``min_trainings`` :data:`MIN_TRAININGS` (3) by default. The best genome is the candidate with
the highest mean (ties: the key measured first). It is *confirmed* when it has at least
``min_trainings`` measurements.

**Why.** Paper 004 §3.2.4 re-evaluates a genome each time it reappears and averages, because
one training is a noisy draw: a genome trained once can sit at the top of the study by luck
alone (under paper 004's protocol one genome reported at 1.047 from a single training had a
mean of 0.963 over four). Taking the highest trial value, as nasga did before, picks exactly
those lucky single draws: among many genomes trained once, the maximum of the draws is biased
upwards, while a genome that survived as an elite has been re-measured and regressed to its
mean. Requiring a few trainings before a genome may be named best compares means with similar
error bars; three is the smallest count with a spread to look at and what
:func:`nasga.search.confirm.confirm` (``nasga run --confirm K``) trains the top K keys up to. A study that
trains every key once (``max_evaluations = 1``) has no repeats: the threshold falls to 1, the
rule is the plain best mean, and the result says ``confirmed=False`` so reports can say so.
Studies without measurement attrs (hand-built or foreign trials) fall back to the highest trial
value, unconfirmed (a multi-objective study has none: no best). A multi-objective study is
ranked by its fitness here too; commands that name one genome refuse it (:func:`one_best`).

**Several objectives.** The result is a Pareto front (:func:`pareto_front`): the keys whose
per-objective means over their measurements no other key's dominate, each marked confirmed
when it has ``min_trainings`` measurements; :func:`nasga.search.confirm.confirm` re-measures
front members as it re-measures the top keys of one objective.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.evaluation.records import is_measurement

MIN_TRAININGS = 3
"""Measurements a genome needs to be a *confirmed* best (and the default threshold)."""


@dataclass(frozen=True)
class BestGenome:
    """A study's best genome under :func:`best_genome`'s rule.

    Attributes:
        key: Canonical genome key.
        genome: Genome string.
        fitness: Mean fitness over the key's measurements (``fitness_raw``).
        n_measurements: How many measurements that mean is over.
        trial: The key's latest measurement (its attrs hold one training's measurements, its
            artifacts that training's files; its value is the mean up to it).
        confirmed: At least ``min_trainings`` measurements.
        min_trainings: The number of measurements asked for.
        trials: Numbers of the key's measurement trials, oldest first.
    """

    key: str
    genome: str
    fitness: float
    n_measurements: int
    trial: FrozenTrial
    confirmed: bool
    min_trainings: int
    trials: tuple[int, ...] = ()

    def describe(self) -> str:
        """``mean of 3 trainings`` or ``unconfirmed: 1 training``."""
        n = self.n_measurements
        what = f"{n} training{'s' if n != 1 else ''}"
        return f"mean of {what}" if self.confirmed else f"unconfirmed: {what}"


def threshold(counts: Iterable[int], min_trainings: int | None = None) -> int:
    """Measurements a key needs to be a candidate: ``min(min_trainings, max(counts))``."""
    wanted = MIN_TRAININGS if min_trainings is None else int(min_trainings)
    if wanted < 1:
        raise ValueError(f"min_trainings must be >= 1, got {min_trainings!r}")
    return max(1, min(wanted, max(counts, default=1)))


def pick_key(stats: Mapping[str, tuple[float, int]], *, min_trainings: int | None = None
             ) -> str | None:
    """The best key of ``{key: (mean fitness, measurements)}`` under the rule.

    ``stats`` must be in first-measured order (ties go to the earlier key). ``None`` if empty.
    """
    if not stats:
        return None
    need = threshold((n for _, n in stats.values()), min_trainings)
    best, best_mean = None, -math.inf
    for key, (mean, n) in stats.items():
        if n >= need and (best is None or mean > best_mean):
            best, best_mean = key, mean
    return best


def measured_value(t: FrozenTrial) -> float | None:
    """The trial's own measurement of its genome (``fitness_raw``), if it is one: a COMPLETE
    trial that trained or reused a training (:func:`~nasga.evaluation.records.is_measurement`)
    with a finite value. The one rule for what a key's mean fitness averages."""
    a = t.user_attrs
    if t.state != TrialState.COMPLETE or not is_measurement(a):
        return None
    raw = a.get(R.FITNESS_RAW)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    return None


def measurements_by_key(trials: Iterable[FrozenTrial]) -> dict[str, list[FrozenTrial]]:
    """COMPLETE measurement trials with a finite ``fitness_raw`` per key, first measured first."""
    groups: dict[str, list[FrozenTrial]] = {}
    for t in sorted(trials, key=lambda t: t.number):
        if measured_value(t) is not None:
            groups.setdefault(str(t.user_attrs[R.KEY]), []).append(t)
    return groups


def key_stats(groups: Mapping[str, list[FrozenTrial]]) -> dict[str, tuple[float, int]]:
    """``{key: (mean fitness_raw, measurements)}`` of :func:`measurements_by_key`'s groups."""
    return {k: (math.fsum(float(t.user_attrs[R.FITNESS_RAW]) for t in ts) / len(ts), len(ts))
            for k, ts in groups.items()}


def ranking(study: optuna.Study, *, search_only: bool = False) -> list[tuple[str, float, int]]:
    """Every measured key as ``(key, mean, measurements)``, best mean first (no threshold).

    ``search_only`` leaves out the confirmation trainings of :func:`nasga.search.confirm.confirm` (the
    user attr ``confirm_trainings``): the ranking the search itself produced.
    """
    trials = study.get_trials(deepcopy=False)
    if search_only:
        trials = [t for t in trials if "confirm_trainings" not in t.user_attrs]
    stats = key_stats(measurements_by_key(trials))
    order = {k: i for i, k in enumerate(stats)}
    return sorted(((k, m, n) for k, (m, n) in stats.items()),
                  key=lambda r: (-r[1], order[r[0]]))


def best_genome(study: optuna.Study, *, min_trainings: int | None = None) -> BestGenome | None:
    """The study's best genome under the module's rule; ``None`` without a COMPLETE trial.

    Args:
        study: A nasga study (any sampler).
        min_trainings: Measurements a key needs (default :data:`MIN_TRAININGS`); where no key
            has that many, the most any key has.
    """
    need = MIN_TRAININGS if min_trainings is None else int(min_trainings)
    trials = study.get_trials(deepcopy=False)
    groups = measurements_by_key(trials)
    stats = key_stats(groups)
    key = pick_key(stats, min_trainings=need)
    if key is None and len(study.directions) > 1:
        return None  # no measurement attrs and no one trial value to rank by
    if key is None:  # no measurement attrs: the highest trial value, unconfirmed
        complete = [t for t in trials if t.state == TrialState.COMPLETE
                    and t.value is not None and math.isfinite(t.value)]
        if not complete:
            return None
        t = max(complete, key=lambda t: (t.value, -t.number))
        return BestGenome(key=str(t.user_attrs.get(R.KEY, t.user_attrs.get(R.GENOME, t.number))),
                          genome=str(t.user_attrs.get(R.GENOME, t.params)),
                          fitness=float(t.value),  # type: ignore[arg-type]
                          n_measurements=int(t.user_attrs.get(R.N_EVALUATIONS, 1)), trial=t,
                          confirmed=False, min_trainings=need, trials=(t.number,))
    mean, n = stats[key]
    latest = groups[key][-1]
    return BestGenome(key=key, genome=str(latest.user_attrs.get(R.GENOME, key)), fitness=mean,
                      n_measurements=n, trial=latest, confirmed=n >= need, min_trainings=need,
                      trials=tuple(t.number for t in groups[key]))


@dataclass(frozen=True)
class FrontMember:
    """A genome key on a multi-objective study's Pareto front (:func:`pareto_front`).

    Attributes:
        key: Canonical genome key.
        genome: Genome string.
        values: Each objective's mean over the key's measurements, in the study's order.
        n_measurements: How many measurements those means are over.
        trial: The key's latest measurement (its attrs and artifacts are one training's).
        confirmed: At least ``min_trainings`` measurements (:data:`MIN_TRAININGS`).
        trials: Numbers of the key's measurement trials, oldest first.
        crowding: NSGA-II's crowding distance within the front (``inf``: a boundary point).
    """

    key: str
    genome: str
    values: tuple[float, ...]
    n_measurements: int
    trial: FrozenTrial
    confirmed: bool
    trials: tuple[int, ...]
    crowding: float

    def describe(self) -> str:
        """``mean of 3 trainings`` or ``unconfirmed: 1 training`` (as :class:`BestGenome`)."""
        n = self.n_measurements
        what = f"{n} training{'s' if n != 1 else ''}"
        return f"mean of {what}" if self.confirmed else f"unconfirmed: {what}"


def objective_names(study: optuna.Study) -> tuple[str, ...]:
    """The names of a study's objectives: its nasga config's ``[study] objectives``, else
    Optuna's metric names, else ``objective 0``, ``objective 1``..."""
    from nasga.storages.storage import CONFIG_ATTR

    cfg = study.user_attrs.get(CONFIG_ATTR)
    names = cfg.get("study", {}).get("objectives") if isinstance(cfg, dict) else None
    if names and len(names) == len(study.directions):
        return tuple(str(n) for n in names)
    if study.metric_names and len(study.metric_names) == len(study.directions):
        return tuple(study.metric_names)
    return tuple(f"objective {i}" for i in range(len(study.directions)))


def key_vectors(study: optuna.Study, trials: Iterable[FrozenTrial] | None = None
                ) -> dict[str, tuple[tuple[float, ...], list[FrozenTrial]]]:
    """``{key: (each objective's mean, its measurements)}``, first measured first.

    The means are :func:`nasga.evaluation.objectives.key_means` over the key's measurements
    (:func:`measurements_by_key`), the values nasga's objective returns. A study without
    measurement attrs (hand-built or foreign trials) gives each key's latest COMPLETE trial's
    values as one measurement. ``trials``: a subset of the study's (default: all).
    """
    from nasga.evaluation.objectives import key_means

    trials = study.get_trials(deepcopy=False) if trials is None else list(trials)
    names = objective_names(study)
    groups = measurements_by_key(trials)
    if groups:
        return {k: (key_means(names, [t.user_attrs for t in ts]), ts)
                for k, ts in groups.items()}
    latest: dict[str, FrozenTrial] = {}
    for t in sorted(trials, key=lambda t: t.number):
        if t.state == TrialState.COMPLETE and t.values is not None:
            latest[str(t.user_attrs.get(R.KEY, t.number))] = t
    return {k: (tuple(float(v) for v in t.values), [t]) for k, t in latest.items()}


def pareto_front(study: optuna.Study, *, trials: Iterable[FrozenTrial] | None = None,
                 min_trainings: int | None = None) -> list[FrontMember]:
    """A multi-objective study's Pareto front: the genome keys whose mean vectors
    (:func:`key_vectors`) no other key's dominates, best first by the first objective (ties:
    the key measured first).

    Every measured key is a candidate, with no :func:`threshold`: a front has no one best to
    protect, dropping keys measured once would drop whole regions of the trade-off, and
    costs (MACs, parameters) are exact. A member measured fewer than ``min_trainings`` times
    says so (``confirmed=False``), and ``nasga run --confirm K`` measures it again
    (:func:`nasga.search.confirm.confirm`); the front is then recomputed from the new means.
    Keys with a non-finite mean are left out. Dominance and crowding are DEAP's
    (:mod:`nasga.samplers.ga.pareto`) on direction-adjusted means.
    """
    from nasga.samplers.ga.breeding import adjusted_vectors
    from nasga.samplers.ga.pareto import nondominated, select

    need = MIN_TRAININGS if min_trainings is None else int(min_trainings)
    rows = [(k, v, ts) for k, (v, ts) in key_vectors(study, trials).items()
            if all(math.isfinite(x) for x in v)]
    vectors = adjusted_vectors([v for _, v, _ in rows], study.directions)
    on_front = nondominated(vectors)
    chosen, crowding = select([vectors[i] for i in on_front], len(on_front))
    distance = {on_front[c]: d for c, d in zip(chosen, crowding)}
    members = []
    for i in sorted(on_front, key=lambda i: (-vectors[i][0], i)):
        key, values, ts = rows[i]
        latest = ts[-1]
        members.append(FrontMember(
            key=key, genome=str(latest.user_attrs.get(R.GENOME, key)), values=values,
            n_measurements=len(ts), trial=latest, confirmed=len(ts) >= need,
            trials=tuple(t.number for t in ts), crowding=distance[i]))
    return members


def one_best(study: optuna.Study, what: str, hint: str = "") -> None:
    """Refuse, in one line, a command that names one best genome on a multi-objective study.

    Args:
        what: What the command does (``"training the best genome"``).
        hint: What to do instead, appended after ``; ``.

    Raises:
        NasgaInputError: ``study_name``: the study has several objectives (its result is a
            front: ``nasga export`` lists it).
    """
    if len(study.directions) > 1:
        from nasga.errors import NasgaInputError

        raise NasgaInputError(
            "study_name", f"study {study.study_name!r} has {len(study.directions)} objectives: "
            f"its result is a Pareto front of {len(pareto_front(study))} genomes, not one best "
            f"genome for {what}" + (f"; {hint}" if hint else ""))


__all__ = ["MIN_TRAININGS", "BestGenome", "FrontMember", "best_genome", "key_stats",
           "key_vectors", "measurements_by_key", "objective_names", "one_best", "pareto_front",
           "pick_key", "ranking", "threshold"]
