"""DEHB as a comparison baseline: the ``dehb`` package driven through its ask/tell interface.

Awad, Mallik and Hutter 2021, "DEHB: Evolutionary Hyperband for Scalable, Robust and Efficient
Hyperparameter Optimization" (IJCAI), §3: Hyperband's brackets of successive halving whose
configurations come from one differential-evolution subpopulation per fidelity. nasga runs
the authors' own implementation (:data:`INSTALL`: the package pins ``numpy < 2`` and runs
with numpy 2) as a baseline of ``nasga compare``, not as a study's sampler (:mod:`nasga.samplers.baselines`); a comparison run
stopped and continued (a training task's durable study) continues with a fresh DEHB beside
the trials already run.

DEHB decides each trial's *fidelity*, the epochs it trains. :class:`DEHBSampler` asks DEHB for
a job, maps its vector in ``[0, 1]^d`` to a genome (gene ``i`` with ``k`` values takes value
``⌊x_i·k⌋``, the binning ConfigSpace applies to ordinal parameters) and keeps the job by trial
number; its ``pruner`` stops the training after the job's epochs. The trial ends PRUNED at
that epoch (a full-fidelity job ends COMPLETE), so it costs exactly the epochs DEHB scheduled
under ``--budget-unit epochs``, and DEHB is told the trial's value at its last epoch as a loss
(:func:`~nasga.samplers.baselines._common.loss`). nasga's rules hold as for every sampler:
only a key's first training is raced, so a key with a finished training trains to the end
again (a re-measurement) or is answered by the cache, whatever fidelity DEHB asked for; DEHB
is told the value it got.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from nasga.errors import NasgaInputError, check_int
from nasga.samplers.baselines._common import (
    BaselineSampler, check_epochs, import_optional, last_value, loss,
)
from nasga.spaces import Space

INSTALL = "pip install --no-deps dehb && pip install ConfigSpace loguru distributed pandas"
"""How to install the optional ``dehb`` package beside numpy 2 (its metadata pins numpy < 2)."""


def dehb_class() -> Any:
    """``dehb.DEHB``, or a one-line :class:`~nasga.errors.NasgaInputError` where the optional
    package is missing."""
    return import_optional("dehb", name="dehb", install=INSTALL).DEHB


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


class DEHBSampler(BaselineSampler):
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
        epochs = check_epochs("dehb", epochs)
        check_int("epochs", epochs, minimum=2)
        check_int("min_epochs", min_epochs, minimum=1, maximum=epochs - 1)
        check_int("eta", eta, minimum=2)
        super().__init__(space=space, seed=seed)
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

    def __del__(self) -> None:
        shutil.rmtree(getattr(self, "_scratch", ""), ignore_errors=True)

    def fidelity(self, number: int) -> int | None:
        """The epochs DEHB scheduled for trial ``number`` (``None``: none)."""
        with self._lock:
            return self._fidelities.get(number)

    def should_stop(self, study: Study, trial: FrozenTrial) -> bool:
        epochs = self.fidelity(trial.number)  # SamplerPruner asks only after a report
        return epochs is not None and trial.last_step >= epochs

    def _propose(self, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
                 ) -> dict[str, Any]:
        job = self._dehb.ask()
        self._jobs[trial.number] = job
        self._fidelities[trial.number] = int(round(float(job["fidelity"])))
        vector = [float(x) for x in job["config"]]
        return {name: choice(dist, x) for (name, dist), x in zip(search_space.items(), vector)}

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        with self._lock:
            job = self._jobs.pop(trial.number, None)
            if job is not None:
                fitness = loss(study, last_value(trial, state, values))
                self._dehb.tell(job, {"fitness": fitness, "cost": float(job["fidelity"])})


__all__ = ["DEHBSampler", "INSTALL", "choice", "dehb_class"]
