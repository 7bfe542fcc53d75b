"""The remediation audit log: one JSON line per action, appended, never rewritten.

Opened with O_APPEND and written with a single write() per record, so the lines of
concurrent runs on one controller never interleave; records are kept short (outputs are
clipped) so that a line is one small write.
"""

import json
import os


def append(path, record):
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read(path):
    """Every record of an audit log (for tests and tools)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
