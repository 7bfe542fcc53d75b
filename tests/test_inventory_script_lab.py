"""Checks run on real lab hosts listed by an executable inventory script: the hosts, groups and
connection variables come from the script's JSON alone."""

import json

from lab import keys
from tests.conftest import run_fleetready


def test_checks_run_on_hosts_from_an_inventory_script(make_lab, tmp_path):
    lab = make_lab(sshd=2)
    lab_vars = {
        "ansible_user": "root",
        "ansible_connection": "ssh",
        "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
    }
    listing = {
        "lab": {"hosts": ["sshd0", "sshd1", "closed"], "vars": lab_vars},
        "_meta": {
            "hostvars": {
                "sshd0": {"ansible_host": lab.host("sshd0").address},
                "sshd1": {"ansible_host": lab.host("sshd1").address},
                # A lab host's address on a port nothing listens on: the script's port is the one used.
                "closed": {"ansible_host": lab.host("sshd0").address, "ansible_port": 1},
            }
        },
    }
    script = tmp_path / "inventory.sh"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(listing)}\nEOF\n")
    script.chmod(0o755)
    code, results, output = run_fleetready(
        ["--inventory", str(script), "--ssh-config", str(lab.files["ssh_config"]), "-k", "FR-HOST-01"]
    )
    assert results is not None, output
    outcomes = {r["host"]: r["outcome"] for r in results["results"]}
    assert outcomes == {"sshd0": "pass", "sshd1": "pass", "closed": "unreachable"}
    reason = next(r["reason"] for r in results["results"] if r["host"] == "closed")
    assert reason == "refused" and code == 1
