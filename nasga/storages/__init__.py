"""Storage plumbing around Optuna's storages (SQLite, journal file, PostgreSQL).

``storage`` (URLs, opening, faults, the stored config), ``heartbeat`` (dead workers),
``journal`` (journal files that survive a torn tail) and ``redact`` (passwords never shown).
"""
