"""The ``Space`` protocol and the registry (nasga/spaces/base.py, nasga/spaces/__init__.py).

A third, toy space defined here plugs into every registry-driven path (config, tasks, describe,
the samplers) without editing nasga: adding a space is one class plus one registry entry.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import optuna
import optuna.distributions as od
import pytest

from nasga.spaces import (
    SPACES,
    GeneticCNNSpace,
    Genome,
    NasgaInputError,
    Space,
    UNetSpace,
    space_class,
    space_from_config,
)


@dataclass(frozen=True)
class ToyGenome:
    bits: tuple[int, ...]

    def to_string(self) -> str:
        return "".join(map(str, self.bits))

    @property
    def key(self) -> str:
        return "toy/" + self.to_string()


class ToySpace:
    """``n`` free bits; a one-layer model. Nothing in nasga knows it."""

    name: ClassVar[str] = "toy"
    task_name: ClassVar[str] = "synthetic"
    strategy_name: ClassVar[str] = "genetic-cnn"
    config_keys: ClassVar[Mapping[str, type]] = {"n": int}
    default_image_size: ClassVar[int] = 4
    percent_fitness: ClassVar[bool] = True

    def __init__(self, n: int = 3) -> None:
        self.n = n

    @property
    def distributions(self) -> dict[str, od.BaseDistribution]:
        return {f"b{i}": od.IntDistribution(0, 1) for i in range(self.n)}

    @property
    def size(self) -> int:
        return 2**self.n

    def genome(self, vector: Sequence[int]) -> ToyGenome:
        return ToyGenome(tuple(int(v) for v in vector))

    def to_vector(self, genome: ToyGenome) -> list[int]:
        return list(genome.bits)

    def from_params(self, params: Mapping[str, int]) -> ToyGenome:
        return self.genome([params[f"b{i}"] for i in range(self.n)])

    def to_params(self, genome: ToyGenome) -> dict[str, int]:
        return {f"b{i}": b for i, b in enumerate(genome.bits)}

    def parse(self, text: str) -> ToyGenome:
        return self.genome([int(c) for c in text])

    def random_genome(self, rng: random.Random) -> ToyGenome:
        return self.genome([rng.randint(0, 1) for _ in range(self.n)])

    def graded_genome(self, rng: random.Random, size: float) -> ToyGenome:
        return self.genome([int(rng.random() < size) for _ in range(self.n)])

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> ToySpace:
        return cls(table.get("n", 3))

    @classmethod
    def from_options(cls, options: Mapping[str, Any], genome: str | None = None) -> ToySpace:
        return cls(len(genome) if genome else 3)

    def check_image_size(self, image_size: int) -> None:
        pass

    def build_model(self, genome: ToyGenome, *, in_channels: int = 3, n_classes: int = 10,
                    out_channels: int | None = None, image_size: int = 32,
                    filters: tuple[int, ...] | None = None) -> Any:
        from torch import nn

        return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size**2, n_classes))

    def structure(self, genome: ToyGenome) -> dict[str, Any]:
        return {"ones": sum(genome.bits)}

    @classmethod
    def describe_lines(cls, info: Mapping[str, Any]) -> list[str]:
        return [f"  ones: {info['ones']}"]

    def mutate_one(self, genes: list[int], rng: random.Random) -> list[int]:
        i = rng.randrange(len(genes))
        genes[i] = 1 - genes[i]
        return genes


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> type[ToySpace]:
    monkeypatch.setitem(SPACES, ToySpace.name, ToySpace)
    return ToySpace


def test_import_does_not_pull_torch() -> None:
    code = ("import nasga.spaces, nasga.spaces.base, nasga.spaces.genomes, sys; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("space", [GeneticCNNSpace((3, 4)), UNetSpace(4, (8, 16)), ToySpace()])
def test_spaces_satisfy_the_protocol(space: Space) -> None:
    assert isinstance(space, Space)
    genome = space.random_genome(random.Random(0))
    assert isinstance(genome, Genome)
    assert space.parse(genome.to_string()) == genome
    assert space.from_params(space.to_params(genome)) == genome


def test_non_spaces_fail_the_protocol() -> None:
    assert not isinstance("unet", Space) and not isinstance(None, Space)


def test_registry_maps_names_to_classes() -> None:
    assert SPACES == {"unet": UNetSpace, "genetic-cnn": GeneticCNNSpace}
    for name, cls in SPACES.items():
        assert cls.name == name and space_class(name) is cls
    assert GeneticCNNSpace.task_name == GeneticCNNSpace.strategy_name == "genetic-cnn"
    assert UNetSpace.task_name == UNetSpace.strategy_name == "unet"
    with pytest.raises(NasgaInputError, match=r"^space: must be 'unet' or 'genetic-cnn', got 'x'"):
        space_class("x")


def test_space_from_config_defaults_and_errors() -> None:
    assert GeneticCNNSpace((3, 4, 5)).stages == space_from_config("genetic-cnn", {}).stages
    unet = space_from_config("unet", {"depth": 6})
    assert isinstance(unet, UNetSpace) and unet.depth == 6 and unet.choices == (64, 128, 256, 512)
    with pytest.raises(NasgaInputError, match=r"^space\.depth: "):
        space_from_config("unet", {"depth": 0})


def test_toy_space_through_config_and_tasks(toy: type[ToySpace]) -> None:
    from nasga.search.config import build_space, validate
    from nasga.tasks import SyntheticTask, build_task, task_class

    cfg = validate({"study": {"task": "toy"}, "space": {"n": 4}, "strategy": {"population": 4}})
    space = build_space(cfg)
    assert isinstance(space, ToySpace) and space.n == 4
    assert cfg["strategy"]["preset"] == "genetic-cnn"
    assert task_class(space) is SyntheticTask
    assert isinstance(build_task(space, {}), SyntheticTask)
    with pytest.raises(NasgaInputError, match=r"^space\.depth: unknown key for task 'toy'"):
        build_space({"study": {"task": "toy"}, "space": {"depth": 3}})


def test_toy_space_through_describe(toy: type[ToySpace]) -> None:
    from nasga.results.describe import describe, format_text, space_from_args

    space = space_from_args("toy", genome="1011", depth=None)
    info = describe(space, space.parse("1011"), image_size=space.default_image_size,
                    in_channels=1, n_classes=2)
    assert info["space"] == "toy" and info["ones"] == 3 and info["params"] == 16 * 2 + 2
    assert format_text(info).endswith("\n  ones: 3")


def test_toy_space_through_the_samplers(toy: type[ToySpace]) -> None:
    from nasga.samplers.aging.sampler import AgingEvolutionSampler, mutate_one_gene
    from nasga.samplers.ga.sampler import GeneticSampler

    space = ToySpace(4)
    assert mutate_one_gene(space, [0, 0, 0, 0], random.Random(0)).count(1) == 1
    for sampler in (GeneticSampler(space=space, seed=0),
                    AgingEvolutionSampler(space=space, population=4, sample_size=2, seed=0)):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t: sum(t.suggest_int(n, d.low, d.high)
                                     for n, d in space.distributions.items()), n_trials=12)
        assert len(study.trials) == 12 and study.best_value <= 4
