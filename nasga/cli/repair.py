"""``nasga repair``: a journal file a crash or a full disk left torn (:mod:`nasga.storages.journal`)."""

from __future__ import annotations

import argparse

from nasga.errors import NasgaInputError


def add_repair(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "repair", help="repair a journal file a crash or a full disk left torn",
        description="Keep every complete record of a journal storage; move the damaged bytes "
                    "(a torn last line, stray bytes) to FILE.torn-OFFSET. Takes the journal's "
                    "lock, so it is safe while workers run. SQLite and PostgreSQL need no "
                    "repair: they roll back a torn write themselves.",
        example="nasga repair --storage journal:///studies/unet.log")
    p.add_argument("--storage", required=True, metavar="URL", help="journal:///FILE.log")
    p.set_defaults(func=_cmd_repair)


def _cmd_repair(args: argparse.Namespace) -> int:
    from nasga.errors import check_path
    from nasga.storages.journal import repair
    from nasga.storages.storage import check_journal_access, journal_path, redact, storage_kind

    if storage_kind(args.storage) != "journal":
        print(f"{redact(args.storage)}: nothing to repair (only journal files can be torn; "
              "SQLite and PostgreSQL roll back a torn write)")
        return 0
    path = check_path("storage", journal_path(args.storage))
    if not path.is_file():
        raise NasgaInputError("storage", f"no journal file {str(path)!r} (nothing created)")
    check_journal_access(path, readonly=False)  # repair takes the lock and may rewrite the file
    print(repair(path).line())
    return 0
