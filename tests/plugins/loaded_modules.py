"""Test plugin: the modules a run imported, written one a line at its end.

Load with `-p tests.plugins.loaded_modules`; FLEETREADY_MODULES_FILE names the file.
"""

import os
import sys


def pytest_unconfigure(config):
    with open(os.environ["FLEETREADY_MODULES_FILE"], "w") as f:
        f.write("\n".join(sorted(sys.modules)))
