"""The shell sent to hosts (the sh/ files beside fleetready/gather/shell.py): shellcheck finds
nothing in any of them, and what is sent, each file without its comments and indentation, is
the same code: bash reads the same functions from both."""

import shutil
import subprocess
from pathlib import Path

import pytest

from fleetready.gather import shell

FILES = sorted((Path(shell.__file__).parent / "sh").glob("*.sh"))


def test_shellcheck_finds_nothing():
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (bin/selftest installs it)")
    found = subprocess.run(["shellcheck", "--format=gcc", *map(str, FILES)], capture_output=True, text=True)
    assert found.returncode == 0 and FILES, found.stdout + found.stderr


def functions(text):
    """The functions a script defines, as bash prints them back (no comments, its own layout)."""
    return subprocess.run(
        ["bash", "-c", 'eval "$1" && declare -f', "bash", text], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_what_is_sent_is_the_file(path):
    text = path.read_text()
    defined = functions(text)
    assert defined.startswith("fr_") and functions(shell.sent(text)) == defined
