"""Learning-curve tables (issue 27): built resumably through ``report``, round-tripped through
the ``.npz``, old tables still load, and the per-epoch spread a reader is shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from nasga.bench import (
    BENCH_STAGES, CURVE_TABLES, DEFAULT_TABLE, BenchTable, canonical_genomes,
)
from nasga.bench.build import assemble, read_done, run_shard
from nasga.bench.curves import (
    average_ranks, curve_spread, halving_cost, halving_regret, halving_rungs, spearman,
)
from nasga.bench.table import CURVE_FIELDS
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from tests.bench.tiny import FakeTrainer, build_tiny, settings
from tests.helpers import load_script, one_line_error


def test_a_curve_table_round_trips_and_its_last_epoch_is_the_final_measurement(
        tmp_path: Path) -> None:
    out = tmp_path / "tiny.npz"
    table = build_tiny(out, (2, 2), repeats=3, epochs=5)
    assert table.n_keys == 4 and table.epochs == 5
    loaded = BenchTable.load(out)
    assert loaded.epochs == 5 and loaded.keys == table.keys
    for f in CURVE_FIELDS:
        assert loaded.curves[f].shape == (4, 3, 5)  # type: ignore[index]
        np.testing.assert_allclose(loaded.curves[f], table.curves[f], rtol=1e-6)  # type: ignore[index]
        np.testing.assert_array_equal(loaded.curves[f][:, :, -1], loaded.repeats[f])  # type: ignore[index]
    with np.load(out) as z:
        assert z["c_val_accuracy"].dtype == np.float32 and "c_val_loss" in z.files
    # The recorded curve is the trainer's report, epoch by epoch.
    trainer, space = FakeTrainer(GeneticCNNSpace((2, 2)), 5), GeneticCNNSpace((2, 2))
    done = read_done(out)
    key, text = table.keys[3], table.genomes[3]
    curve: list[float] = []
    trainer.evaluate(space.parse(text), seed=done[(key, 1)]["seed"], workdir=tmp_path,
                     report=lambda e, m: curve.append(m["val_accuracy"]))
    np.testing.assert_allclose(loaded.curves["val_accuracy"][3, 1], curve, rtol=1e-6)  # type: ignore[index]


def test_curves_are_resumable_and_must_end_at_the_final_measurement(tmp_path: Path) -> None:
    out, s = tmp_path / "t.npz", settings((3,), repeats=2, epochs=4)
    trainer = FakeTrainer(GeneticCNNSpace((3,)), 4)
    assert run_shard(out, settings=s, shard=1, n_shards=2, task=trainer, log=lambda x: None) == 6
    recs = read_done(out)
    assert len(recs) == 6 and all(len(r["curve_val_loss"]) == 4 for r in recs.values())
    with pytest.raises(NasgaInputError, match="settings"):  # a table without curves differs
        run_shard(out, settings=settings((3,), repeats=2, epochs=4, curves=False), task=trainer)
    assert run_shard(out, settings=s, task=trainer, log=lambda x: None) == 6  # only the rest
    assert trainer.calls == 12
    assert assemble(out, settings=s).epochs == 4
    broken = FakeTrainer(GeneticCNNSpace((3,)), 4, off_by=0.01)
    with pytest.raises(RuntimeError, match="does not end at the final"):
        run_shard(tmp_path / "b.npz", settings=s, task=broken, log=lambda x: None)
    assert read_done(tmp_path / "b.npz") == {}  # nothing recorded for it


def test_old_tables_without_curves_still_load_and_save(tmp_path: Path) -> None:
    shipped = BenchTable.load(DEFAULT_TABLE)
    assert shipped.curves is None and shipped.epochs is None
    table = build_tiny(tmp_path / "plain.npz", (3,), repeats=2, epochs=3, curves=False)
    assert table.epochs is None
    with np.load(tmp_path / "plain.npz") as z:
        assert not any(name.startswith("c_") for name in z.files)
    assert BenchTable.load(tmp_path / "plain.npz").curves is None


def test_malformed_curves_are_refused(tmp_path: Path) -> None:
    table = build_tiny(tmp_path / "t.npz", (3,), repeats=2, epochs=3)
    curves = table.curves
    assert curves is not None
    fields = dict(stages=table.stages, keys=table.keys, genomes=table.genomes,
                  repeats=table.repeats, per_key=table.per_key)
    with pytest.raises(NasgaInputError, match="shape"):
        BenchTable(**fields, curves={f: c[:, :1] for f, c in curves.items()})
    shifted = {f: c.copy() for f, c in curves.items()}
    shifted["val_loss"][0, 0, -1] += 1.0
    with pytest.raises(NasgaInputError, match="last epoch must equal"):
        BenchTable(**fields, curves=shifted)


def test_spearman_and_ranks_agree_with_scipy_including_ties() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.integers(0, 6, 40).astype(float)
        b = a + rng.integers(0, 4, 40)
        assert spearman(a, b) == pytest.approx(scipy.stats.spearmanr(a, b).statistic, abs=1e-12)
        np.testing.assert_allclose(average_ranks(a), scipy.stats.rankdata(a) - 1)
    assert np.isnan(spearman(np.ones(5), np.arange(5.0)))


def test_curve_spread_measures_each_epoch_against_the_last(tmp_path: Path) -> None:
    table = build_tiny(tmp_path / "t.npz", (3, 3), repeats=3, epochs=6)
    rows = curve_spread(table)
    acc = table.curves["val_accuracy"]  # type: ignore[index]
    assert [r.epoch for r in rows] == list(range(1, 7))
    assert rows[-1].rank_correlation == pytest.approx(1.0) and rows[-1].top_regret == 0.0
    assert rows[-1].best == pytest.approx(table.optimum())
    e = 2  # epoch 3, by hand
    means = acc[:, :, e].mean(axis=1)
    assert rows[e].repeat_noise == pytest.approx(float(np.std(acc[:, :, e], axis=1, ddof=1).mean()))
    assert rows[e].rank_correlation == pytest.approx(
        scipy.stats.spearmanr(means, acc[:, :, -1].mean(axis=1)).statistic)
    final = table.mean_accuracy()
    held_out = [scipy.stats.spearmanr(acc[:, r, e], np.delete(acc[:, :, -1], r, 1).mean(1)).statistic
                for r in range(3)]
    assert rows[e].held_out_correlation == pytest.approx(np.mean(held_out))
    assert rows[e].top_regret == pytest.approx(final.max() - final[int(np.argmax(means))])
    assert rows[0].mean_accuracy < rows[-1].mean_accuracy  # the fake curves rise
    np.testing.assert_array_equal(table.mean_accuracy(6), table.mean_accuracy())
    np.testing.assert_array_equal(table.mean_accuracy(3), means)
    for bad in (0, 7):
        with pytest.raises(NasgaInputError, match="epoch: must be an integer >= 1 and <= 6"):
            table.mean_accuracy(bad)
    with pytest.raises(NasgaInputError, match="no learning curves"):
        BenchTable.load(DEFAULT_TABLE).mean_accuracy(1)
    with pytest.raises(NasgaInputError, match="no learning curves"):
        curve_spread(BenchTable.load(DEFAULT_TABLE))


def test_make_bench_table_curves_builds_with_the_real_task_and_spread_prints_epochs(
        tmp_path: Path, capsys) -> None:
    out = tmp_path / "real.npz"
    script = load_script("make_bench_table")
    argv = ["--out", str(out), "--stages", "2", "--repeats", "1", "--epochs", "2",
            "--workers", "1", "--curves"]
    assert script.main(argv) == 0
    table = BenchTable.load(out)
    assert table.epochs == 2 and table.n_keys == 2
    assert table.meta["settings"]["curves"] is True
    assert table.meta["command"] == "python scripts/make_bench_table.py " + " ".join(argv)
    capsys.readouterr()
    assert script.main(["--out", str(out), "--spread"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 keys (2 genomes) x 1 repeats")
    assert [line.split()[0] for line in lines[-2:]] == ["1", "2"]


def test_spread_of_a_table_without_curves_prints_no_epochs(capsys) -> None:
    assert load_script("make_bench_table").main(["--out", str(DEFAULT_TABLE), "--spread"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_curves_flag_with_a_bad_epoch_count_is_one_line(tmp_path: Path, capsys) -> None:
    line, _ = one_line_error(load_script("make_bench_table").main,
                             ["--out", str(tmp_path / "x.npz"), "--curves", "--epochs", "0"],
                             capsys)
    assert "--epochs: must be an integer >= 1" in line and not (tmp_path / "x.npz.parts").exists()


@pytest.mark.parametrize("name, stages, n_keys, epochs, middle", [
    (CURVE_TABLES[0], BENCH_STAGES, 186, 27, 12), (CURVE_TABLES[1], (4, 4), 961, 9, 4)])
def test_a_shipped_curve_table_covers_every_key_every_epoch_three_times(
        name: str, stages: tuple[int, ...], n_keys: int, epochs: int, middle: int) -> None:
    table = BenchTable.load(name)
    reps = canonical_genomes(GeneticCNNSpace(stages))
    assert table.stages == stages and table.keys == tuple(reps) and table.n_repeats == 3
    assert table.epochs == epochs and table.meta["settings"]["curves"] is True
    assert table.meta["settings"]["task"] == {"dataset": "digits", "epochs": epochs,
                                              "device": "cpu"}
    acc, loss = table.curves["val_accuracy"], table.curves["val_loss"]  # type: ignore[index]
    assert acc.shape == loss.shape == (n_keys, 3, epochs)
    assert np.all((acc > 0) & (acc <= 1)) and np.all(loss > 0)
    np.testing.assert_array_equal(acc[:, :, -1], table.repeats["val_accuracy"])
    rows = curve_spread(table)  # the schedule's rate drop after half the epochs shows
    assert rows[0].mean_accuracy < rows[middle].mean_accuracy < rows[-1].mean_accuracy
    assert rows[-1].repeat_noise < rows[0].repeat_noise
    spread = table.spread()
    assert spread.worst < spread.median < spread.best == table.optimum()


def _curve_table(curves: np.ndarray, filler: float | np.ndarray = 0.1) -> BenchTable:
    """A (3, 3) table whose first keys have the given val-accuracy curves (keys, repeats,
    epochs); every other key has the curve ``filler``."""
    space = GeneticCNNSpace((3, 3))
    genomes = list(canonical_genomes(space).values())
    n, (k, r, e) = len(genomes), curves.shape
    acc = np.zeros((n, r, e)) + filler
    acc[:k] = curves
    repeats = {name: np.zeros((n, r)) for name in ("val_loss", "train_loss", "train_seconds")}
    repeats["val_accuracy"] = acc[:, :, -1].copy()
    return BenchTable(stages=(3, 3), keys=tuple(g.key for g in genomes),
                      genomes=tuple(g.to_string() for g in genomes), repeats=repeats,
                      per_key={"macs": np.ones(n), "params": np.ones(n)},
                      curves={"val_accuracy": acc, "val_loss": np.zeros((n, r, e))})


def test_halving_rungs_and_cost_follow_optunas_ladder_by_hand() -> None:
    assert halving_rungs(9, 3) == (1, 3, 9) and halving_rungs(27, 3) == (1, 3, 9, 27)
    assert halving_rungs(9, 2) == (1, 2, 4, 8, 9) and halving_rungs(9, 4) == (1, 4, 9)
    assert halving_rungs(1, 3) == (1,)
    # 10 keys to epoch 1; the best 4 on to 3 (2 epochs each); the best 2 to 9 (6 each), then
    # measured twice more (9 each): 10 + 8 + 12 + 36.
    assert halving_cost(10, (1, 3, 9), 3, 3) == 66
    assert halving_cost(10, (1, 3, 9), 3, 1) == 30


def test_halving_regret_names_the_best_key_when_early_epochs_rank_as_the_last() -> None:
    rising = np.linspace(0.5, 0.9, 9)
    curves = np.stack([np.tile(rising + d, (3, 1)) for d in (0.05, 0.02, 0.0)])  # noiseless
    table = _curve_table(curves)
    mean, se, keys = halving_regret(table, 10_000, draws=20)
    assert (mean, se, keys) == (0.0, 0.0, table.n_keys)  # every key screened, none lost


def test_halving_regret_loses_a_slow_starter_at_the_first_rung() -> None:
    # Key 0 ends best (0.95) but starts slowly: second of all keys at epoch 1, below every
    # other key at epoch 3. With every key screened, the rung at epoch 1 keeps it; the rung at
    # epoch 3 drops it, and key 1 (0.9) is named every time.
    slow = np.array([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    fast = np.array([0.6, 0.7, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9])
    filler = np.array([0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    table = _curve_table(np.stack([np.tile(slow, (3, 1)), np.tile(fast, (3, 1))]), filler)
    mean, se, keys = halving_regret(table, 10_000, draws=20)
    assert keys == table.n_keys and se == 0.0
    assert mean == pytest.approx(0.05)
    # A budget for a third of the keys: a search that draws key 1 names it (0.05); any other
    # names a filler (0.45), key 0 being dropped at epoch 3 if drawn.
    small = halving_cost(table.n_keys // 3, halving_rungs(9, 3), 3, 3)
    part, _, m = halving_regret(table, small, draws=400, seed=1)
    drawn = m / table.n_keys
    assert m == table.n_keys // 3
    assert part == pytest.approx(drawn * 0.05 + (1 - drawn) * 0.45, abs=0.04)  # ~4 s.e.
    assert halving_regret(table, small, draws=50, seed=2) == halving_regret(
        table, small, draws=50, seed=2)


def test_halving_regret_refuses_bad_input_in_one_line() -> None:
    table = _curve_table(np.tile(np.linspace(0.5, 0.9, 9), (1, 3, 1)))
    with pytest.raises(NasgaInputError, match=r"budget: must cover one key's 3 trainings "
                                              r"\(27 epochs\), got 26"):
        halving_regret(table, 26)
    with pytest.raises(NasgaInputError, match="reduction_factor: must be an integer >= 2"):
        halving_regret(table, 100, reduction_factor=1)
    with pytest.raises(NasgaInputError, match="no learning curves"):
        halving_regret(BenchTable.load(DEFAULT_TABLE), 100)
    with pytest.raises(NasgaInputError, match="epoch: must be an integer >= 1 and <= 9"):
        halving_regret(table, 100, epochs=10)


def test_halving_regret_with_epochs_cuts_the_curves_as_the_task_does() -> None:
    # Key 0 is best after 9 epochs, key 1 after 3: each search names the best key of its own
    # last epoch (a 3-epoch search ranked on the whole curves would name key 0, regret 0.05),
    # and a 3-epoch training's lower cost screens more keys for the same budget.
    late = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9, 0.95])
    early = np.array([0.6, 0.7, 0.75, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8])
    table = _curve_table(np.stack([np.tile(late, (3, 1)), np.tile(early, (3, 1))]))
    full = halving_regret(table, 100, draws=200)
    cut = halving_regret(table, 100, epochs=3, draws=200)
    assert full[2] == max(k for k in range(1, 100) if halving_cost(k, (1, 3, 9), 3, 3) <= 100)
    assert cut[2] == max(k for k in range(1, 100) if halving_cost(k, (1, 3), 3, 3) <= 100)
    assert cut[2] > full[2]
    everything = halving_regret(table, 10_000, epochs=3, draws=10)
    assert everything[0] == 0.0 and halving_regret(table, 10_000, draws=10)[0] == 0.0
