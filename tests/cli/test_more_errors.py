"""Bad flags of ``train-best``, ``worker`` and ``compare``: one line, exit 2, nothing written
(found by fuzzing the CLI; the run flags are in ``test_errors.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasga.cli import main
from tests.helpers import COMPARE, TINY, one_line_error


@pytest.mark.parametrize("flag,value,fragment", [
    ("--seed", "-1", "seed: must be an integer >= 0 and <= 4,294,967,295"),
    ("--seed", str(2**40), "seed: must be an integer >= 0 and <= 4,294,967,295"),
    ("--epochs", "0", "epochs: must be an integer >= 1 and <= 100,000"),
    ("--epochs", str(10**12), "epochs: must be an integer >= 1 and <= 100,000"),
])
def test_train_best_checks_its_numbers_before_reading_the_study(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str,
        fragment: str) -> None:
    db = tmp_path / "none.db"  # no study: the flag is refused before the storage is opened
    line, _ = one_line_error(main, ["train-best", "--storage", f"sqlite:///{db}",
                                    "--study-name", "s", "--out", str(tmp_path / "best"),
                                    flag, value], capsys)
    assert fragment in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_worker_refuses_sqlite_for_several_processes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    line, _ = one_line_error(main, ["worker", "--storage", f"sqlite:///{db}", "--study-name", "s",
                                    "--workers", "2"], capsys)
    assert "storage: SQLite is for one process; --workers 2 needs a journal file" in line, line
    assert not db.exists()


def test_compare_refuses_an_empty_prefix(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    line, _ = one_line_error(main, ["compare", "--samplers", "random", "--budget", "2",
                                    "--seeds", "1", "--prefix", " ", "--out", str(out)], capsys)
    assert "prefix: must be a non-empty study-name prefix, got ' '" in line, line
    assert not out.exists()


# --- a second fuzzing pass (2026-12-07): each case failed with a traceback, exit 1, a started
# study or a leftover folder before its fix ---------------------------------------------------

LONG = "n" * 300  # one name over the 255 bytes Linux, macOS and Windows allow
TOO_LONG = "a name in a path must be at most 255 bytes (the file system's limit)"
UNWRITABLE = Path("/proc")  # exists, and not even root can create a file in it
needs_proc = pytest.mark.skipif(not (UNWRITABLE / "self").exists(), reason="Linux /proc only")


@needs_proc
@pytest.mark.parametrize("argv,fragment", [
    (["export", "--storage", "sqlite:///{tmp}/none.db", "--study-name", "s",
      "--out", "/proc/x.json"], "out: cannot write in folder '/proc'"),
    (["train-best", "--storage", "sqlite:///{tmp}/none.db", "--study-name", "s",
      "--out", "/proc/model"], "out: cannot write in folder '/proc'"),
    (["compare", "--samplers", "random", "--budget", "2", "--seeds", "1",
      "--out", "/proc/cmp"], "out: cannot write in folder '/proc'"),
    (["compare", "--samplers", "random", "--budget", "2", "--seeds", "1",
      "--storage", "journal:////proc/c.log", "--out", "{tmp}/cmp"],
     "storage: cannot write in folder '/proc'"),
    (["run", "--task", "genetic-cnn", "--storage", "journal:////proc/x.log"],
     "storage: cannot write in folder '/proc'"),
])
def test_a_folder_nasga_cannot_write_in_is_refused_up_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        argv: list[str], fragment: str) -> None:
    monkeypatch.chdir(tmp_path)
    line, _ = one_line_error(main, [a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert fragment in line, line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv,fragment", [
    (["compare", "--samplers", "random", "--budget", "2", "--seeds", "1", "--storage", "foo://",
      "--out", "cmp"], "storage: unknown scheme in 'foo://'"),
    (["compare", "--samplers", "random", "--budget", "2", "--seeds", "1", "--storage",
      "sqlite:///nodir/c.db", "--out", "cmp"], "storage: folder 'nodir' does not exist"),
    (["compare", "--task", "unet", "--samplers", "ga-unet", "--budget", "2", "--seeds", "1",
      "--out", "cmp"], "samplers: ga-unet needs a GeneticCNNSpace"),
    (["run", "--task", "genetic-cnn", "--reuse-from", "nosuch"],
     "study.reuse_from: no study named 'nosuch'"),  # the default storage's folder: not made
    (["train-best", "--storage", "sqlite:///none.db", "--study-name", "s", "--out", ""],
     "out: must name a folder, got ''"),
    (["describe", "--space", "genetic-cnn", "--genome", "1-01|0-01-111|0-11-010-0111",
      "--depth", "3"], "depth: is not an option of the genetic-cnn space"),
    (["describe", "--space", "unet", "--genome", "16-32|1", "--classes", "3"],
     "classes: is an option of the genetic-cnn space only"),
    (["run", "--task", "genetic-cnn", "--set", "space.stages=[1,1]"],
     "space.stages: need a stage of at least 2 nodes"),
    (["run", "--task", "genetic-cnn", "--set", "task.lr=1e308"], "task.lr: must be > 0.0 and < 10.0"),
    (["run", "--task", "genetic-cnn", "--set", "task.momentum=2.0"],
     "task.momentum: must be >= 0.0 and < 1.0"),
    (["run", "--task", "genetic-cnn", "--set", "task.lr_decay=2.0"], "task.lr_decay: must be in (0, 1]"),
    (["run", "--task", "unet", "--set", "task.lam=1e308"], "task.lam: must be >= 0.0 and < 1000000.0"),
    (["run", "--task", "unet", "--set", "task.ndf=100000"], "task.ndf: must be an integer >= 1 and <= 4,096"),
    (["run", "--task", "unet", "--set", "space.channels=[4,100000000]"],
     "space.channels: choices must be integers in 1..4096"),
    (["run", "--task", "unet", "--set", "space.depth=4", "--image-size", "16"],
     "task.image_size: even the smallest genome of the space: 16-16-16-16|000 cannot run on"),
    (["run", "--task", "genetic-cnn", "--set", "space.stages=" + "[" * 600 + "]" * 600],
     "space.stages: nests lists or tables more than 16 deep"),
    (["run", "--task", "genetic-cnn", "--set", "space.stages=" + "[" * 5000 + "]" * 5000],
     "space.stages: nests lists or tables more than 16 deep"),
    # a third pass: paths and names a file system refuses, values without a bound
    (["run", "--task", "genetic-cnn", "--storage", f"sqlite:///{LONG}.db"], f"storage: {TOO_LONG}"),
    (["run", "--task", "genetic-cnn", "--storage", f"journal:///{LONG}.log"],
     f"storage: {TOO_LONG}"),
    (["export", "--storage", f"sqlite:///{LONG}.db", "--study-name", "s"], f"storage: {TOO_LONG}"),
    (["export", "--storage", "sqlite:///none.db", "--study-name", "s", "--out", f"{LONG}.json"],
     f"out: {TOO_LONG}"),
    (["repair", "--storage", f"journal:///{LONG}.log"], f"storage: {TOO_LONG}"),
    (["run", "--study", f"{LONG}.toml"], f"study: {TOO_LONG}"),
    (["run", "--task", "unet", "--data-root", LONG], f"task.data_root: {TOO_LONG}"),
    ([*COMPARE, "--out", LONG], f"out: {TOO_LONG}"),
    (["run", "--study", ""], "study: must name a study file, got ''"),
    (["run", "--task", "unet", "--data-root", ""], "task.data_root: must name a folder, got ''"),
    ([*COMPARE, "--out", "cmp", "--prefix", "p" * 600], "prefix: must be 1 to 512 printable"),
    ([*COMPARE, "--out", "cmp", "--prefix", "a\nb"], "prefix: must be 1 to 512 printable"),
    ([*COMPARE, "--out", "cmp", "--prefix", "p" * 495],  # the study names it builds are too long
     "prefix: must be 1 to 512 printable"),
    (["export", "--storage", "postgresql://u:pw@host:abc/db", "--study-name", "s"],
     "storage: a PostgreSQL URL is postgresql://USER@HOST:PORT/DATABASE with PORT an integer"),
    (["export", "--storage", "postgresql://u:pw@[::1/db", "--study-name", "s"],
     "(an IPv6 HOST in brackets), got 'postgresql://u:***@[::1/db'"),
    (["export", "--storage", "postgresql://u:pw@host:99999/db", "--study-name", "s"],
     "PORT an integer in 1..65535"),
    (["run", "--task", "unet", "--set", "task.max_macs=1e400"],
     "task.max_macs: must be a finite number, got inf"),
    (["run", "--task", "genetic-cnn", "--fuse", str(10**8)],
     "task.fuse: must be an integer >= 1 and <= 4,096"),
])
def test_fuzzed_bad_input_is_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        argv: list[str], fragment: str) -> None:
    monkeypatch.chdir(tmp_path)
    line, _ = one_line_error(main, argv, capsys)
    assert fragment in line, line
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_default_storage_folder_goes_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "studies").write_text("not a folder")
    line, _ = one_line_error(main, ["run", "--task", "genetic-cnn"], capsys)
    assert "storage: the default storage goes in folder 'studies', which is a file" in line, line
    assert (tmp_path / "studies").read_text() == "not a folder"


def test_a_deeply_nested_study_file_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    study = tmp_path / "deep.toml"
    study.write_text('[study]\nname = "x"\ntask = "genetic-cnn"\n[space]\nstages = '
                     + "[" * 5000 + "]" * 5000 + "\n")
    line, _ = one_line_error(main, ["run", "--study", str(study)], capsys)
    assert "nests lists or tables more than 16 deep" in line, line
    assert [p.name for p in tmp_path.iterdir()] == ["deep.toml"]


def test_train_best_refuses_a_study_whose_task_trains_no_network(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "s.toml"
    study.write_text(TINY["genetic-cnn"].replace("epochs = 1\nmax_train = 200",
                                                 'task = "synthetic"'))
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["run", "--study", str(study), "--storage", url, "--quiet"]) == 0
    capsys.readouterr()
    line, _ = one_line_error(main, ["train-best", "--storage", url, "--study-name", "tiny-gcnn",
                                    "--out", str(tmp_path / "best")], capsys)
    assert "ran the 'synthetic' task, which trains no network to save" in line, line
    assert not (tmp_path / "best").exists()


def test_compare_names_the_flags_own_rule_for_max_evaluations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    line, _ = one_line_error(main, ["compare", "--samplers", "random", "--budget", "2",
                                    "--seeds", "1", "--max-evaluations", "-1", "--out", str(out)],
                             capsys)
    assert "max_evaluations: must be an integer >= 0 (0: every proposal trains), got -1" in line
    assert not out.exists()
