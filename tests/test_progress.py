"""Progress on long runs: a line per tenth of the fleet, hosts done and failures so far."""

import re

from tests.conftest import run_fleetready


def test_progress_lines_count_hosts_and_failures_without_flooding(make_lab):
    lab = make_lab(sshd=20)
    code, results, output = run_fleetready(
        ["--inventory", str(lab.files["inventory"]), "--ssh-config", str(lab.files["ssh_config"])]
    )
    lines = re.findall(r"fleetready: (\d+)/20 hosts done, (\d+) results failing on (\d+) hosts", output)
    assert 5 <= len(lines) <= 10, output
    done = [int(d) for d, _, _ in lines]
    assert done == sorted(done) and done[-1] == 20
    # Light hosts have no firewall: FR-FW-01 fails once on each, and the last line says so.
    assert lines[-1][1:] == ("20", "20")
    assert code == 1
