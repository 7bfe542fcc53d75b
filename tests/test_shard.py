"""--shard I/N: every host in exactly one shard, and a host's shard does not move; shards' results
merge into one report."""

import json
from types import SimpleNamespace

import pytest

from fixtures.targets import shard
from fleetready.config.errors import ConfigError
from fleetready.config.inventory import load_inventory
from reports.merge import run
from reports.results import document
from tests.files import write


@pytest.fixture
def hosts(tmp_path):
    inventory = write(tmp_path, "inv.ini", "[web]\nweb[001:200].example.com\n[db]\ndb[1:37]\n")
    return load_inventory(str(inventory)).select(None)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_shards_cover_every_host_exactly_once(hosts, count):
    shards = [shard(hosts, f"{i}/{count}") for i in range(1, count + 1)]
    names = [t.name for part in shards for t in part]
    assert sorted(names) == sorted(t.name for t in hosts)
    assert len(names) == len(set(names))
    if count > 1:  # roughly even: no shard holds twice its share
        assert max(len(part) for part in shards) < 2 * len(hosts) / count


def test_a_hosts_shard_does_not_move_when_the_inventory_changes(hosts):
    before = {t.name for t in shard(hosts, "2/4")}
    after = {t.name for t in shard(hosts[:150], "2/4")}
    assert after == before & {t.name for t in hosts[:150]}


@pytest.mark.parametrize("spec", ["0/3", "4/3", "x/3", "1", "1/0", ""])
def test_bad_shard_spec_is_a_clear_error(hosts, spec):
    with pytest.raises(ConfigError, match="expected I/N"):
        shard(hosts, spec)


def test_ten_shards_of_ten_thousand_hosts_merge_into_one_report(tmp_path):
    """Each CI runner checks its shard; `python -m reports merge` joins them: every host once,
    in the JSON and in the HTML report."""
    hosts = [SimpleNamespace(name=f"host{i:05d}") for i in range(10_000)]
    checks = [("FR-HOST-01", "test_facts_gathered"), ("FR-FW-01", "test_firewall_configured")]
    paths = []
    for index in range(1, 11):
        records = [
            {
                "nodeid": f"checks/x.py::{check}[{t.name}]",
                "host": t.name,
                "check": check,
                "control": control,
                "severity": "high",
                "requirement": None,
                "phase": "call",
                "evidence": None,
                "duration": 0.1,
                "outcome": "fail" if t.name.endswith("7") and control == "FR-FW-01" else "pass",
                "message": "",
            }
            for t in shard(hosts, f"{index}/10")
            for control, check in checks
        ]
        path = tmp_path / f"results-{index}.json"
        path.write_text(json.dumps(document(records, 1000.0 + index, 2000.0 + index, 1)))
        paths.append(str(path))
    merged = run(paths, str(tmp_path / "results.json"), html_out=str(tmp_path / "report.html"))
    pairs = [(r["host"], r["control"]) for r in merged["results"]]
    assert len(pairs) == len(set(pairs)) == 20_000
    assert {host for host, _ in pairs} == {t.name for t in hosts}
    assert merged["summary"]["hosts"] == 10_000 and merged["summary"]["outcomes"]["fail"] == 1_000
    html = (tmp_path / "report.html").read_text()
    assert "10000 hosts" in html and "results-10.json" in html
