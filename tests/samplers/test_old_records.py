"""Studies written before 0.2 resume with the same proposals (issue 26: old studies resume).

Before 0.2 the samplers wrote a child's lineage as three user attrs, ``GeneticSampler`` its work
item as ``nasga:work`` and ``AgingEvolutionSampler`` its marks as ``nasga:aging:member`` and
``nasga:aging:child``; now each child is one system attr (``records.CHILD_RECORD``). The journal
files in ``data/`` were written by the code before that change (``python -m
tests.samplers.test_old_records`` on it rewrites them), with the proposals that code made when
it resumed each study: the current samplers must make the same ones, and read the lineage of
old and new trials alike.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from nasga.evaluation.records import CHILD_RECORD, lineage
from nasga.results.stats import generation_stats
from nasga.samplers.ga.strategies import get_strategy
from nasga.samplers.registry import make_sampler
from tests.helpers import small_gcnn

DATA = Path(__file__).with_name("data")
SAMPLERS = ("ga", "ga-steady", "aging", "aging-intensify")
OLD, NEW = 24, 16  # trials written by the old code; trials resumed
SPACE = small_gcnn()


def _objective(trial: optuna.Trial) -> float:
    genes = [trial.suggest_int(n, d.low, d.high) for n, d in SPACE.distributions.items()]
    return sum(genes) + random.Random(trial.number).gauss(0.0, 1.0)


def _study(path: Path, name: str) -> optuna.Study:
    strategy = get_strategy("genetic-cnn", population=6)
    return optuna.create_study(
        study_name=name, storage=JournalStorage(JournalFileBackend(str(path))),
        direction="maximize", load_if_exists=True,
        sampler=make_sampler(name, space=SPACE, strategy=strategy, seed=3))


def _proposals(study: optuna.Study) -> list[dict[str, int]]:
    return [t.params for t in study.trials[OLD:]]


@pytest.mark.parametrize("name", SAMPLERS)
def test_an_old_study_resumes_with_the_same_proposals(name: str, tmp_path: Path) -> None:
    expected = json.loads((DATA / "old_records.json").read_text())[name]
    path = tmp_path / "old.log"
    shutil.copy(DATA / f"old_{name}.log", path)
    study = _study(path, name)
    assert len(study.trials) == OLD
    assert not any(CHILD_RECORD in t.system_attrs for t in study.trials)  # all old records
    study.optimize(_objective, n_trials=NEW)
    assert _proposals(study) == expected
    assert all(CHILD_RECORD in t.system_attrs for t in study.trials[OLD:])
    generations = [lineage(t).get("ga_generation") for t in study.trials]
    assert None not in generations and generations == sorted(generations)
    rows = generation_stats(study)
    assert sum(r.n for r in rows) == OLD + NEW


def _write() -> None:  # pragma: no cover - run on the code before 0.2
    DATA.mkdir(exist_ok=True)
    expected = {}
    for name in SAMPLERS:
        path = DATA / f"old_{name}.log"
        path.unlink(missing_ok=True)
        _study(path, name).optimize(_objective, n_trials=OLD)
        copy = path.with_suffix(".tmp")
        shutil.copy(path, copy)
        study = _study(copy, name)
        study.optimize(_objective, n_trials=NEW)
        expected[name] = _proposals(study)
        copy.unlink()
        Path(str(copy) + ".lock").unlink(missing_ok=True)
    (DATA / "old_records.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":  # pragma: no cover
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _write()
    sys.exit(0)
