"""Every tutorial of docs/tutorials/ runs (``--tiny``), and its page shows exactly that script and
the output recorded from it (issue 30: no page shows code that does not run)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, load_script

RECORD = load_script("record_tutorials")
TUTORIALS = RECORD.TUTORIALS
IDS = [t.name for t in TUTORIALS]


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=IDS)
def test_tutorial_runs_tiny(tutorial, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    argv = [sys.executable, str(tutorial.script), "--tiny"]
    if tutorial.postgres:
        argv += ["--storage", request.getfixturevalue("pg_url")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "TMPDIR": str(tmp_path)}  # the tutorials work in a tempfile.mkdtemp() folder
    out = subprocess.run(argv, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "Traceback" not in out.stdout + out.stderr
    # The recorded full-size output shows the same commands and the same kind of lines.
    recorded = tutorial.output.read_text(encoding="utf-8")
    for line in re.findall(r"^\$ nasga (\w[\w-]*)", out.stdout, flags=re.M):
        assert f"$ nasga {line}" in recorded


@pytest.mark.parametrize("tutorial", TUTORIALS, ids=IDS)
def test_page_shows_the_script_and_its_recorded_output(tutorial) -> None:
    page = tutorial.page.read_text(encoding="utf-8")
    rel = tutorial.script.relative_to(ROOT).as_posix()
    assert f'--8<-- "{rel}"' in page, f"{tutorial.page.name} does not include {rel}"
    assert f'--8<-- "{tutorial.output.relative_to(ROOT).as_posix()}"' in page
    head = tutorial.output.read_text(encoding="utf-8").splitlines()[:2]
    assert re.match(rf"# (OMP_NUM_THREADS=\d+ )?python {re.escape(rel)}", head[0]), head
    assert f"script sha256 {RECORD.script_hash(tutorial)}" in head[1], (
        f"{tutorial.output.name} was recorded from another version of {rel}: run "
        f"python scripts/record_tutorials.py {tutorial.name}")
    assert re.search(r"recorded \d{4}-\d\d-\d\d by scripts/record_tutorials.py on .+ "
                     r"\(load average [\d.]+\), \d+ s wall", head[1]), head[1]


def test_the_tutorials_are_the_scripts_and_the_navigation() -> None:
    scripts = sorted(p.stem for p in (ROOT / "docs" / "tutorials").glob("*.py"))
    assert scripts == sorted(IDS)
    nav = re.search(r"^  - Tutorials:\n((?:      - .+\n)+)", (ROOT / "mkdocs.yml").read_text(),
                    flags=re.M)
    assert nav is not None
    assert re.findall(r"tutorials/([\w-]+)\.md", nav.group(1)) == IDS
