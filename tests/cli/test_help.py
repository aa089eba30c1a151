"""``nasga --version``, and every command's ``--help`` ending with an example that parses."""

from __future__ import annotations

import argparse
import shlex

import pytest

import nasga
from nasga.cli import build_parser, main
from tests.helpers import exit_code


def _commands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(main, ["--version"]) == 0
    assert capsys.readouterr().out == f"nasga {nasga.__version__}\n"


@pytest.mark.parametrize("command", ["", *_commands()])
def test_help_ends_with_an_example_of_the_command_that_parses(
        command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")  # narrow: the example line must still be one line
    assert exit_code(main, [*command.split(), "--help"]) == 0
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"example: nasga {command}".rstrip()), last
    argv = shlex.split(last.removeprefix("example: "))
    assert argv[0] == "nasga"
    args = build_parser().parse_args(argv[1:])  # an unknown flag or value exits here
    assert args.command == (command or args.command)


def test_the_describe_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example = _commands()["describe"].example  # type: ignore[attr-defined]
    assert main(shlex.split(example)[1:]) == 0
    assert "MACs" in capsys.readouterr().out
