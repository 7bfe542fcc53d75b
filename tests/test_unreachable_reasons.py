"""Why a host did not answer, as a whole run reports it (no Docker: hosts on closed loopback ports)."""

import pytest
import yaml

from tests.conftest import run_fleetready


@pytest.mark.e2e
def test_refused_hosts_are_refused_while_paramiko_is_first_imported(tmp_path):
    """paramiko is imported on first use, by the thread of the first host that connects with it.
    Hosts whose connections fail meanwhile (OpenSSH's fail in milliseconds) are refused as
    the others are: never an error, never a timeout."""
    hosts = {
        f"r{i:02d}": {"ansible_host": "127.0.0.1", "ansible_port": 1, "ansible_connection": "ssh" if i else "paramiko"}
        for i in range(16)
    }
    (tmp_path / "inv.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    code, results, output = run_fleetready(
        ["--inventory", str(tmp_path / "inv.yml"), "--insecure-host-keys", "--host-timeout", "60"]
    )
    assert code == 1, output
    reasons = {(r["host"], r.get("reason")) for r in results["results"] if r["outcome"] != "skipped"}
    assert reasons == {(name, "refused") for name in hosts}, output
