"""scripts/bench_compare.py end to end (tiny), and the goal lines it prints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from nasga.compare.report import SummaryRow, verdict
from tests.helpers import load_script, one_line_error


def _script():
    return load_script("bench_compare")


def _row(sampler: str, mean: float, se: float) -> SummaryRow:
    return SummaryRow(sampler, 100, 50, (0.9, 0.0), (mean, se), 50, 1.0, 100.0, "budget 50", 1.0)


def test_verdict_names_the_best_nasga_sampler_and_the_margins_in_standard_errors() -> None:
    rows = [_row("ga", 0.012, 0.001), _row("aging", 0.010, 0.0003), _row("tpe", 0.011, 0.0004),
            _row("random", 0.0114, 0.0007)]
    line = verdict(rows, 100, ours=("ga", "aging"))
    assert line.startswith("@ 100: best nasga aging 0.0100 ± 0.0003")
    assert "tpe 0.0110 ± 0.0004: lower by +0.0010 = 2.0 s.e." in line
    z = 0.0014 / math.hypot(0.0003, 0.0007)
    assert f"random 0.0114 ± 0.0007: lower by +0.0014 = {z:.1f} s.e." in line
    worse = verdict([_row("ga", 0.02, 0.001), _row("tpe", 0.01, 0.001)], 100, ours=("ga",))
    assert "NOT lower by -0.0100" in worse
    assert verdict(rows, 100, ours=("ga-steady",)) == "@ 100: none of ga-steady ran"
    assert verdict(rows, 100, ours=()) == "@ 100: no nasga sampler in this comparison"


def test_bench_compare_runs_on_both_tables_and_continues(tmp_path: Path, capsys) -> None:
    main = _script().main
    for table in ("genetic_cnn_34_digits", "genetic_cnn_44_digits"):
        args = ["--table", table, "--samplers", "ga,aging,random", "--seeds", "2",
                "--budgets", "5,10", "--workers", "1", "--out", str(tmp_path)]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "| aging | 2 |" in out and "regret @ 10" in out
        assert "@ 10: best nasga " in out and "random " in out
        assert "keys measured 3 times, best mean named: regret 0.0" in out
        assert (tmp_path / "runs" / f"{table}-aging.json").is_file()
        assert main(args) == 0  # the saved runs answer: same table again
        assert capsys.readouterr().out.count("| ga | 2 |") == 1


def test_first_seed_runs_held_out_seeds_and_keeps_the_first_runs(tmp_path: Path, capsys) -> None:
    import json

    main = _script().main
    base = ["--samplers", "random", "--seeds", "2", "--budgets", "5", "--workers", "1",
            "--out", str(tmp_path)]
    assert main(base) == 0
    assert main(base + ["--first-seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "seeds 0..1" in out and "seeds 3..4" in out
    first = json.loads((tmp_path / "runs" / "default-random.json").read_text())
    held = json.loads((tmp_path / "runs" / "default-random-from3.json").read_text())
    assert sorted(r["seed"] for r in first["runs"]) == [0, 1]
    assert sorted(r["seed"] for r in held["runs"]) == [3, 4]


def test_first_seed_must_not_be_negative(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        _script().main(["--first-seed", "-1"])
    assert exc.value.code == 2
    assert "--first-seed: must be an integer >= 0, got -1" in capsys.readouterr().err


def test_more_seeds_run_only_the_missing_ones_and_match_a_fresh_run(tmp_path: Path,
                                                                     capsys) -> None:
    import json

    module = _script()
    ran: list[list[int]] = []
    real = module.compare

    def recording(*args, **kwargs):
        ran.append(list(kwargs["seeds"]))
        return real(*args, **kwargs)

    module.compare = recording
    base = ["--samplers", "aging,aging-reeval", "--budgets", "5", "--workers", "1"]
    assert module.main(base + ["--seeds", "2", "--out", str(tmp_path / "a")]) == 0
    assert module.main(base + ["--seeds", "4", "--out", str(tmp_path / "a")]) == 0
    assert module.main(base + ["--seeds", "3", "--first-seed", "1",
                               "--out", str(tmp_path / "a")]) == 0  # seeds 1-3: all saved
    assert ran == [[0, 1], [0, 1], [2, 3], [2, 3]]  # aging, aging-reeval; then the missing seeds
    assert not (tmp_path / "a" / "runs" / "default-aging-from1.json").exists()  # nothing ran
    assert module.main(base + ["--seeds", "4", "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    for name in ("aging", "aging-reeval"):
        grown = json.loads((tmp_path / "a" / "runs" / f"default-{name}.json").read_text())
        fresh = json.loads((tmp_path / "b" / "runs" / f"default-{name}.json").read_text())
        assert [r["seed"] for r in grown["runs"]] == [0, 1, 2, 3]
        assert [r["curve"] for r in grown["runs"]] == [r["curve"] for r in fresh["runs"]]
    ran.clear()
    assert module.main(["--samplers", "aging", "--budgets", "6", "--workers", "1", "--seeds", "2",
                        "--out", str(tmp_path / "a")]) == 0
    assert ran == [[0, 1]]  # other settings: every seed runs again


def test_an_interrupted_build_keeps_the_seeds_it_finished(tmp_path: Path, capsys) -> None:
    import json

    module = _script()
    ran: list[list[int]] = []
    real = module.compare

    def recording(*args, dies_at: int | None = None, **kwargs):
        ran.append(list(kwargs["seeds"]))
        if len(ran) == dies_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    module.compare = lambda *a, **k: recording(*a, dies_at=2, **k)  # the second chunk dies
    args = ["--samplers", "random", "--budgets", "5", "--workers", "1", "--seeds", "5",
            "--out", str(tmp_path)]
    with pytest.raises(KeyboardInterrupt):
        module.main(args)
    saved = json.loads((tmp_path / "runs" / "default-random.json").read_text())
    assert [r["seed"] for r in saved["runs"]] == [0, 1]  # the first chunk, saved before the fault
    ran.clear()
    module.compare = recording
    assert module.main(args) == 0
    assert ran == [[2, 3], [4]]
    assert "| random | 5 |" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--sampler-seeds", "gp=x"], "sampler-seeds: expected NAME=N with N an integer >= 1, got 'gp=x'"),
    (["--sampler-cap", "gp"], "sampler-cap: expected NAME=N with N an integer >= 1, got 'gp'"),
    (["--budgets", "abc"], "budgets: expected comma-separated integers, got 'abc'"),
    (["--budgets", "50,0"], "--budgets: must be an integer >= 1, got 0"),
    (["--seeds", "0"], "--seeds: must be an integer >= 1, got 0"),
    (["--workers", "0"], "--workers: must be an integer >= 1, got 0"),
    (["--max-evaluations", "-1"], "--max-evaluations: must be an integer >= 0"),
    (["--samplers", "aging,nope"], "samplers: expected a comma list of ga, "),
    (["--table", "nope"], "task.table: no benchmark table"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(tmp_path: Path, capsys,
                                                                       args, message) -> None:
    out = tmp_path / "out"
    line, _ = one_line_error(_script().main, args + ["--out", str(out)], capsys)
    assert message in line, line
    assert not out.exists()


def test_figure_names_the_command_and_the_machine_and_holds_each_samplers_curve(
        tmp_path: Path, capsys) -> None:
    import json

    from nasga.bench.machine import cpu_model

    fig_path = tmp_path / "fig.json"
    args = ["--samplers", "aging,random", "--seeds", "2", "--budgets", "5,10", "--workers", "1",
            "--out", str(tmp_path), "--figure", str(fig_path)]
    assert _script().main(args) == 0
    assert f"wrote {fig_path}" in capsys.readouterr().out
    saved = json.loads(fig_path.read_text())
    assert saved["command"].startswith("python scripts/bench_compare.py ")
    assert "--figure" in saved["command"] and cpu_model() in saved["machine"]
    lines = [t for t in saved["figure"]["data"] if t.get("showlegend") is not False]
    assert [t["name"] for t in lines] == ["aging (n=2)", "random (n=2)"]
    note = saved["figure"]["layout"]["annotations"][0]["text"].replace("<br>", " ")
    assert saved["command"] in note and saved["machine"] in note and saved["date"] in note


def test_objectives_give_hypervolume_regret_and_leave_one_objective_samplers_out(
        tmp_path: Path, capsys) -> None:
    main = _script().main
    args = ["--objectives", "val_accuracy,macs", "--seeds", "2", "--budgets", "5,10",
            "--workers", "1", "--out", str(tmp_path), "--samplers", "aging,nsga2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Mean hypervolume regret" in out and "| nsga2 | 2 |" in out
    assert "@ 10: best nasga aging" in out and "nsga2 " in out
    assert (tmp_path / "runs" / "default-val_accuracy+macs-aging.json").is_file()
    assert main(args) == 0  # the saved runs answer
    assert main(["--objectives", "val_accuracy,macs", "--samplers", "aging-intensify",
                 "--out", str(tmp_path)]) == 2
    assert "samplers" in capsys.readouterr().err
    parser = _script()._parser()
    defaults = parser.parse_args(["--objectives", "val_accuracy,macs"])
    assert defaults.samplers is None  # the script leaves out samplers of one objective


def test_an_epoch_budget_with_pruners_labels_each_sampler_and_pruner(tmp_path: Path,
                                                                    capsys) -> None:
    main = _script().main
    args = ["--table", "genetic_cnn_34_digits_e27", "--budget-unit", "epochs", "--budgets",
            "54,108", "--pruners", "none,hyperband", "--samplers", "aging,tpe", "--seeds", "2",
            "--workers", "1", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "regret @ 108 epochs" in out and "| aging+hyperband | 2 |" in out
    assert "tpe+hyperband " in out.split("@ 108:")[1]  # a peer of the goal line
    # The no-model reference: 54 epochs are below one key's three trainings (81).
    reference = out.split("reference, no model")[1].splitlines()
    assert reference[1].startswith("  eta 2: - / 0.") and reference[3].startswith("  eta 4: - / ")
    assert (tmp_path / "runs" / "genetic_cnn_34_digits_e27-aging+hyperband.json").is_file()
    assert main(args) == 0  # the saved runs answer
    assert main([*args[:-2], "--out", str(tmp_path), "--pruners", "sometimes"]) == 2
