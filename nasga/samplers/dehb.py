"""DEHB as a comparison baseline: the ``dehb`` package driven through its ask/tell interface.

Awad, Mallik and Hutter 2021, "DEHB: Evolutionary Hyperband for Scalable, Robust and Efficient
Hyperparameter Optimization" (IJCAI), §3: Hyperband's brackets of successive halving whose
configurations come from one differential-evolution subpopulation per fidelity. nasga runs
the authors' own implementation (``pip install dehb``; an optional package, not a dependency of
nasga) as a baseline of ``nasga compare`` and ``scripts/bench_compare.py``, not as a study
sampler: its state lives in the sampler object, so a study shared between workers or resumed
by another process would not see it (docs/design.md, "Pruning"); a comparison run stopped and
continued (a training task's durable study) continues with a fresh DEHB beside the trials
already run.

DEHB decides each trial's *fidelity*, the epochs it trains. :class:`DEHBSampler` asks DEHB for
a job, maps its vector in ``[0, 1]^d`` to a genome (gene ``i`` with ``k`` values takes value
``⌊x_i·k⌋``, the binning ConfigSpace applies to ordinal parameters) and keeps the job by trial
number; :class:`FidelityPruner`, the study's pruner, stops the training after the job's
epochs. The trial ends PRUNED at that epoch (a full-fidelity job ends COMPLETE), so it costs
exactly the epochs DEHB scheduled under ``--budget-unit epochs``, and DEHB is told the
trial's value at its last epoch (minimised: the study's direction applied), with failures as
``+inf``. nasga's rules hold as for every sampler: only a key's first training is raced, so a
key with a finished training trains to the end again (a re-measurement) or is answered by the
cache, whatever fidelity DEHB asked for; DEHB is told the value it got.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.errors import NasgaInputError, check_int
from nasga.spaces import Space

DEHB_MISSING = ("needs the optional DEHB package (pip install dehb; it pins numpy < 2, "
                "pip install --no-deps dehb ConfigSpace loguru distributed pandas works "
                "with numpy 2)")
"""Why ``dehb`` is refused where the package is not installed."""


def dehb_class() -> Any:
    """``dehb.DEHB``, or a one-line :class:`~nasga.errors.NasgaInputError` where the optional
    package is missing."""
    try:
        from dehb import DEHB
    except ImportError as exc:
        raise NasgaInputError("samplers", f"dehb {DEHB_MISSING}; {exc}") from None
    return DEHB


def choice(distribution: BaseDistribution, x: float) -> Any:
    """The value of an int or categorical ``distribution`` at ``x`` in ``[0, 1]``: its
    ``⌊x·k⌋``-th of ``k`` values (``x = 1``: the last)."""
    if isinstance(distribution, CategoricalDistribution):
        values: Sequence[Any] = distribution.choices
    elif isinstance(distribution, IntDistribution) and not distribution.log:
        values = range(distribution.low, distribution.high + 1, distribution.step)
    else:
        raise NasgaInputError("samplers", f"dehb maps int and categorical parameters only, got "
                              f"{distribution!r}")
    return values[min(int(x * len(values)), len(values) - 1)]


class FidelityPruner(BasePruner):
    """Stops a trial once it has trained the epochs DEHB scheduled for it (its job's
    fidelity); trials without a job are never stopped."""

    def __init__(self, sampler: DEHBSampler) -> None:
        self._sampler = sampler

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        epochs = self._sampler.fidelity(trial.number)
        step = trial.last_step
        return epochs is not None and step is not None and step >= epochs


class DEHBSampler(BaseSampler):
    """DEHB's jobs as Optuna trials, each trained for the epochs DEHB chose.

    Args:
        space: The genome space (its distributions are DEHB's ``d`` dimensions).
        epochs: Epochs of a full training, DEHB's ``max_fidelity``.
        seed: DEHB's seed.
        min_epochs: DEHB's ``min_fidelity`` (default 1: rungs 1, η, η², ... as ``aging-asha``).
        eta: DEHB's η, Hyperband's reduction factor (default 3).
        optimizer: An object with DEHB's ``ask()`` and ``tell(job, result)`` to drive instead
            of a new ``dehb.DEHB`` (tests; ``None``: DEHB with the settings above).

    Raises:
        NasgaInputError: The package is missing, or a bad fidelity.
    """

    def __init__(self, *, space: Space, epochs: int | None, seed: int, min_epochs: int = 1,
                 eta: int = 3, optimizer: Any = None) -> None:
        if epochs is None:
            raise NasgaInputError("samplers", "dehb schedules epochs per trial, which the task "
                                  "does not report; got 'dehb'")
        check_int("epochs", epochs, minimum=2)
        check_int("min_epochs", min_epochs, minimum=1, maximum=epochs - 1)
        check_int("eta", eta, minimum=2)
        self._space = space
        self._epochs = epochs
        self._lock = threading.Lock()
        self._jobs: dict[int, dict[str, Any]] = {}
        self._fidelities: dict[int, int] = {}
        if optimizer is None:
            dehb = dehb_class()
            self._scratch = tempfile.mkdtemp(prefix="nasga-dehb-")  # DEHB's log file
            optimizer = dehb(cs=None, f=None, dimensions=len(space.distributions),
                             min_fidelity=min_epochs, max_fidelity=epochs, eta=eta, n_workers=1,
                             seed=int(seed), save_freq=None, output_path=self._scratch,
                             log_level="ERROR")
        self._dehb = optimizer
        self._independent = RandomSampler(seed=seed)
        self.pruner = FidelityPruner(self)
        """The study's pruner: it stops each trial at its job's epochs."""

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_scratch", ""), ignore_errors=True)

    def fidelity(self, number: int) -> int | None:
        """The epochs DEHB scheduled for trial ``number`` (``None``: none)."""
        with self._lock:
            return self._fidelities.get(number)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return dict(self._space.distributions)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space:
            return {}
        with self._lock:
            job = self._dehb.ask()
            self._jobs[trial.number] = job
            self._fidelities[trial.number] = int(round(float(job["fidelity"])))
        vector = [float(x) for x in job["config"]]
        return {name: choice(dist, x) for (name, dist), x in zip(search_space.items(), vector)}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        with self._lock:
            job = self._jobs.pop(trial.number, None)
            if job is None:
                return
            value = _last_value(trial, state, values)
            if value is not None and study.direction == StudyDirection.MAXIMIZE:
                value = -value
            fitness = value if value is not None and math.isfinite(value) else math.inf
            self._dehb.tell(job, {"fitness": fitness, "cost": float(job["fidelity"])})


def _last_value(trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
                ) -> float | None:
    """A finished trial's value (a stopped one's: its last intermediate value)."""
    if state == TrialState.COMPLETE and values:
        return float(values[0])
    if state == TrialState.PRUNED and trial.intermediate_values:
        return float(trial.intermediate_values[max(trial.intermediate_values)])
    return None


__all__ = ["DEHB_MISSING", "DEHBSampler", "FidelityPruner", "choice", "dehb_class"]
