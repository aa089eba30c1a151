"""Same seed, same proposals: the sampler's proposals equal those recorded before the
per-trial cost was made flat in the study size (issue #26).

``proposals_golden.json`` was written by ``_record`` on the code before that change
(``python -m tests.samplers.ga.test_proposals_golden`` rewrites it: only do so for a change
that is meant to alter proposals, and say so).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from nasga.evaluation.objective import Objective
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.samplers.ga.strategies import get_strategy
from nasga.spaces import GeneticCNNSpace
from nasga.tasks.synthetic import SyntheticTask
from nasga.evaluation.records import lineage
from tests.helpers import small_gcnn, small_unet

GOLDEN = Path(__file__).with_name("proposals_golden.json")
SEEDS = (0, 1, 2)


class _Flaky(SyntheticTask):
    """Fails every 7th training (deterministic), so retry rounds are exercised."""

    def evaluate(self, genome, *, seed, workdir):
        if self.calls % 7 == 6:
            self.calls += 1
            raise RuntimeError("flaky")
        return super().evaluate(genome, seed=seed, workdir=workdir)


def _optimize(seed: int, *, preset: str, space: Any, mode: str = "generational",
              rebreed_after: int | None = None, max_evaluations: int | None = None,
              n_trials: int = 48, noise: float = 0.0) -> optuna.Study:
    sampler = GeneticSampler(space=space, strategy=get_strategy(preset, population=6),
                             seed=seed, mode=mode, rebreed_after=rebreed_after)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    objective = Objective(space=space, task=_Flaky(space, noise=noise),
                          max_evaluations=max_evaluations, seed=seed)
    study.optimize(objective, n_trials=n_trials, catch=(RuntimeError,))
    return study


def _ask_tell(seed: int, *, mode: str, batch: int) -> optuna.Study:
    """Ask ``batch`` trials at a time, tell them in reverse order; some fail, some are pruned
    (generational: one at a time, since a retry round waits for the round before it)."""
    space = GeneticCNNSpace((3, 4, 5))
    sampler = GeneticSampler(space=space, strategy=get_strategy("genetic-cnn", population=5),
                             seed=seed, mode=mode)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for _ in range(40 // batch):
        trials = [study.ask(space.distributions) for _ in range(batch)]
        for t in reversed(trials):
            value = float(sum(t.params.values()))
            if t.number % 9 == 4:
                study.tell(t, state=TrialState.FAIL)
            elif t.number % 11 == 7:
                study.tell(t, state=TrialState.PRUNED)
            else:
                study.tell(t, value)
    return study


CASES = {
    "gcnn-generational": lambda s: _optimize(s, preset="genetic-cnn", space=small_gcnn()),
    "unet-generational": lambda s: _optimize(s, preset="unet", space=small_unet(), n_trials=36),
    "gcnn-steady": lambda s: _optimize(s, preset="genetic-cnn", space=small_gcnn(),
                                       mode="steady-state"),
    "gcnn-rebreed": lambda s: _optimize(s, preset="genetic-cnn", space=small_gcnn(),
                                        rebreed_after=1, max_evaluations=1),
    "gcnn-steady-rebreed-noisy": lambda s: _optimize(
        s, preset="genetic-cnn", space=small_gcnn(), mode="steady-state", rebreed_after=2,
        max_evaluations=2, noise=0.05),
    "ask-tell-generational": lambda s: _ask_tell(s, mode="generational", batch=1),
    "ask-tell-steady": lambda s: _ask_tell(s, mode="steady-state", batch=5),
}


def _record(case: str, seed: int) -> list[list[Any]]:
    """Each trial's params (in name order), state, operator and parents."""
    study = CASES[case](seed)
    return [[[t.params[k] for k in sorted(t.params)], t.state.name,
             lineage(t).get("ga_operator"), lineage(t).get("ga_parents")]
            for t in study.get_trials(deepcopy=False)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_proposals_equal_the_recorded_ones(case: str) -> None:
    golden = json.loads(GOLDEN.read_text())
    for seed in SEEDS:
        assert _record(case, seed) == golden[case][str(seed)], (case, seed)


if __name__ == "__main__":  # rewrite the golden file (see the module docstring)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = {case: {str(s): _record(case, s) for s in SEEDS} for case in sorted(CASES)}
    GOLDEN.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {GOLDEN}", file=sys.stderr)
