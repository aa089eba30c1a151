"""The shipped tabular benchmark: key scheme, lookups of recorded values only, the builder."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from nasga.bench import BENCH_STAGES, DEFAULT_TABLE, BenchTable, canonical_genomes
from nasga.tasks.tabular import TabularTask
from nasga.bench.build import all_jobs, assemble, parts_dir, read_done, run_shard
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks import TASK_NAMES, build_task
from tests.helpers import load_script, one_line_error


@pytest.fixture(scope="module")
def table() -> BenchTable:
    return BenchTable.load(DEFAULT_TABLE)


def test_table_covers_every_canonical_key_of_the_space(table: BenchTable) -> None:
    space = GeneticCNNSpace(BENCH_STAGES)
    reps = canonical_genomes(space)
    assert table.stages == BENCH_STAGES
    assert table.n_keys == len(reps) == 186  # 6 stage-1 classes x 31 stage-2 classes
    assert set(table.keys) == set(reps)
    assert table.n_repeats == 3
    for bits in itertools.product((0, 1), repeat=space.n_bits):  # all 512 genomes
        table.row(space.genome(bits).key)
    for key, text in zip(table.keys, table.genomes):
        assert space.parse(text).key == key


def test_the_large_table_covers_every_key_of_the_4_4_space_three_times() -> None:
    large = BenchTable.load("genetic_cnn_44_digits")
    space = GeneticCNNSpace((4, 4))
    reps = canonical_genomes(space)
    assert large.stages == (4, 4) and large.n_keys == len(reps) == 961  # 31 x 31 classes
    assert set(large.keys) == set(reps) and large.n_repeats == 3
    acc = large.repeats["val_accuracy"]
    assert acc.shape == (961, 3) and np.all((acc > 0.1) & (acc <= 1.0))
    assert large.meta["settings"]["repeats"] == 3 and large.meta["settings"]["stages"] == [4, 4]
    spread = large.spread()
    assert spread.worst < spread.median < spread.best == large.optimum()
    for bits in itertools.product((0, 1), repeat=space.n_bits):  # all 4,096 genomes
        large.row(space.genome(bits).key)
    task = build_task(space, {"task": "genetic-cnn-bench", "table": "genetic_cnn_44_digits"})
    assert task.optimum() == large.optimum()  # type: ignore[attr-defined]


def test_table_values_are_plausible(table: BenchTable) -> None:
    acc = table.repeats["val_accuracy"]
    assert acc.shape == (186, 3)
    assert np.all((acc > 0.1) & (acc <= 1.0))
    assert np.all(table.per_key["macs"] > 0) and np.all(table.per_key["params"] > 0)
    spread = table.spread()
    assert spread.worst <= spread.median <= spread.best == table.optimum()
    assert 0 < spread.repeat_noise < 0.1
    assert table.mean_of(table.optimum_key()) == table.optimum()
    assert table.meta["settings"]["repeats"] == 3


def test_lookup_returns_only_recorded_values(table: BenchTable) -> None:
    space = GeneticCNNSpace(BENCH_STAGES)
    task = build_task(space, {"task": "genetic-cnn-bench"})
    assert isinstance(task, TabularTask) and "genetic-cnn-bench" in TASK_NAMES
    rng = random.Random(0)
    seen_repeats = set()
    for n in range(300):
        genome = space.random_genome(rng)
        m = task.evaluate(genome, seed=n, workdir=None).measurements  # type: ignore[arg-type]
        row, r = table.row(genome.key), m["bench_repeat"]
        seen_repeats.add(r)
        assert m["val_accuracy"] == table.repeats["val_accuracy"][row, r]
        assert m["val_accuracy"] in set(table.repeats["val_accuracy"][row])
        assert m["macs"] == table.per_key["macs"][row]
        assert task.fitness(m) == m["val_accuracy"]
        again = task.evaluate(genome, seed=n, workdir=None).measurements  # type: ignore[arg-type]
        assert again == m  # the same seed gives the same repeat
    assert seen_repeats == {0, 1, 2}
    assert task.optimum() == table.optimum()
    assert task.config() == {"task": "genetic-cnn-bench", "table": DEFAULT_TABLE}


def test_bad_space_or_table_names_the_field() -> None:
    with pytest.raises(NasgaInputError, match="task.space"):
        build_task(GeneticCNNSpace((3, 4, 5)), {"task": "genetic-cnn-bench"})
    with pytest.raises(NasgaInputError, match="task.table"):
        build_task(GeneticCNNSpace((3, 4)), {"task": "genetic-cnn-bench", "table": "nope"})
    with pytest.raises(NasgaInputError, match="task.task"):
        from nasga.spaces import UNetSpace

        build_task(UNetSpace(4, (8, 16)), {"task": "genetic-cnn-bench"})


def test_builder_is_resumable_and_assembles_a_table(tmp_path) -> None:
    out = tmp_path / "tiny.npz"
    settings = {"stages": [3], "repeats": 2,
                "task": {"epochs": 1, "max_train": 100, "device": "cpu"}}
    jobs = all_jobs(GeneticCNNSpace((3,)), 2)
    assert len(jobs) == 12
    run_shard(out, settings=settings, shard=0, n_shards=2, log=lambda line: None)
    assert len(read_done(out)) == 6
    with pytest.raises(NasgaInputError, match="not finished"):
        assemble(out, settings=settings)
    with pytest.raises(NasgaInputError, match="settings"):
        run_shard(out, settings={**settings, "repeats": 3}, log=lambda line: None)
    assert run_shard(out, settings=settings, log=lambda line: None) == 6  # only the rest
    table = assemble(out, settings=settings)
    assert table.n_keys == 6 and table.n_repeats == 2
    loaded = BenchTable.load(out)
    assert loaded.keys == table.keys
    np.testing.assert_allclose(loaded.repeats["val_accuracy"], table.repeats["val_accuracy"],
                               rtol=1e-6)
    assert parts_dir(out).is_dir()


def _two_key_table(a: list[float], b: list[float]) -> BenchTable:
    space = GeneticCNNSpace((2, 2))
    genomes = list(canonical_genomes(space).values())[:2]
    repeats = {name: np.zeros((2, 3)) for name in ("val_loss", "train_loss", "train_seconds")}
    repeats["val_accuracy"] = np.array([a, b])
    return BenchTable(stages=(2, 2), keys=tuple(g.key for g in genomes),
                      genomes=tuple(g.to_string() for g in genomes),
                      repeats=repeats, per_key={"macs": np.ones(2), "params": np.ones(2)})


def test_exhaustive_regret_is_the_winners_curse_of_measuring_every_key() -> None:
    # Key A: mean 1/3, one lucky repeat; key B: 0.3 every time. One training names A only when
    # it drew its 1.0 (probability 1/3), else B: regret (2/3)(1/3 - 0.3) = 0.0222.
    table = _two_key_table([1.0, 0.0, 0.0], [0.3, 0.3, 0.3])
    assert table.exhaustive_regret(1, draws=20000) == pytest.approx(2 / 3 * (1 / 3 - 0.3), abs=2e-3)
    # Three trainings name B unless A drew its 1.0 at least once (1 - (2/3)^3 = 19/27).
    assert table.exhaustive_regret(3, draws=20000) == pytest.approx(8 / 27 * (1 / 3 - 0.3), abs=2e-3)
    assert table.exhaustive_regret(3, draws=50, seed=1) == table.exhaustive_regret(3, draws=50, seed=1)
    assert _two_key_table([0.5] * 3, [0.4] * 3).exhaustive_regret(1) == 0.0  # no noise, no curse
    for bad in (0, 1.5, True):
        with pytest.raises(NasgaInputError, match="trainings"):
            table.exhaustive_regret(bad)  # type: ignore[arg-type]


def test_exhaustive_regret_of_the_shipped_tables_is_between_zero_and_the_median_gap() -> None:
    for name in (DEFAULT_TABLE, "genetic_cnn_44_digits"):
        table = BenchTable.load(name)
        one, three = table.exhaustive_regret(1, draws=200), table.exhaustive_regret(3, draws=200)
        assert 0 < three < one < table.optimum() - float(np.median(table.mean_accuracy()))


@pytest.mark.parametrize("args,message", [
    (["--stages", "x"], "stages: expected comma-separated integers, got 'x'"),
    (["--stages", "3,0"], "--stages: stage 2 needs at least 1 node, got 0"),
    (["--stages", "5,5,5"], "--stages: GeneticCNNSpace(stages=(5, 5, 5)) has 2^30 genomes"),
    (["--repeats", "0"], "--repeats: must be an integer >= 1, got 0"),
    (["--workers", "0"], "--workers: must be an integer >= 1, got 0"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1 and <= 100,000"),
    (["--shard", "2"], "--shard: must be in 0..1 (--workers 2), got 2"),
    (["--out", "table.txt"], "--out: must be a .npz file, got 'table.txt'"),
    (["--spread"], "--out: no benchmark table"),
])
def test_make_bench_table_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "tables" / "t.npz"
    line, _ = one_line_error(load_script("make_bench_table").main, ["--out", str(out)] + args, capsys)
    assert message in line, line
    assert not out.parent.exists()
