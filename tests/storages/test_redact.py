"""A storage URL's password never appears in any message, in any of the forms it can take."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasga.cli import main
from nasga.storages.storage import redact, scrub

HOST = "127.0.0.1:1"  # nothing listens there: connecting fails at once
# (URL, the substrings that would give the password away)
FORMS = {
    "plain": (f"postgresql+psycopg2://u:Zq7pw99@{HOST}/db", ["Zq7pw99"]),
    "no driver": (f"postgresql://u:Zq7pw99@{HOST}/db", ["Zq7pw99"]),
    "postgres scheme": (f"postgres://u:Zq7pw99@{HOST}/db", ["Zq7pw99"]),
    "@ in password": (f"postgresql+psycopg2://u:Zq7@pw99@{HOST}/db", ["Zq7", "pw99"]),
    "@@ in password": (f"postgresql+psycopg2://u:Zq7@@pw99@{HOST}/db", ["Zq7", "pw99"]),
    "encoded @": (f"postgresql+psycopg2://u:Zq7%40pw99@{HOST}/db", ["Zq7", "pw99"]),
    "/ and : in password": (f"postgresql+psycopg2://u:Zq7/p:w99@{HOST}/db", ["Zq7", "w99"]),
    "empty user": (f"postgresql+psycopg2://:Zq7pw99@{HOST}/db", ["Zq7pw99"]),
    "query password": (f"postgresql+psycopg2://u@{HOST}/db?password=Zq7pw99", ["Zq7pw99"]),
    "query PassWord": (f"postgresql+psycopg2://u@{HOST}/db?sslmode=disable&PassWord=Zq7pw99",
                       ["Zq7pw99"]),
    "encoded query key": (f"postgresql+psycopg2://u@{HOST}/db?pass%77ord=Zq7pw99", ["Zq7pw99"]),
    "both": (f"postgresql+psycopg2://u:Zq7pw99@{HOST}/db?password=Xk5pw88&x=a@b",
             ["Zq7pw99", "Xk5pw88"]),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_redact_hides_every_form(form: str) -> None:
    url, secrets = FORMS[form]
    shown = redact(url)
    assert "***" in shown and not any(s in shown for s in secrets), shown
    assert shown.startswith(url.split("://")[0] + "://")
    assert "127.0.0.1" in shown  # the message still says where
    rest = url.split("://", 1)[1]
    host_seen = rest.split("@", 1)[1] if "@" in rest else rest  # a driver splits at the 1st @
    text = f"cannot connect to {url!r}: could not translate host name \"{host_seen}\""
    assert not any(s in scrub(text, url) for s in secrets)


def test_redact_in_prose_and_libpq_keywords() -> None:
    text = "dsn host=h port=5432 password=Zq7pw99 user=u; PASSWORD = 'Zq7 pw99'"
    shown = redact(text)
    assert "Zq7" not in shown and "pw99" not in shown and "host=h" in shown
    assert redact("sqlite:///studies/x.db") == "sqlite:///studies/x.db"
    assert redact("journal:///a/b.log") == "journal:///a/b.log"
    assert redact("postgresql://u@host/db") == "postgresql://u@host/db"


CONFIG = """
[study]
name = "s"
task = "genetic-cnn"
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 1
[task]
task = "synthetic"
"""


@pytest.mark.parametrize("form", sorted(FORMS))
def test_no_command_prints_the_password(form: str, tmp_path: Path,
                                        capfd: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command that takes a storage, through the CLI, stdout and stderr (fd level)."""
    url, secrets = FORMS[form]
    study = tmp_path / "s.toml"
    study.write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runs = [["run", "--study", str(study), "--storage", url, "--quiet"],
            ["run", "--study", str(study), "--storage", url, "--workers", "2", "--quiet"],
            ["worker", "--storage", url, "--study-name", "s", "--quiet"],
            ["export", "--storage", url, "--study-name", "s"],
            ["train-best", "--storage", url, "--study-name", "s"],
            ["report", "--storage", url, "--study-name", "s"],
            ["repair", "--storage", url],
            ["compare", "--storage", url, "--samplers", "random", "--seeds", "1",
             "--budget", "2", "--out", str(tmp_path / "cmp")]]
    for argv in runs:
        code = main(argv)
        out, err = capfd.readouterr()
        assert not any(s in out + err for s in secrets), (argv, out, err)
        assert "Traceback" not in err, (argv, err)
        if argv[0] != "repair":
            assert code in (1, 2) and len(err.strip().splitlines()) == 1, (argv, code, err)
            assert "storage" in err
    monkeypatch.setenv("NASGA_STORAGE", url)
    assert main(["worker", "--study-name", "s", "--quiet"]) in (1, 2)
    out, err = capfd.readouterr()
    assert not any(s in out + err for s in secrets) and len(err.strip().splitlines()) == 1
