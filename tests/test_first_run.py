"""The first run on a fresh machine (no arguments: this machine over a local connection) reads
as a report on the machine, not as the tool being broken: the header says what is checked, a
requirement that cannot apply here is skipped with its reason, and each finding is printed
once, with no exception class names."""

import pytest
import yaml

from tests.conftest import run_fleetready

pytestmark = pytest.mark.e2e  # runs fleetready end to end per test (no Docker)


# bin/fleetready's traceback style, and pytest's own default (a plain `pytest` run).
@pytest.mark.parametrize("style", [["--tb=line"], []], ids=["tb-line", "tb-auto"])
def test_the_header_names_hosts_and_profile_and_ports_are_skipped_on_a_local_connection(style):
    code, results, output = run_fleetready(style)
    assert "fleetready: 1 host: local" in output and "profile: docker-host" in output, output
    ports = next(r for r in results["results"] if r["control"] == "FR-FW-02")
    assert ports["outcome"] == "skipped" and "local connection" in ports["message"], ports
    assert "ERROR at setup" not in output and "ProbeError" not in output and "Traceback" not in output


def test_the_header_lists_a_fleet_and_its_profiles(tmp_path):
    hosts = {f"web{i:02}": {"ansible_host": "127.0.0.1", "ansible_port": 1} for i in range(12)}
    hosts["web11"]["fleetready_profile"] = "deis-v1"
    (tmp_path / "inv.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    code, _, output = run_fleetready(["--inventory", str(tmp_path / "inv.yml"), "--collect-only"])
    assert code == 0, output
    assert (
        "fleetready: 12 hosts: web00, web01, web02, web03, web04, web05, web06, web07, web08, web09, "
        "and 2 more" in output
    )
    assert "profiles: deis-v1 (1 host), docker-host (11 hosts)" in output


@pytest.mark.parametrize(
    "style", [["--tb=line"], [], ["--tb=line", "-n", "2"]], ids=["tb-line", "tb-auto", "tb-line-xdist"]
)  # xdist: sent from a worker
def test_each_finding_is_printed_once(tmp_path, style):
    # A metrics URL nothing answers: one finding this machine fails whatever its firewall.
    (tmp_path / "inv.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "here": {
                            "ansible_connection": "local",
                            "fleetready_policy": {"monitoring": {"metrics_url": "http://127.0.0.1:1/metrics"}},
                        }
                    }
                }
            }
        )
    )
    code, results, output = run_fleetready([*style, "--inventory", str(tmp_path / "inv.yml")])
    failing = {r["control"]: r["message"] for r in results["results"] if r["outcome"] in ("fail", "error")}
    assert code == 1 and "FR-MON-01" in failing, output
    for control, message in failing.items():  # FR-FW-01 too, on a machine without a firewall
        assert output.count(message) == 1, (control, output)
    assert "AssertionError" not in output
