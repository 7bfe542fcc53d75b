"""The shell sent to hosts: the .sh files in sh/ beside this module, static text, with every
value (from a policy, an inventory, a token) passed as an argument, never formatted into it."""

import functools
import importlib.resources
import shlex

# The last line of every script: run the function its first argument names, with the others.
RUN = '"$@"\n'


@functools.cache
def script(*names):
    """The named sh/ files as sent, one after another, then RUN."""
    folder = importlib.resources.files(__package__) / "sh"
    return "".join(sent((folder / name).read_text()) for name in names) + RUN


def sent(text):
    """A sh/ file without its comment lines and indentation, which are for its readers: half its
    bytes, on every remote command. Every quoted string in sh/ stays on one line, so none loses
    a character (tests/test_fast_shell.py compares the functions as bash reads them)."""
    lines = (line.strip() for line in text.splitlines())
    return "".join(line + "\n" for line in lines if line and not line.startswith("#"))


def command(text, function, *args, timeout=None):
    """One remote command: /bin/sh runs FUNCTION of the script `text` with ARGS, each an argument
    of its own, under `timeout` seconds if given. $0 is /bin/sh, so a script can start its own
    shell again (sh/gather.sh)."""
    limit = ["timeout", str(int(timeout))] if timeout else []
    return shlex.join([*limit, "/bin/sh", "-c", text, "/bin/sh", function, *map(str, args)])
