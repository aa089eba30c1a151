"""Pure data behind the report's tables and figures (no plotting library imported here).

Every function reads a study (or a genome) and returns plain numbers, so the figures in
:mod:`nasga.results.report.figures` are thin and the numbers are testable without drawing:

* :func:`generation_table` — paper 004 Table 1 (and Fig. 3) rows;
* :func:`lineage_pairs` — parent vs child fitness by operator (paper 004 Fig. 4);
* :func:`cost_points`, :func:`pareto_front`, :func:`iso_fitness_lines` — validation loss vs
  MACs of U-Net genomes with the fitness ``1 / (L_Gen + γ·GMACs)`` of paper 000 eq. 7;
* :func:`unet_layout` — encoder/decoder boxes and skips of a U-Net genome (paper 000 Fig. 5);
* :func:`stage_layouts` — a Genetic-CNN genome's stages as DAGs (paper 004 Fig. 1 and 5);
  both live in :mod:`nasga.results.report.layout` and are re-exported here.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.results.best import BestGenome, best_genome
from nasga.evaluation.records import is_measurement
from nasga.results.report.layout import (
    DagEdge, DagNode, LayerBox, SkipLink, StageLayout, UNetLayout, stage_layouts, unet_layout,
)
from nasga.spaces import Space
from nasga.results.stats import GenerationStats, generation_stats
from nasga.storages.storage import CONFIG_ATTR
from nasga.tasks.pix2pix_losses import fitness as eq7_fitness

# --- study-level helpers -----------------------------------------------------------------------


def study_config(study: optuna.Study) -> dict[str, Any] | None:
    """The resolved nasga config a study stored when it was created (``None`` if none)."""
    cfg = study.user_attrs.get(CONFIG_ATTR)
    return cfg if isinstance(cfg, dict) else None


def study_space(study: optuna.Study) -> Space | None:
    """The genome space of a nasga study (``None`` without a stored config)."""
    cfg = study_config(study)
    if cfg is None:
        return None
    from nasga.search.config import build_space

    return build_space(cfg)


def complete_trials(study: optuna.Study) -> list[FrozenTrial]:
    """COMPLETE trials with a finite value, in trial-number order."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value)]


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The trial of the best genome by nasga's rule (:func:`nasga.results.best.best_genome`: best mean
    over genomes with enough trainings): its latest measurement; ``None`` without one."""
    best = best_genome(study)
    return None if best is None else best.trial


def generation_table(study: optuna.Study, *, population_size: int | None = None
                     ) -> list[GenerationStats]:
    """Rows of paper 004 Table 1 (Gen, Max, Min, Avg, Med, Std-D, best structure).

    Reuses :func:`nasga.results.stats.generation_stats`. Trials of samplers without generations
    (the baselines) are grouped into blocks of ``population_size``, by default the study's
    configured population.
    """
    if population_size is None:
        population_size = population_blocks(study)
    return generation_stats(study, population_size=population_size)


def population_blocks(study: optuna.Study) -> int | None:
    """The block size that stands for a generation in a study of a sampler without
    generations (aging evolution, Optuna's built-ins): its configured population; ``None``
    for the GA (its trials carry ``ga_generation``) or a study without a nasga config."""
    cfg = study_config(study)
    if cfg is not None and cfg.get("study", {}).get("sampler", "ga") != "ga":
        return int(cfg.get("strategy", {}).get("population", 0)) or None
    return None


# --- paper 004 Fig. 4: parents vs children ------------------------------------------------------


@dataclass(frozen=True)
class LineagePair:
    """One child and its parent(s) (paper 004 Fig. 4).

    Attributes:
        child: The child's trial number.
        generation: The child's generation.
        operator: ``"crossover"``, ``"mutation"``, ``"copy"`` or ``"elite"`` (``ga_operator``).
        parents: Parent trial numbers (``ga_parents``), in the sampler's order.
        parent_values: The parents' fitness, in the same order.
        child_value: The child's fitness.
        genome: The child's genome string.
    """

    child: int
    generation: int
    operator: str
    parents: tuple[int, ...]
    parent_values: tuple[float, ...]
    child_value: float
    genome: str

    @property
    def parent_mean(self) -> float:
        """Mean fitness of the parents (the x axis of the Fig. 4 style scatter)."""
        return statistics.fmean(self.parent_values)


def _trial_fitness(trial: FrozenTrial, attr: str | None) -> float | None:
    value = trial.value if attr is None else trial.user_attrs.get(attr)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class RungRow:
    """One trial's training as far as it went (issue 27: each trial's rung).

    Attributes:
        trial: Trial number.
        generation: Its ``ga_generation`` (``None``: not bred by a nasga sampler).
        genome: Its genome string.
        state: ``COMPLETE``, ``PRUNED`` or ``FAIL``.
        epochs: The epochs it trained (:func:`~nasga.evaluation.records.epochs_trained`: a
            pruned training's rung, 0 for an answer from the cache).
        value: Its last reported value (``None``: it reported none).
    """

    trial: int
    generation: int | None
    genome: str
    state: str
    epochs: int
    value: float | None


def rung_rows(study: optuna.Study, *, epochs: int | None) -> list[RungRow]:
    """Every finished trial's :class:`RungRow`, by number (``epochs``: the task's, for a
    training that recorded none)."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not t.state.is_finished():
            continue
        steps = t.intermediate_values
        generation = R.lineage(t).get(R.GA_GENERATION)
        rows.append(RungRow(t.number, None if generation is None else int(generation),
                            str(t.user_attrs.get(R.GENOME, "")), t.state.name,
                            R.epochs_trained(t, epochs),
                            float(steps[max(steps)]) if steps else None))
    return rows


def lineage_pairs(study: optuna.Study, *, attr: str | None = None) -> list[LineagePair]:
    """Parent → child fitness pairs from the lineage user attrs, oldest child first.

    A COMPLETE trial with ``ga_parents`` becomes a pair when all of its parents are COMPLETE
    with a finite fitness. Trials without parents (the random initial population, enqueued
    or baseline trials) are left out.

    Args:
        study: A study run by :class:`~nasga.samplers.ga.sampler.GeneticSampler`.
        attr: A user attr to compare (e.g. ``"fitness_raw"``: one training's fitness) instead
            of the trial value (the mean over the genome's trainings, what the GA selects on).
    """
    by_number = {t.number: t for t in complete_trials(study)}
    pairs = []
    for t in by_number.values():
        lineage = R.lineage(t)
        parents = lineage.get(R.GA_PARENTS) or []
        child_value = _trial_fitness(t, attr)
        if not parents or child_value is None:
            continue
        values = [_trial_fitness(by_number[p], attr) if p in by_number else None
                  for p in parents]
        if any(v is None for v in values):
            continue
        pairs.append(LineagePair(
            child=t.number,
            generation=int(lineage.get(R.GA_GENERATION, -1)),
            operator=str(lineage.get(R.GA_OPERATOR, "unknown")),
            parents=tuple(int(p) for p in parents),
            parent_values=tuple(float(v) for v in values),  # type: ignore[arg-type]
            child_value=child_value,
            genome=str(t.user_attrs.get(R.GENOME, "")),
        ))
    return sorted(pairs, key=lambda p: p.child)


# --- paper 000: validation loss vs MACs, Pareto front, iso-fitness lines -------------------------


@dataclass(frozen=True)
class CostPoint:
    """One trained genome in the loss–cost plane.

    Attributes:
        key: Canonical genome key.
        genome: Genome string.
        l_gen: Validation ``L_Gen`` (paper 000 eq. 8), mean over the genome's trainings.
        macs: Generator MACs per image.
        fitness: Mean stored fitness (``fitness_raw``) over the trainings.
        trials: Numbers of the trials that trained it.
        generation: Generation of its first training (``None`` without ``ga_generation``).
    """

    key: str
    genome: str
    l_gen: float
    macs: float
    fitness: float
    trials: tuple[int, ...]
    generation: int | None

    @property
    def gmacs(self) -> float:
        """MACs in G, the unit of ``p(q)`` in the fitness (paper 000 eq. 7)."""
        return self.macs / 1e9


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def cost_points(study: optuna.Study) -> list[CostPoint]:
    """Every trained genome with ``l_gen`` and ``macs``, one point per key, by first training.

    Repeated trainings of a key are averaged (docs/design.md, "Evaluations, repeats and the
    cache": the fitness is the mean over a key's
    trainings); cached trials add nothing (they repeat a training's measurements).
    """
    groups: dict[str, list[FrozenTrial]] = {}
    for t in complete_trials(study):
        a = t.user_attrs
        if is_measurement(a) and _finite(a.get("l_gen")) and _finite(a.get("macs")):
            groups.setdefault(str(a.get(R.KEY, a.get(R.GENOME, t.number))), []).append(t)
    points = []
    for key, trials in groups.items():
        fit = [float(t.user_attrs.get(R.FITNESS_RAW, t.value)) for t in trials]
        gen = R.lineage(trials[0]).get(R.GA_GENERATION)
        points.append(CostPoint(
            key=key,
            genome=str(trials[0].user_attrs.get(R.GENOME, key)),
            l_gen=statistics.fmean(float(t.user_attrs["l_gen"]) for t in trials),
            macs=statistics.fmean(float(t.user_attrs["macs"]) for t in trials),
            fitness=statistics.fmean(fit),
            trials=tuple(t.number for t in trials),
            generation=None if gen is None else int(gen),
        ))
    return sorted(points, key=lambda p: p.trials[0])


def pareto_front(points: list[CostPoint]) -> list[CostPoint]:
    """Points no other point dominates in (min ``l_gen``, min ``macs``), by increasing MACs.

    ``a`` dominates ``b`` when it is no worse in both and better in one; equal points both stay.
    """
    front = [p for p in points
             if not any(q.l_gen <= p.l_gen and q.macs <= p.macs
                        and (q.l_gen < p.l_gen or q.macs < p.macs) for q in points)]
    return sorted(front, key=lambda p: (p.macs, p.l_gen, p.trials[0]))


@dataclass(frozen=True)
class IsoFitnessLine:
    """The set ``1 / (L_Gen + γ·GMACs) = fitness``: the line ``L_Gen = 1/fitness − γ·GMACs``.

    Attributes:
        fitness: The fitness level.
        gamma: γ, cost weight per GMAC (paper 000 eq. 7).
        gmacs: Segment ends on the GMACs axis (from 0 to the plot's extent or ``L_Gen = 0``).
        l_gen: ``L_Gen`` at those ends.
    """

    fitness: float
    gamma: float
    gmacs: tuple[float, float]
    l_gen: tuple[float, float]

    @property
    def intercept(self) -> float:
        """``L_Gen`` at zero cost: ``1 / fitness``."""
        return 1.0 / self.fitness


def point_fitness(point: CostPoint, gamma: float) -> float:
    """Paper 000 eq. 7 for a point: ``1 / (l_gen + γ·GMACs)``
    (:func:`nasga.tasks.pix2pix_losses.fitness`, the one definition)."""
    return eq7_fitness(point.l_gen, point.macs, gamma)


def iso_fitness_lines(points: list[CostPoint], gamma: float, *,
                      levels: list[float] | None = None, max_gmacs: float | None = None
                      ) -> list[IsoFitnessLine]:
    """Lines of constant fitness ``1 / (L_Gen + γ·GMACs)`` across the loss–MACs plane.

    Args:
        points: The plotted genomes (they set the default levels and extent).
        gamma: γ of the study.
        levels: Fitness levels; default: the best, median and worst fitness of ``points``
            under eq. 7 (distinct values, highest first).
        max_gmacs: Right end of the lines; default 1.1 × the largest GMACs of ``points``.
    """
    if levels is None:
        values = sorted({point_fitness(p, gamma) for p in points}, reverse=True)
        if not values:
            return []
        levels = sorted({values[0], statistics.median(values), values[-1]}, reverse=True)
    x_end = max_gmacs if max_gmacs is not None else 1.1 * max((p.gmacs for p in points),
                                                              default=1.0)
    lines = []
    for f in levels:
        if not (f > 0 and math.isfinite(f)):
            continue
        c = 1.0 / f
        x1 = min(x_end, c / gamma) if gamma > 0 else x_end
        lines.append(IsoFitnessLine(fitness=f, gamma=gamma, gmacs=(0.0, x1),
                                    l_gen=(c, c - gamma * x1)))
    return lines


__all__ = [
    "BestGenome", "CostPoint", "DagEdge", "DagNode", "IsoFitnessLine", "LayerBox", "LineagePair", "SkipLink",
    "StageLayout", "UNetLayout", "best_genome", "best_trial", "complete_trials", "cost_points",
    "generation_table", "iso_fitness_lines", "lineage_pairs", "pareto_front", "point_fitness",
    "population_blocks",
    "stage_layouts", "study_config", "study_space", "unet_layout",
]
