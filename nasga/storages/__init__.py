"""Storage plumbing around Optuna's storages (SQLite, journal file, PostgreSQL).

``storage`` (URLs, opening, faults, the stored config), ``handle`` (a study's storage and ids
through public storage methods), ``heartbeat`` (dead workers),
``journal`` (journal files that survive a torn tail) and ``redact`` (passwords never shown).
"""
