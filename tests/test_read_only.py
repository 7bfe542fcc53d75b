"""The scan is read-only: one full run of every check leaves every kind of lab host as it
found it. A fingerprint of each host is taken before and after (through `docker exec`, not
the suite's own ssh), and the two must be equal.

Allowed differences: none from sshd's logins in what is fingerprinted (its traces are in
/var/log and /run, which are not), and the opt-in log canary's line, which goes to the
syslog daemon and on to the receiver (/var/log: not fingerprinted either). That line is the
suite's one designed trace (README, "Logging").
"""

import re
import time

import pytest
import yaml

from lab.capture import HOSTS, LIGHT
from tests.conftest import run_fleetready

# One lab host of each kind, name -> (scenario, set-up shell, its stdin): nftables with an inner Docker
# engine, iptables-nft with no nft binary, iptables-legacy, the Deis-like host, one that
# drains through the Docker log driver (its canary is a container, removed again); plus no
# firewall and no Docker at all (the light host) and the log receiver the lab adds.
KINDS = {
    "nftables": HOSTS["sound"],
    "iptables-nft": HOSTS["iptables-nft"],
    "iptables-legacy": HOSTS["iptables-legacy"],
    "deis": HOSTS["deis"],
    "docker-log-driver": ("docker_log_driver", None, None),
}
FINGERPRINT = r"""
export LC_ALL=C
for c in 'nft list ruleset' iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save; do
  echo "== $c"; $c 2>&1
done
for f in /proc/net/ip_tables_names /proc/net/ip6_tables_names /proc/modules /run/xtables.lock; do
  echo "== $f"; cat "$f" 2>&1
done
echo "== files"
find /etc /var/lib /var/tmp /tmp /root -xdev -printf '%p %y %m %s %T@\n' 2>&1 | sort
echo "== processes"
ps -eo args= 2>&1 | sort
echo "== docker"
if command -v docker >/dev/null; then
  docker ps -a --no-trunc --format '{{.ID}} {{.Image}} {{.Names}} {{.State}}' 2>&1 | sort
  docker images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' 2>&1 | sort
fi
"""
# What changes on a host by itself, run or no run: save-file headers with the time, packet
# counters, the fingerprint's own processes, module use counts.
NOISE = [
    (re.compile(r"^# (Generated|Completed) .*$", re.M), ""),
    (re.compile(r"\[\d+:\d+\]"), "[n:n]"),
    (re.compile(r"counter packets \d+ bytes \d+"), "counter"),
    (re.compile(r"^(\S+ \d+) \d+ .*$", re.M), r"\1"),  # /proc/modules: name, size only
    # ([name] <defunct>: one of them exiting as ps looks)
    (re.compile(r"^(\[(sh|ps|sort|find|docker)\]|sh -c|ps -eo|sort|find /etc|docker (ps|images))( .*)?\n", re.M), ""),
]


def fingerprint(host):
    text = host.check(FINGERPRINT)
    for pattern, replacement in NOISE:
        text = pattern.sub(replacement, text)
    return text.splitlines()


def sessions(host):
    """sshd processes serving a login (the listener is `sshd -D -e`, the lab's init)."""
    return [line for line in fingerprint(host) if line.startswith("sshd:")]


@pytest.fixture(scope="module")
def lab(make_lab):
    lab = make_lab(full={name: scenario for name, (scenario, _, _) in KINDS.items()}, start=False)
    lab.add_host(LIGHT)
    lab.up()
    for name, (_, setup, stdin) in KINDS.items():
        if setup:
            lab.host(name).check(setup, input=stdin)
    return lab


def write_inventory(lab, path, connection):
    """The lab inventory over `connection`, the Deis-like host judged by the deis-v1 profile."""
    inventory = yaml.safe_load(lab.files["inventory"].read_text())
    for name, entry in inventory["all"]["children"]["lab"]["hosts"].items():
        entry["ansible_connection"] = connection
        if name == "deis":
            entry["fleetready_profile"] = "deis-v1"
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


@pytest.mark.parametrize("connection", ["ssh", "paramiko"])
def test_a_full_run_of_every_check_changes_nothing_on_any_kind_of_host(lab, tmp_path, connection):
    names = list(lab.hosts)
    inventory = write_inventory(lab, tmp_path / "inventory.yml", connection)
    before = {name: fingerprint(lab.host(name)) for name in names}
    code, results, output = run_fleetready(["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"])])
    assert results is not None, output
    assert {r["host"] for r in results["results"]} == set(names)
    canary = {r["host"]: r["outcome"] for r in results["results"] if r["control"] == "FR-LOG-02"}
    assert canary["docker-log-driver"] == "pass", output  # its container did run
    # The run closed its connections: the login sessions end (sshd exits as the client goes).
    deadline = time.monotonic() + 30
    while any(sessions(lab.host(n)) for n in names) and time.monotonic() < deadline:
        time.sleep(0.5)
    for name in names:
        after = fingerprint(lab.host(name))
        added = sorted(set(after) - set(before[name]))
        removed = sorted(set(before[name]) - set(after))
        assert (added, removed) == ([], []), f"{name} changed by the run"
