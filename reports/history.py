"""--history FILE: every run in SQLite (runs, and their results), for changes and trends.

A run is written in one transaction, so a run killed while writing leaves the database as it
was. Interrupted runs (exit status 2) are not recorded: their partial results would read as
a fleet that shrank.
"""

import pytest

from fleetready.config.errors import ConfigError
from fleetready.outcome.outcomes import summary

from .results import results_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,
    exit_status INTEGER,
    hosts INTEGER NOT NULL,
    results INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    unreachable INTEGER NOT NULL,
    waived INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    compliance REAL,
    source TEXT
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    nodeid TEXT NOT NULL,
    host TEXT,
    check_name TEXT,
    control TEXT,
    severity TEXT,
    outcome TEXT NOT NULL,
    message TEXT,
    reason TEXT,
    duration REAL,
    PRIMARY KEY (run_id, nodeid)
);
"""
COLUMNS = ("nodeid", "host", "check", "control", "severity", "outcome", "message", "reason", "duration")
# `check` is an SQL keyword, so its column is check_name.
SELECT = ", ".join(f'{"check_name" if c == "check" else c} AS "{c}"' for c in COLUMNS)


def _connect(path):
    # sqlite3 (a few ms of start-up) only for a run with --history, or one comparing against it.
    import sqlite3

    try:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.executescript(SCHEMA)
    except sqlite3.Error as e:
        raise ConfigError(path, f"not a fleetready history database: {e}") from None
    return db


def previous_run(path):
    """The last recorded run with its results, or None."""
    db = _connect(path)
    try:
        run = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if run is None:
            return None
        rows = db.execute(f"SELECT {SELECT} FROM results WHERE run_id = ?", (run["id"],)).fetchall()
        return dict(run, results=[dict(r) for r in rows])
    finally:
        db.close()


def trend(path, limit=30):
    """The last `limit` runs, oldest first: [{"id", "started", "compliance", ...}]."""
    db = _connect(path)
    try:
        rows = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(r) for r in reversed(rows)]
    finally:
        db.close()


def record_run(path, records, started, finished, exit_status, source="run"):
    """Append one run and its results in a single transaction; returns the run id."""
    records = list(records)
    s = summary(records)
    n = s["outcomes"]
    db = _connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        cursor = db.execute(
            "INSERT INTO runs (started, finished, exit_status, hosts, results, passed, failed, errors,"
            " unreachable, waived, skipped, compliance, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                started,
                finished,
                int(exit_status),
                s["hosts"],
                s["results"],
                n["pass"],
                n["fail"],
                n["error"],
                n["unreachable"],
                n["waived"],
                n["skipped"],
                s["compliance"],
                source,
            ),
        )
        run_id = cursor.lastrowid
        db.executemany(
            "INSERT INTO results (run_id, nodeid, host, check_name, control, severity, outcome, message,"
            " reason, duration) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(run_id, *(r.get(c) for c in COLUMNS)) for r in records],
        )
        db.execute("COMMIT")
        return run_id
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()


def pytest_sessionfinish(session):
    path = session.config.option.history
    results = results_of(session.config)
    if path and results is not None and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        record_run(path, results.records.values(), results.started, results.finished, session.exitstatus)
