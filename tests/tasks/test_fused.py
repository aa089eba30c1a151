"""ClassificationTask.evaluate_many (issue 28): a genome trained fused gives, for the same seed,
the measurements it gets trained alone; a failing member fails only its own result."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks import Evaluation, EvaluationError
from nasga.tasks.classification import ClassificationTask

SPACE = GeneticCNNSpace((3, 4, 5))
TEXTS = ["1-01|0-01-111|0-11-010-0111",  # paper 004 Table 1
         "0-00|0-00-000|0-00-000-0000",  # all-zero stages
         "1-00|0-00-000|1-00-000-0000"]  # isolated nodes
GENOMES = [SPACE.parse(t) for t in TEXTS] + [SPACE.random_genome(random.Random(3))]
TIMES = ("train_seconds", "images_per_second")  # the fused training's share, not the same


def _same_as_alone(task: ClassificationTask, genomes: list, seeds: list[int],
                   results: list[Evaluation | EvaluationError], tmp_path: Path) -> None:
    for genome, seed, fused in zip(genomes, seeds, results):
        assert isinstance(fused, Evaluation), fused
        alone = task.evaluate(genome, seed=seed, workdir=tmp_path)
        assert fused.measurements.keys() == alone.measurements.keys()
        for key, value in alone.measurements.items():
            if key not in TIMES:
                assert fused.measurements[key] == value, (genome.to_string(), key)
        trained, reference = fused.model.state_dict(), alone.model.state_dict()
        assert all(torch.equal(trained[n], reference[n]) for n in reference)


def test_fused_equals_alone_on_digits(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, epochs=2, max_train=200, device="cpu")
    seeds = [11, 12, 13, 14]
    results = task.evaluate_many(GENOMES, seeds=seeds, workdir=tmp_path)
    assert len(results) == 4
    assert results[0].measurements["train_loss"] != results[3].measurements["train_loss"]
    _same_as_alone(task, GENOMES, seeds, results, tmp_path)


def _cifar(root: Path, n: int = 60) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8),
             b"labels": [i % 10 for i in range(n)]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch))
    return folder


def test_fused_equals_alone_on_cifar_shaped_images(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, dataset="cifar10", data_root=_cifar(tmp_path), epochs=1,
                              batch_size=16, device="cpu")
    genomes, seeds = GENOMES[:3], [0, 1, 2]
    results = task.evaluate_many(genomes, seeds=seeds, workdir=tmp_path)
    _same_as_alone(task, genomes, seeds, results, tmp_path)


def test_a_failing_member_fails_only_its_own_result(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    task = ClassificationTask(SPACE, epochs=1, max_train=100, device="cpu")
    build = task.build

    def poisoned(genome, data):  # noqa: ANN001, ANN202 - the task's own signature
        model = build(genome, data)
        if genome == GENOMES[1]:
            with torch.no_grad():
                model.classifier[4].bias.fill_(float("nan"))  # its loss is nan from step 0
        return model

    monkeypatch.setattr(task, "build", poisoned)
    results = task.evaluate_many(GENOMES[:3], seeds=[1, 2, 3], workdir=tmp_path)
    assert isinstance(results[1], EvaluationError)
    assert str(results[1]) == "loss became nan at epoch 0, step 0"
    monkeypatch.setattr(task, "build", build)
    _same_as_alone(task, [GENOMES[0], GENOMES[2]], [1, 3], [results[0], results[2]], tmp_path)


def test_bad_calls_are_input_errors(tmp_path: Path) -> None:
    task = ClassificationTask(SPACE, epochs=1, max_train=100, device="cpu")
    assert task.evaluate_many([], seeds=[], workdir=tmp_path) == []
    with pytest.raises(NasgaInputError) as info:
        task.evaluate_many(GENOMES[:2], seeds=[0], workdir=tmp_path)
    assert info.value.field == "seeds"
    other = GeneticCNNSpace((3, 4)).parse("1-01|0-01-111")
    with pytest.raises(NasgaInputError):
        task.evaluate_many([GENOMES[0], other], seeds=[0, 1], workdir=tmp_path)
