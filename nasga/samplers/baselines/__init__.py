"""Multi-fidelity baselines from other packages, driven by their authors' code (issue 27).

A multi-fidelity optimizer from another package decides itself how long each configuration
trains: DEHB schedules a fidelity per job (:mod:`nasga.samplers.baselines.dehb`), Syne Tune's
ASHA stops a trial at a rung (:mod:`nasga.samplers.baselines.synetune`). Each is an Optuna
sampler whose ``pruner`` attribute, the run's pruner, asks it whether to stop a training
(:class:`~nasga.samplers.baselines._common.SamplerPruner`). They are comparison baselines
(:data:`nasga.samplers.registry.BASELINES`: ``nasga compare``, ``scripts/bench_compare.py``),
never a study's sampler: their state lives in the sampler object. Their packages are optional;
where one is missing, naming its baseline is one line saying what to install.
"""

from nasga.samplers.baselines._common import BaselineSampler, check_epochs

__all__ = ["BaselineSampler", "check_epochs"]
