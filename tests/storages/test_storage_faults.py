"""Storage faults lose no completed trial: torn journals, full disks, read-only commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nasga.cli import main
from nasga.storages.journal import _TolerantBackend, scan

CONFIG = """
[study]
name = "s"
task = "genetic-cnn"
seed = 0
heartbeat_interval = 1
grace_period = 2
[space]
stages = [3, 4]
[strategy]
population = 4
generations = {generations}
max_evaluations = 1
[task]
task = "synthetic"
"""


def _config(tmp: Path, generations: int = 2) -> Path:
    path = tmp / f"s{generations}.toml"
    path.write_text(CONFIG.format(generations=generations), encoding="utf-8")
    return path


def _complete(url_or_path: str | Path | JournalStorage) -> dict[int, float]:
    """{trial number: value} of the COMPLETE trials, read by Optuna itself."""
    storage = (JournalStorage(JournalFileBackend(str(url_or_path)))
               if isinstance(url_or_path, Path) else url_or_path)
    study = optuna.load_study(study_name="s", storage=storage)
    return {t.number: t.value for t in study.get_trials(states=(TrialState.COMPLETE,))}


def _err_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def finished_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("template")
    path = tmp / "j.log"
    assert main(["run", "--study", str(_config(tmp)), "--storage", f"journal:///{path}",
                 "--quiet"]) == 0
    return path


@pytest.fixture()
def journal(finished_journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A finished 3-generation study in a journal file (a fresh copy)."""
    path = tmp_path / "j.log"
    shutil.copyfile(finished_journal, path)
    _config(tmp_path)
    capsys.readouterr()
    return path


def _half_line(path: Path) -> bytes:
    return path.read_bytes().splitlines(keepends=True)[-1][:57]


TAILS = {  # a crash mid-write, garbage appended, the zeros a full disk / lost blocks leave
    "half a line": _half_line,
    "garbage line": lambda path: b"garbage\n",
    "garbage lines": lambda path: b"garbage\n{not json}\n[1, 2]\n",
    "zero-filled": lambda path: b"\0" * 4096,
    "half a line and zeros": lambda path: _half_line(path) + b"\0" * 100,
}


@pytest.mark.parametrize("kind", sorted(TAILS))
def test_torn_tail_is_read_around_by_readers_and_repaired_by_writers(
        kind: str, journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _complete(journal)
    good = journal.read_bytes()
    tail = TAILS[kind](journal)
    with open(journal, "ab") as f:
        f.write(tail)
    url = f"journal:///{journal}"
    # A read-only command reads every complete record, writes nothing, says so in one line.
    assert main(["export", "--storage", url, "--study-name", "s"]) == 0
    err = _err_lines(capsys.readouterr().err)
    assert len(err) == 1 and f"torn tail at byte {len(good)}" in err[0] and "nasga repair" in err[0]
    assert journal.read_bytes() == good + tail
    # A writer moves the tail aside (one line) and resumes; every completed trial is kept.
    assert main(["run", "--study", str(_config(tmp_path, 3)), "--storage", url, "--quiet"]) == 0
    err = _err_lines(capsys.readouterr().err)
    assert len(err) == 1 and f"was torn at byte {len(good)}" in err[0] and "none lost" in err[0]
    assert Path(f"{journal}.torn-{len(good)}").read_bytes() == tail
    after = _complete(journal)
    assert {n: after.get(n) for n in before} == before
    assert len(after) == 16 and not scan(journal).damaged


def test_damage_before_complete_records_is_refused_then_repaired(
        journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A torn line that later appends landed on: Optuna cannot read the study at all."""
    before = _complete(journal)
    lines = journal.read_bytes().splitlines(keepends=True)
    offset = len(journal.read_bytes())
    extra = lines[-3:]  # complete records written by a worker after the tear
    with open(journal, "ab") as f:
        f.write(lines[-1][:40] + b"".join(extra))
    with pytest.raises(ValueError):  # what Optuna alone makes of it
        _complete(journal)
    damaged = journal.read_bytes()
    url = f"journal:///{journal}"
    for argv in (["export", "--storage", url, "--study-name", "s"],
                 ["worker", "--storage", url, "--study-name", "s", "--quiet"]):
        assert main(argv) == 1
        err = _err_lines(capsys.readouterr().err)
        assert len(err) == 1 and "Traceback" not in err[0]
        assert f"{journal} is damaged at byte {offset}" in err[0]
        assert f"nasga repair --storage {url}" in err[0]
        assert journal.read_bytes() == damaged  # refused, untouched
    assert main(["repair", "--storage", url]) == 0
    out = capsys.readouterr().out
    assert f"kept all {len(lines) + len(extra) - 1} complete records" in out
    assert Path(f"{journal}.torn-{offset}").read_bytes() == lines[-1][:40] + extra[0]
    assert journal.read_bytes() == b"".join(lines + extra[1:])  # the merged line was dropped
    assert {n: v for n, v in _complete(journal).items() if n in before} == before
    assert main(["run", "--study", str(_config(tmp_path, 3)), "--storage", url, "--quiet"]) == 0
    after = _complete(journal)
    assert {n: after[n] for n in before} == before and len(after) == 16
    assert main(["repair", "--storage", url]) == 0
    assert "is intact" in capsys.readouterr().out


def test_a_running_writer_never_appends_onto_a_torn_line(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Another process tears its write (killed, disk full) while this one keeps writing."""
    from nasga.storages.storage import open_storage

    before = _complete(journal)
    storage = open_storage(f"journal:///{journal}", heartbeat=False)
    study = optuna.load_study(study_name="s", storage=storage)
    offset = journal.stat().st_size
    torn = _half_line(journal)
    with open(journal, "ab") as f:
        f.write(torn)
    study.set_user_attr("after", 1)  # appended under the lock, after moving the tail aside
    err = _err_lines(capsys.readouterr().err)
    assert len(err) == 1 and f"was torn at byte {offset}" in err[0]
    assert Path(f"{journal}.torn-{offset}").read_bytes() == torn
    assert not scan(journal).damaged and _complete(journal) == before
    plain = optuna.load_study(study_name="s",
                              storage=JournalStorage(JournalFileBackend(str(journal))))
    assert plain.user_attrs["after"] == 1


def test_a_live_writers_unfinished_line_is_not_torn(
        journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """While FILE.lock is held, a last line without its newline is being written."""
    with open(journal, "ab") as f:
        f.write(_half_line(journal))
    content = journal.read_bytes()
    lock = Path(f"{journal}.lock")
    os.symlink(journal, lock)
    try:
        assert main(["export", "--storage", f"journal:///{journal}", "--study-name", "s"]) == 0
    finally:
        lock.unlink()
    assert capsys.readouterr().err == "" and journal.read_bytes() == content


def test_repair_of_non_journal_storages_and_missing_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["repair", "--storage", f"sqlite:///{tmp_path / 'x.db'}"]) == 0
    assert "nothing to repair" in capsys.readouterr().out
    assert main(["repair", "--storage", f"journal:///{tmp_path / 'no.log'}"]) == 2
    assert "storage: no journal file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --- read-only commands never create storage ------------------------------------------------

@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_read_only_commands_create_no_storage(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}" if kind == "sqlite" else \
        f"journal:///{tmp_path / 'none.log'}"
    commands = [["export"], ["export", "--out", str(tmp_path / "best.json")],
                ["train-best", "--out", str(tmp_path / "best")],
                ["report", "--out", str(tmp_path / "r.html")], ["worker", "--quiet"]]
    for argv in commands:
        assert main([argv[0], "--storage", url, "--study-name", "s", *argv[1:]]) == 2, argv
        err = _err_lines(capsys.readouterr().err)
        assert len(err) == 1 and "storage: no " in err[0] and "nothing created" in err[0], err
        assert list(tmp_path.iterdir()) == [], argv


def test_empty_sqlite_path_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    for url in ("sqlite://", "sqlite:///", "sqlite:///:memory:"):
        assert main(["run", "--study", str(_config(tmp_path)), "--storage", url, "--quiet"]) == 2
        err = _err_lines(capsys.readouterr().err)
        assert len(err) == 1 and "storage: SQLite needs a file" in err[0] and repr(url) in err[0]


# --- report ---------------------------------------------------------------------------------

def test_report_refuses_an_empty_study_and_a_folder(
        tmp_path: Path, journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    study = optuna.create_study(study_name="e", storage=url, direction="maximize")
    study.set_user_attr("nasga_config", {"study": {"name": "e", "task": "genetic-cnn"},
                                         "space": {"stages": [3, 4]}})
    out = tmp_path / "r.html"
    assert main(["report", "--storage", url, "--study-name", "e", "--out", str(out)]) == 2
    err = _err_lines(capsys.readouterr().err)
    assert len(err) == 1 and "no complete trial" in err[0] and not out.exists()
    j = f"journal:///{journal}"
    for bad in (str(tmp_path), str(tmp_path / "missing") + "/", "",
                str(tmp_path / "missing" / "r.html")):
        assert main(["report", "--storage", j, "--study-name", "s", "--out", bad]) == 2
        err = _err_lines(capsys.readouterr().err)
        assert len(err) == 1 and err[0].startswith("nasga report: error: out: "), (bad, err)
    assert main(["export", "--storage", j, "--study-name", "s", "--out", str(tmp_path)]) == 2
    assert "out: must name a file" in capsys.readouterr().err
    assert {p.name for p in tmp_path.iterdir()} - {"artifacts"} == {"e.db", "j.log", "s2.toml"}


# --- a full disk (a small tmpfs) -------------------------------------------------------------

@pytest.fixture()
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, Path]]:
    """A tmpfs of ``request.param`` (skips where mount is not permitted)."""
    mnt = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root on Linux")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"mount -t tmpfs not permitted: {r.stderr.strip()}")
    try:
        yield mnt, tmp_path
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _nasga(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nasga.cli", *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "small_disk"), [("sqlite", "160k"), ("journal", "96k")],
                         indirect=["small_disk"])
def test_full_disk_is_one_line_and_the_study_resumes(
        kind: str, small_disk: tuple[Path, Path]) -> None:
    mnt, tmp = small_disk
    name = "x.db" if kind == "sqlite" else "x.log"
    url = f"sqlite:///{mnt / name}" if kind == "sqlite" else f"journal:///{mnt / name}"
    cfg = _config(tmp, generations=6)  # 28 trials: the disk fills up after about 18
    r = _nasga("run", "--study", str(cfg), "--storage", url, "--quiet", cwd=tmp)
    assert r.returncode == 1, r.stderr[-2000:]
    err = _err_lines(r.stderr)
    assert len(err) == 1, r.stderr[-3000:]
    assert err[0].startswith(f"nasga run: error: storage: {url}: ")
    assert ("database or disk is full" if kind == "sqlite" else "no space left") in err[0]
    # Free space: move the files to a bigger disk and mount it back in place.
    saved = tmp / "saved"
    shutil.copytree(mnt, saved)
    subprocess.run(["umount", str(mnt)], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    shutil.copytree(saved, mnt, dirs_exist_ok=True)
    storage = url if kind == "sqlite" else JournalStorage(_TolerantBackend(str(mnt / name)))
    before = _complete(storage)
    assert 4 <= len(before) < 28  # the disk filled up mid-search
    # The failed write tore a line unless the file happened to end on a page boundary (tmpfs
    # then writes none of it): what is torn is moved aside below, and nothing else is.
    tore = kind == "journal" and scan(mnt / name).damaged
    r = _nasga("run", "--study", str(cfg), "--storage", url, "--quiet", cwd=tmp)
    assert r.returncode == 0, r.stderr[-3000:]
    after = _complete(url if kind == "sqlite" else mnt / name)
    assert {n: after[n] for n in before} == before and len(after) == 4 * 7
    torn = [p for p in mnt.iterdir() if ".torn-" in p.name]  # one per torn write
    if tore:  # the write the full disk tore was moved aside, in one line
        assert torn and all(scan(p).records == 0 for p in torn)  # fragments, no record
        assert all("none lost" in line for line in _err_lines(r.stderr)), r.stderr
    else:
        assert not torn and not _err_lines(r.stderr), r.stderr


@pytest.mark.parametrize("readonly", [True, False])
def test_opening_a_journal_reads_only_its_last_line(
        readonly: bool, journal: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening costs the same for any journal length: no whole-file scan, one line parsed."""
    import nasga.storages.journal as J
    from nasga.storages.storage import open_storage

    parsed: list[bytes] = []
    is_record = J._is_record
    monkeypatch.setattr(J, "_is_record", lambda line: parsed.append(line) or is_record(line))
    monkeypatch.setattr(J, "scan", lambda path: pytest.fail("scanned the whole journal"))
    storage = open_storage(f"journal:///{journal}", heartbeat=False, create=False,
                           readonly=readonly)
    assert parsed == journal.read_bytes().splitlines(keepends=True)[-1:]
    assert _complete(storage) == _complete(journal)
