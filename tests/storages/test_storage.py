"""Storage URLs and the default storage's file names (``nasga/storages/storage.py``)."""

from __future__ import annotations

import os

from nasga.errors import NAME_MAX
from nasga.search.config import MAX_NAME_LENGTH
from nasga.storages.storage import default_storage, storage_file


def test_every_valid_study_name_has_a_default_file_the_file_system_can_name() -> None:
    names = ["n" * MAX_NAME_LENGTH, "n" * MAX_NAME_LENGTH + "x", "é" * 200, "short name"]
    names[1] = names[1][1:]  # as long as the first, differing only at the end
    for workers in (1, 2):
        files = [storage_file(default_storage(n, workers=workers)) for n in names]
        assert all(f is not None and len(os.fsencode(f.name)) <= NAME_MAX for f in files), files
        assert len({f.name for f in files if f is not None}) == len(names)  # long names stay apart
    assert default_storage("short name") == "sqlite:///studies/short_name.db"  # as before
