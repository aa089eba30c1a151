"""nasga.search.run: duplicate elimination by default, and studies stored before it resume as they began."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from nasga.search.config import validate
from nasga.search.run import open_search, optimize
from nasga.storages.storage import CONFIG_ATTR


def _cfg(name: str, **strategy: object) -> dict:
    return validate({"study": {"name": name, "task": "genetic-cnn", "seed": 1},
                     "space": {"stages": [3, 4]},
                     "strategy": {"population": 8, "generations": 4, "max_evaluations": 1,
                                  **strategy},
                     "task": {"task": "synthetic"}})


def _trained_share(study: optuna.Study) -> tuple[int, int]:
    trials = study.get_trials(deepcopy=False)
    return sum(bool(t.user_attrs.get("trained")) for t in trials), len(trials)


@pytest.mark.parametrize("preset", ["genetic-cnn", "unet"])
def test_dedup_is_on_by_default_when_the_cache_answers(preset: str) -> None:
    from nasga.samplers.ga.strategies import get_strategy

    cached = get_strategy(preset, max_evaluations=2)
    assert cached.dedup is None and cached.rebreed_after(cached.max_evaluations) == 2
    assert cached.with_overrides(dedup=False).rebreed_after(2) is None
    every = get_strategy(preset, max_evaluations=None)  # every reappearance is trained: moot
    assert every.rebreed_after(every.max_evaluations) is None


def test_a_cached_search_trains_on_every_trial_by_default(tmp_path: Path) -> None:
    default = open_search(_cfg("d"), storage_url=f"sqlite:///{tmp_path / 'd.db'}")
    optimize(default, progress=False, log=lambda s: None)
    trained, trials = _trained_share(default.study)
    assert trials == 8 * 5 and trained == trials  # 512 genomes, 186 keys: room for 40
    literal = open_search(_cfg("p", dedup=False), storage_url=f"sqlite:///{tmp_path / 'p.db'}")
    optimize(literal, progress=False, log=lambda s: None)
    trained, trials = _trained_share(literal.study)
    assert trials == 40 and trained < trials  # the papers' flowchart re-proposes cached genomes


@pytest.mark.parametrize("stored_dedup", [False, "absent"])
def test_a_study_stored_before_the_default_resumes_breeding_as_it_began(
        tmp_path: Path, stored_dedup: object) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    first = open_search(_cfg("old", generations=1, dedup=False), storage_url=url)
    optimize(first, progress=False, log=lambda s: None)
    stored = first.study.user_attrs[CONFIG_ATTR]
    if stored_dedup == "absent":  # written before the setting existed
        del stored["strategy"]["dedup"]
    first.study.set_user_attr(CONFIG_ATTR, stored)
    resumed = open_search(_cfg("old"), storage_url=url)  # the command leaves dedup unset
    assert resumed.strategy.dedup is False
    assert resumed.study.sampler._rebreed_after is None
    with pytest.raises(Exception, match="strategy.dedup"):
        open_search(_cfg("old", dedup=True), storage_url=url)  # set explicitly: refused


@pytest.mark.parametrize("url", ["sqlite:///{d}/new.db", "journal:///{d}/new.log"])
def test_reuse_from_on_a_storage_not_created_yet_writes_nothing(tmp_path: Path, url: str) -> None:
    from nasga.search.config import default_raw
    from nasga.errors import NasgaInputError

    raw = default_raw("genetic-cnn")
    raw["task"] = {"task": "synthetic"}
    raw["study"]["reuse_from"] = ["earlier"]
    with pytest.raises(NasgaInputError, match="no study named 'earlier'") as exc:
        open_search(validate(raw), storage_url=url.format(d=tmp_path))
    assert exc.value.field == "study.reuse_from"
    assert list(tmp_path.iterdir()) == []


TINY_SYNTHETIC = """
[study]
name = "bar"
task = "genetic-cnn"
seed = 0
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 2
[task]
task = "synthetic"
"""


def _bar_frames(err: str) -> list[str]:
    """The progress bar's drawings on stderr (tqdm separates them with carriage returns)."""
    return [f.strip() for f in re.split(r"[\r\n]", err) if "eval" in f]


@pytest.mark.parametrize("sampler", ["ga", "aging"])
def test_the_progress_bar_draws_its_final_state_once(tmp_path: Path, sampler: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 30: the final bar was drawn three times (the last callback's refresh, the redraw
    after the last generation's line, close()); a finished study draws none."""
    from nasga.cli import main

    study = tmp_path / "bar.toml"
    study.write_text(TINY_SYNTHETIC)
    argv = ["run", "--study", str(study), "--storage", f"sqlite:///{tmp_path / 'bar.db'}",
            "--sampler", sampler]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    frames = _bar_frames(err)
    assert [f for f in frames if "12/12" in f] == frames[-1:], frames
    assert "100%" in frames[-1] and "gen   2: max" in out
    assert main(argv) == 0  # resumed when already finished: nothing to show progress of
    assert _bar_frames(capsys.readouterr().err) == []


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_generations_another_worker_finished_last_are_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generation whose last trial another worker completes (while this one waits for it)
    still gets its line: the lines are written once more when the run ends."""
    import nasga.search.run as run_module

    cfg = validate({"study": {"name": "w", "task": "genetic-cnn", "seed": 0, "sampler": "aging"},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": 2, "generations": 1},
                    "task": {"task": "synthetic"}})
    search = open_search(cfg, storage_url=f"sqlite:///{tmp_path / 'w.db'}")
    other = search.study.ask()  # another worker's trial: RUNNING until this one waits for it
    settle, calls = run_module.settle, []

    def other_finishes_then_settle(*args, **kwargs):
        if not calls:
            search.study.tell(other, search.objective(other))
        calls.append(1)
        return settle(*args, **kwargs)

    monkeypatch.setattr(run_module, "settle", other_finishes_then_settle)
    lines: list[str] = []
    optimize(search, progress=False, log=lines.append)
    assert calls and other.number == 0
    assert [line[:6] for line in lines] == ["gen   ", "gen   "], lines
    assert lines[0].startswith("gen   0:") and lines[1].startswith("gen   1:")
