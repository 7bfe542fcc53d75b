"""The `fleetready` command of an installed fleetready: pytest with the shipped checks.

Every pytest and fleetready option passes through (`fleetready --inventory prod.ini --limit
web`); with no --inventory or --hosts it checks this machine. The package directory is the
rootdir, so results are named as from a checkout (`checks/test_tls.py::...[host]`), and
baselines and history compare across the two.
"""

import os
import sys
from pathlib import Path

from fleetready import __version__

PACKAGE = Path(__file__).resolve().parent


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if "--version" in args or "-V" in args:
        print(f"fleetready {__version__}")
        return 0
    # A fresh interpreter, as bin/fleetready does: pytest rewrites the asserts of a plugin's
    # package only if it imports it first, and this one is already imported. PYTHONSAFEPATH:
    # nothing in the caller's directory (a fleetready/ of its own, say) is imported instead.
    # --tb=line: a failed check is its host, file and finding; the traceback adds nothing.
    # -r sX: skip reasons, no short summary repeating each failure (as pytest.ini in a checkout).
    os.execve(
        sys.executable,
        [
            sys.executable,
            "-m",
            "pytest",
            "--rootdir",
            str(PACKAGE),
            "-p",
            "no:cacheprovider",
            "--tb=line",
            "-r",
            "sX",
            *args,
        ],
        {**os.environ, "PYTHONSAFEPATH": "1"},
    )


if __name__ == "__main__":
    sys.exit(main())
