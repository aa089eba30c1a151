"""The README and the pages under docs/ (issue 30): every Python block runs as written (a block
that includes a tutorial script: tests/test_tutorials.py runs it), every included file exists,
every study-file block validates, every ``nasga``/``scripts/run_ga.py`` command line parses,
every relative link reaches a file (and a heading, when it names one), and the README stays
short."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from nasga.cli import build_parser
from nasga.search.config import load_config

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_MAX_LINES = 150
FENCE = re.compile(r"^(```|~~~)([\w+-]*)[^\n]*\n(.*?)^\1[ \t]*$", flags=re.S | re.M)


def _rel(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _blocks(lang: str) -> list[tuple[str, str]]:
    """``(page, code)`` of every fenced block in ``lang`` of every page."""
    return [(_rel(page), m.group(3)) for page in PAGES
            for m in FENCE.finditer(page.read_text(encoding="utf-8")) if m.group(2) == lang]


def _ids(blocks: list[tuple[str, str]]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for page, _ in blocks:
        seen[page] = seen.get(page, 0) + 1
        out.append(f"{page}#{seen[page]}")
    return out


SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', flags=re.M)
"""A pymdownx.snippets include: the site shows that file in the block (paths from the root)."""


def _included(code: str) -> list[str]:
    """The files a block includes, when the block is nothing but includes (else empty)."""
    lines = [line for line in code.splitlines() if line.strip()]
    paths = [m.group(1) for line in lines if (m := SNIPPET.match(line))]
    return paths if paths and len(paths) == len(lines) else []


ALL_BLOCKS = [(_rel(page), m.group(3)) for page in PAGES
              for m in FENCE.finditer(page.read_text(encoding="utf-8"))]
INCLUDES = [(page, path) for page, code in ALL_BLOCKS for path in _included(code)]
# An included tutorial script runs in tests/test_tutorials.py (tiny), not here.
PYTHON = [(page, code) for page, code in _blocks("python") if not _included(code)]
TOML = _blocks("toml")
SHELL = [b for lang in ("bash", "sh", "console") for b in _blocks(lang)]


def test_the_pages_have_python_blocks_and_the_readme_is_short() -> None:
    assert "README.md" in {page for page, _ in PYTHON}
    included = {page for page, path in INCLUDES if path.endswith(".py")}
    assert {"docs/tutorials/optuna-samplers.md", "docs/tutorials/aging-hpo.md"} <= included
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


@pytest.mark.parametrize("block", [code for _, code in PYTHON], ids=_ids(PYTHON))
def test_python_block_runs(block: str, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize("page,path", INCLUDES, ids=[f"{p}<-{f}" for p, f in INCLUDES])
def test_included_file_exists(page: str, path: str) -> None:
    """The site's build fails on a missing include too; this says which page, without it."""
    assert (ROOT / path).is_file(), f"{page}: --8<-- {path}: no such file"


@pytest.mark.parametrize("block", [code for _, code in TOML], ids=_ids(TOML))
def test_study_file_block_validates(block: str, tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(block, encoding="utf-8")
    load_config(path)  # NasgaInputError names the bad key


def _command_lines(block: str) -> list[list[str]]:
    """The ``nasga ...`` and ``python scripts/run_ga.py ...`` commands of a shell block, as
    argv after the program (continuations joined, ``&&`` chains split, comments dropped)."""
    text = block.replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words[:1] == ["nasga"]:
                commands.append(words[1:])
            elif words[:2] == ["python", "scripts/run_ga.py"]:
                commands.append(["run", *words[2:]])
    return commands


COMMANDS = [(page, argv) for page, block in SHELL for argv in _command_lines(block)]


def test_the_pages_show_nasga_commands() -> None:
    assert {argv[0] for _, argv in COMMANDS} >= {"run", "worker", "compare", "report", "export",
                                                 "describe", "train-best"}


@pytest.mark.parametrize("argv", [argv for _, argv in COMMANDS],
                         ids=[f"{page}:{' '.join(argv)[:60]}" for page, argv in COMMANDS])
def test_command_line_parses(argv: list[str]) -> None:
    """Every flag and value a page shows is one the parser takes (it exits 2 otherwise; 0 for
    ``--help``)."""
    try:
        assert build_parser().parse_args(argv).command == argv[0]
    except SystemExit as exc:
        assert exc.code == 0 and "--help" in argv, f"nasga {shlex.join(argv)}: exit {exc.code}"


def _slug(heading: str) -> str:
    """GitHub's (and mkdocs') anchor of a heading: formatting dropped, lower case, punctuation
    removed, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _prose(text: str) -> str:
    """``text`` without fenced blocks and inline code (links there are not links)."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", page.read_text(encoding="utf-8")),
                         flags=re.M):
        slug, n = _slug(m.group(1)), 0
        while (slug if n == 0 else f"{slug}-{n}") in anchors:  # repeats get -1, -2, ...
            n += 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


LINKS = [(page, target) for page in PAGES
         for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)",
                                  _prose(page.read_text(encoding="utf-8")))
         if not re.match(r"[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto:


def test_the_pages_link_to_each_other() -> None:
    linked = {(page.parent / target.split("#")[0]).resolve() for page, target in LINKS
              if target.split("#")[0]}
    unlinked = [_rel(p) for p in PAGES if p.name != "README.md" and p.resolve() not in linked]
    assert not unlinked, f"pages no page links to: {unlinked}"


@pytest.mark.parametrize("page,target", LINKS, ids=[f"{_rel(p)}->{t}" for p, t in LINKS])
def test_relative_link_resolves(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    assert file.exists(), f"{_rel(page)}: {target}: no such file"
    if anchor and file.suffix == ".md":
        anchors = _anchors(file)
        assert anchor in anchors, f"{_rel(page)}: {target}: no heading #{anchor}: {sorted(anchors)}"
