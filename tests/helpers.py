"""Shared test helpers."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import optuna
import pytest
from optuna.trial import TrialState

from nasga.samplers.ga.claims import work_of
from nasga.evaluation.objective import Objective
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.samplers.ga.strategies import get_strategy
from nasga.tasks.synthetic import SyntheticTask

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "run_ga.py"

COMPARE = ["compare", "--samplers", "random", "--budget", "2", "--seeds", "1"]
"""The smallest ``nasga compare`` (the tabular task): add ``--out`` and the flag under test."""

TINY = {
    "genetic-cnn": """
[study]
name = "tiny-gcnn"
task = "genetic-cnn"
seed = 0
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 2
[task]
epochs = 1
max_train = 200
""",
    "unet": """
[study]
name = "tiny-unet"
task = "unet"
seed = 0
[space]
depth = 4
channels = [8, 16, 32]
[strategy]
population = 4
generations = 2
[task]
image_size = 32
epochs = 1
max_train = 16
max_val = 8
""",
}


def run_worker_processes(code: str, args: list[str], *, workers: int, timeout: float) -> None:
    """Run ``workers`` processes of ``python -c CODE ARGS...`` at once from the repository
    root, one torch thread each, and assert each exits 0 (its stderr tail otherwise)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    for p in procs:
        _, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err[-3000:]


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module, so a test calls its ``main(argv)`` in-process."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # a script's dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def exit_code(main: Callable[[list[str]], int], argv: list[str]) -> int:
    """What ``main(argv)`` exits with: its return value, or the code of the ``SystemExit`` that
    ``parser.error`` raises."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code  # type: ignore[return-value]


def one_line_error(main: Callable[[list[str]], int], argv: list[str],
                   capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Run a script's ``main(argv)``, which must exit with code 2 and exactly one stderr line
    (a bad flag); returns that line and what went to stdout."""
    assert exit_code(main, argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1, err
    return err[0], captured.out


# Genomes of paper 004's Table 1 (the best individuals' structures), as string forms.
TABLE1 = [
    "0-01|0-01-111|0-11-010-0111",
    "1-01|0-01-111|0-11-010-0111",
    "1-01|0-01-111|0-11-010-0011",
    "1-01|0-01-111|0-11-010-1011",
    "1-01|0-01-110|0-11-111-0001",
    "1-01|1-01-110|0-11-111-0001",
    "1-01|0-01-100|0-11-111-0001",
    "1-01|0-01-100|0-11-101-0001",
]

# Real datasets live beside the checkout (never copied into the repo); tests skip without them.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def small_gcnn() -> GeneticCNNSpace:
    return GeneticCNNSpace((3, 4))


def small_unet() -> UNetSpace:
    return UNetSpace(depth=4, channels=(8, 16, 32))


def ga_study(space, *, preset: str, seed: int = 0, population: int = 10, storage=None,
             study_name: str | None = None, max_evaluations: int | None = 1, task=None,
             **overrides) -> tuple[optuna.Study, Objective]:
    strategy = get_strategy(preset, population=population, **overrides)
    sampler = GeneticSampler(space=space, strategy=strategy, seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage,
                                study_name=study_name, load_if_exists=True)
    objective = Objective(space=space, task=task or SyntheticTask(space),
                          max_evaluations=max_evaluations, seed=seed)
    return study, objective


class FusableTask(SyntheticTask):
    """:class:`SyntheticTask` with ``evaluate_many`` (a fused batch's contract: each member's
    value is its own training's), recording each batch's seeds.

    Args:
        fail_nth: Trainings (0-based, in the order they are asked for, fused or not) that fail
            as a non-finite loss would.
        on_batch: Called with the batch's index before it is evaluated (e.g. to interrupt).
    """

    def __init__(self, space, *, fail_nth=(), on_batch=None, **kwargs) -> None:
        super().__init__(space, **kwargs)
        self.batches: list[list[int]] = []
        self.fail_nth = set(fail_nth)
        self.on_batch = on_batch
        self.trainings = 0

    def _one(self, genome, seed: int, workdir):
        from nasga.tasks.base import EvaluationError

        n, self.trainings = self.trainings, self.trainings + 1
        if n in self.fail_nth:
            return EvaluationError("loss became nan at epoch 1, step 1")
        return super().evaluate(genome, seed=seed, workdir=workdir)

    def evaluate(self, genome, *, seed: int, workdir, report=None):
        out = self._one(genome, seed, workdir)
        if isinstance(out, Exception):
            raise out
        return out

    def evaluate_many(self, genomes, *, seeds, workdir):
        if self.on_batch is not None:
            self.on_batch(len(self.batches))
        self.batches.append(list(seeds))
        return [self._one(g, s, workdir) for g, s in zip(genomes, seeds)]


def _work_items(study: optuna.Study) -> list[tuple[int, int, int]]:
    return [work_of(t) for t in study.get_trials(deepcopy=False)
            if work_of(t) is not None]


def _claims_dump(study: optuna.Study) -> str:
    """Every trial's number, state, ticket, work item and start: what a failed claim test needs
    to tell whose ledgers diverged."""
    from nasga.samplers.ga.claims import ticket_of

    return "\n".join(
        f"{t.number} {t.state.name} ticket={ticket_of(t)} "
        f"work={work_of(t)} start={t.datetime_start} "
        f"complete={t.datetime_complete} params={bool(t.params)}"
        for t in study.get_trials(deepcopy=False))


def assert_each_child_once(study: optuna.Study, population: int, generations: int) -> None:
    """Every (generation, slot) up to ``generations`` has exactly one COMPLETE trial and no
    work item was handed out twice."""
    items = _work_items(study)
    assert len(items) == len(set(items)), (Counter(items).most_common(3), _claims_dump(study))
    complete = Counter()
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if work_of(t) is not None:
            g, _, slot = work_of(t)
            complete[(g, slot)] += 1
    for g in range(generations + 1):
        for s in range(population):
            assert complete[(g, s)] == 1, (g, s, complete[(g, s)])
