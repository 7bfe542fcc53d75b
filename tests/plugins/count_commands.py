"""Test plugin: counts the remote commands sent to each host (every testinfra backend's run).

Load with `-p tests.plugins.count_commands`; FLEETREADY_COUNT_FILE names the JSON file that
gets {host: count} at the end of the run.
"""

import collections
import json
import os

from testinfra.backend.docker import DockerBackend
from testinfra.backend.local import LocalBackend
from testinfra.backend.paramiko import ParamikoBackend
from testinfra.backend.ssh import SshBackend

COUNTS = collections.Counter()


def _counting(run):
    def counted(self, command, *args, **kwargs):
        COUNTS[self.hostname] += 1
        return run(self, command, *args, **kwargs)

    return counted


for backend in (SshBackend, ParamikoBackend, DockerBackend, LocalBackend):
    backend.run = _counting(backend.run)


def pytest_unconfigure(config):
    with open(os.environ["FLEETREADY_COUNT_FILE"], "w") as out:
        json.dump(dict(COUNTS), out)
