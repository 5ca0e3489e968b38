"""The run history: what each run decided and what happened, never its prompt or a secret.

Owns: the record shape (``record``), the SQLite store and its migrations (``store``,
``migrations``), filters for ``history`` (``query``), the aggregates of ``stats`` (``stats``),
each path's newest attempts for the adaptive health model (``attempts``), each run's recorded
decision streamed for ``replay`` (``decisions``), the user's marks
(``store.mark_run``) and the reading of the earlier cost router's log for ``history import``
(``legacy``), and the team history: the local runs synced to PostgreSQL, ``stats --team``
(``team``).

Side effects: ``<state_dir>/history.sqlite3``; with a team URL (``team``), the sync mark
``<state_dir>/team-sync.sqlite3``, the PostgreSQL database and the background sync process.

May import: errors, dirs, redact
"""

#: The history's file in the state directory. Here, not in ``store``: a dry run checks that a
#: history exists without importing the store and sqlite3.
HISTORY_FILE_NAME = "history.sqlite3"
