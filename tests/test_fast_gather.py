"""What real lab hosts print to the gathering script, replayed without Docker: the framing and
every collector's parser on real output, and the facts each scenario is about.

The corpus, tests/data/gather (NAME.out: the script's stdout; NAME.json: scenario, marker,
timeout, policy and profile, exit code, stderr), is recorded by `python -m lab.capture`. Each host's
policy is resolved again from its profile, as a run would today, and its gathering command
must still be the recorded one. Expectations come from what lab/scenarios.yaml set up on
each host, not from what the parsers happened to return.
"""

import functools
import hashlib
import json
import re
from types import SimpleNamespace

import pytest

from fleetready.config.inventory import InventoryHost, VarLayer
from fleetready.config.profiles import resolve_policy
from fleetready.gather.facts import COLLECTORS, FactError, command, gather, parse_output, sections_for
from fleetready.gather.facts_backups import path_files
from fleetready.gather.facts_firewall import nft_deny
from lab.state import resolve
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "data" / "gather"
HOSTS = sorted(p.stem for p in CORPUS.glob("*.json"))
MARKER = re.compile(r"@@fleetready-[0-9a-f]{16}")


@functools.cache
def recorded(name):
    """(metadata, stdout bytes) of a captured host."""
    return json.loads((CORPUS / f"{name}.json").read_text()), (CORPUS / f"{name}.out").read_bytes()


@functools.cache
def policy(name):
    """The host's policy from its recorded profile, with today's schema and defaults."""
    profile = recorded(name)[0]["profile"]
    layer = VarLayer(str(CORPUS), {"fleetready_profile": str(ROOT / profile) if "/" in profile else profile})
    host = InventoryHost(
        name=name,
        address=name,
        port=None,
        user=None,
        connection="ssh",
        groups=("all",),
        vars=layer.vars,
        layers=(layer,),
    )
    return resolve_policy(host, str(ROOT / "profiles"))


def scenario(name):
    """The lab/scenarios.yaml state the host was in."""
    return resolve(recorded(name)[0]["scenario"])


def sections(name):
    meta, stdout = recorded(name)
    return parse_output(stdout, meta["marker"])


class Replay:
    """A testinfra host answering the gathering script with what a lab host printed, under
    the marker of the script it is given (or `stdout` instead, to break the answer)."""

    def __init__(self, name, stdout=None):
        self.meta, recorded_stdout = recorded(name)
        self.stdout = recorded_stdout if stdout is None else stdout

    def run(self, command):
        marker = MARKER.search(command).group().encode()
        return SimpleNamespace(
            rc=self.meta["exit_code"],
            stderr_bytes=self.meta["stderr"].encode(),
            stdout_bytes=self.stdout.replace(self.meta["marker"].encode(), marker),
        )


@functools.cache
def facts(name):
    """The host's Facts as a run gathers them (fleetready.gather.facts.gather), from the recording."""
    return gather(Replay(name), name, policy(name), recorded(name)[0]["timeout"])


def tags(name):
    return {tag for image in facts(name)["images"] for tag in image["tags"]}


def test_corpus_has_every_collectors_output():
    assert {name for host in HOSTS for name in sections(host)} == {c.NAME for c in COLLECTORS}


@pytest.mark.parametrize("name", HOSTS)
def test_corpus_is_what_the_current_script_prints(name):
    meta, _ = recorded(name)
    sent = command(sections_for(policy(name)), meta["marker"], meta["timeout"])
    assert hashlib.sha256(sent.encode()).hexdigest() == meta["script_sha256"], (
        "the gathering command changed since tests/data/gather was captured: "
        "re-run `python -m lab.capture` (as root, with Docker)"
    )


@pytest.mark.parametrize("name", HOSTS)
def test_every_section_is_framed_and_parsed(name):
    meta, _ = recorded(name)
    assert (meta["exit_code"], meta["stderr"]) == (0, "")
    assert set(sections(name)) == set(facts(name).values) == set(sections_for(policy(name)))
    assert facts(name).errors == {}


@pytest.mark.parametrize("name", HOSTS)
def test_system_names_the_host(name):
    system = facts(name)["system"]
    assert system["hostname"] == name and system["os"] == "debian" and system["os_version"] == "12"
    assert int(system["uptime_seconds"]) > 0


# Address families whose input is default-deny: live, and per saved ruleset.
BOTH, V4, V6 = ["ipv4", "ipv6"], ["ipv4"], ["ipv6"]
FIREWALLS = {
    "sound": (BOTH, {"/etc/nftables.conf": BOTH}),
    "firewall-off": ([], {"/etc/nftables.conf": []}),
    "nft-chain": (BOTH, {"/etc/nftables.conf": BOTH}),
    "iptables-saved": (BOTH, {"/var/lib/iptables/rules-save": V4}),
    "iptables-legacy": (BOTH, {"/etc/iptables/rules.v4": V4, "/etc/iptables/rules.v6": V6}),
    "iptables-open": ([], {"/etc/iptables/rules.v4": [], "/etc/iptables/rules.v6": []}),
    "iptables-nft": (BOTH, {"/etc/iptables/rules.v4": V4, "/etc/iptables/rules.v6": V6}),
    "iptables-only": (BOTH, {"/etc/iptables/rules.v4": V4, "/etc/iptables/rules.v6": V6}),
    "light": ([], {}),
}


@pytest.mark.parametrize("name, live, saved", [(n, *v) for n, v in FIREWALLS.items()])
def test_firewall_default_deny_live_and_saved(name, live, saved):
    fw = facts(name)["firewall"]
    assert fw["live_deny"] == live and fw["live_errors"] == {}
    assert {path: entry["deny"] for path, entry in fw["saved"].items()} == saved
    assert not any(entry["error"] for entry in fw["saved"].values())
    assert not fw["systemd"] and not fw["ipv6"]  # containers: no init, no IPv6 beyond loopback


def test_firewall_backends_are_read_where_they_live():
    nft_host = sections("iptables-nft")["firewall"].parts()
    assert "nft" not in nft_host and nft_host["iptables-nft"].rc == 0
    # Docker's own nft tables deny nothing: the legacy tables are what deny.
    legacy = sections("iptables-legacy")["firewall"].parts()
    assert nft_deny(legacy["nft"].text) == set() and legacy["iptables-legacy"].rc == 0
    light = facts("light")["firewall"]
    assert "iptables-nft" in light["tools_absent"] and "nft" not in sections("light")["firewall"].parts()


def test_listening_sockets():
    assert {(a, 22) for a in ("0.0.0.0", "::")} | {("0.0.0.0", p) for p in (80, 443, 9100)} <= set(
        map(tuple, facts("sound")["firewall"]["listening"])
    )
    assert 9100 not in {port for _, port in facts("metrics-down")["firewall"]["listening"]}
    assert {("0.0.0.0", 2379), ("0.0.0.0", 4001)} <= set(map(tuple, facts("deis")["firewall"]["listening"]))


# The tags each host's engine holds, as Docker names them (lab/scenarios.yaml's `images`).
APP, WORKER, ALPINE = (
    "docker.io/fleetready-lab/app:1.0",
    "docker.io/fleetready-lab/worker:1.0",
    "docker.io/library/alpine:3.2",
)
IMAGES = {
    "sound": {APP, WORKER, ALPINE},
    "missing-images": {ALPINE},
    "wrong-image-tag": {"docker.io/fleetready-lab/app:0.9", WORKER, ALPINE},
}


@pytest.mark.parametrize("name, expected", IMAGES.items())
def test_images_are_exactly_those_the_scenario_loaded(name, expected):
    assert tags(name) == expected
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", image["id"]) for image in facts(name)["images"])


def test_deis_images_were_pulled_with_digests():
    deis = scenario("deis")["deis"]
    pulled = [f"docker.io/deis/{c}:{deis['release']}" for c in deis["components"]]
    assert tags("deis") == set(pulled) | {ALPINE}
    for image in facts("deis")["images"]:
        name = image["tags"][0].rsplit(":", 1)[0]
        assert [d.split("@")[0] for d in image["digests"]] == [name]


def newest_backup(name):
    """Age in hours (by the host's clock) and size of the newest backup, and every file's size."""
    backups = facts(name)["backups"]
    files = path_files(backups["sources"][0])
    mtime, size, _ = max(files)
    return (backups["now"] - mtime) / 3600, size, [s for _, s, _ in files]


@pytest.mark.parametrize("name", ["sound", "backup-stale", "backup-empty"])
def test_backups_newest_age_and_sizes(name):
    spec = scenario(name)["backups"]
    age, size, sizes = newest_backup(name)
    assert spec["age_hours"] <= age < spec["age_hours"] + 0.25  # captured minutes after setup
    assert len(sizes) == spec["count"]
    if spec["size_bytes"] == 0:
        assert set(sizes) == {0}
    else:
        assert size > 0


LAB_FORWARD = {
    "via": "rsyslog",
    "host": "logs.lab",
    "port": 514,
    "protocol": "tcp",
    "where": "/etc/rsyslog.d/60-fleetready-forward.conf:1",
}


def test_logging_sound_forwards_to_the_drain_which_answers():
    logging = facts("sound")["logging"]
    assert logging["forwards"] == [LAB_FORWARD] and logging["rsyslogd_running"]
    assert logging["drain_addresses"] and logging["reach"] == "0"


def test_logging_stock_rsyslog_forwards_nothing():
    logging = facts("no-log-forwarding")["logging"]
    assert logging["forwards"] == [] and logging["rsyslogd_running"]


def test_logging_drain_resolving_to_the_host_itself_does_not_answer():
    logging = facts("receiver-down")["logging"]
    assert logging["forwards"] == [LAB_FORWARD]
    assert logging["drain_addresses"] != facts("sound")["logging"]["drain_addresses"]
    assert logging["reach"] not in ("0", "untested", None)


def test_monitoring_answers_with_the_expected_metric():
    assert facts("sound")["monitoring"] == {
        "curl_exit": 0,
        "status": 200,
        "error": None,
        "format_error": None,
        "metrics": ["node_up"],
    }


@pytest.mark.parametrize("name, port", [("metrics-down", 9100), ("deis", 8080)])
def test_monitoring_no_answer(name, port):
    monitoring = facts(name)["monitoring"]
    assert monitoring["curl_exit"] == 7 and monitoring["metrics"] is None  # 7: could not connect
    assert f"port {port}" in monitoring["error"]


def test_deis_settings_are_the_etcd_keys_set():
    spec = scenario("deis")
    settings = facts("deis")["deis"]
    assert settings.items() >= spec["etcd"]["keys"].items()
    assert settings["release_file"] == spec["deis"]["release"] and settings["preseed_script"] is True


def test_facts_a_policy_does_not_need_are_not_gathered():
    with pytest.raises(FactError, match="were not gathered"):
        facts("light")["images"]
