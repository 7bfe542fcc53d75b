"""Capture what the fact-gathering script prints on real lab hosts: the fast tier's corpus.

Re-capture (as root, Docker running; builds the lab images if needed, about a minute):

    .venv/bin/python -m lab.capture [OUTDIR]        # default: tests/data/gather

One lab host per scenario the fast tests judge, a light sshd-only host, and sound hosts
given the firewalls of tests/test_check_firewall.py, one of each kind the collector reads:
nftables denying in a chain input jumps to; iptables saved for iptables-restore; iptables-legacy
denying, or not, in a chain; iptables-nft on a host without the nft binary; a plain
`iptables` older than 1.8. Each host's policy is resolved from the lab inventory as a run
resolves it; the gathering command (fleetready.gather.facts.command) runs over the same OpenSSH
connection a run uses. Per host: NAME.out, the command's stdout byte for byte, and NAME.json:
scenario, marker, timeout, the policy used and the profile it came from, the command's
SHA-256, exit code and stderr.

Re-capture whenever a collector's script or the framing changes: the fast tests fail on a
corpus that is not what the current script prints.
"""

import hashlib
import json
import secrets
import sys
from pathlib import Path

import yaml

from fleetready.config.inventory import load_inventory
from fleetready.config.profiles import DEFAULT_PROFILE, resolve_policy
from fleetready.gather.facts import command, sections_for
from fleetready.transport.connections import Connections
from tests.test_check_firewall import IPTABLES_SAVE, iptables_in_chain, nft_in_chain

from . import hostfiles, images
from .fleet import Lab
from .paths import LAB_DIR

ROOT = LAB_DIR.parent
OUTDIR = ROOT / "tests" / "data" / "gather"
TIMEOUT = 30  # --host-timeout's default: the script's per-section `timeout`
SCENARIOS = [
    "sound",
    "firewall_off",
    "missing_images",
    "wrong_image_tag",
    "no_log_forwarding",
    "receiver_down",
    "metrics_down",
    "backup_stale",
    "backup_empty",
    "deis",
]
NO_NFT = "\nmv /usr/sbin/nft /usr/sbin/nft.hidden"
# iptables before 1.8 (CentOS 7): legacy under the plain names only.
PRE_1_8 = (
    "\nrm /usr/sbin/ip*tables-nft* /usr/sbin/ip*tables-legacy*\n"
    "for t in iptables ip6tables; do for s in '' -save -restore; do"
    " ln -sf xtables-legacy-multi /usr/sbin/$t$s; done; done"
)
# host name -> (scenario, shell run on the host once the scenario is applied, its stdin)
HOSTS = {
    **{s.replace("_", "-"): (s, None, None) for s in SCENARIOS},
    "nft-chain": ("sound", "cat >/etc/nftables.conf && nft -f /etc/nftables.conf", nft_in_chain(True)),
    "iptables-saved": (
        "sound",
        "rm /etc/nftables.conf && mkdir -p /var/lib/iptables && cat >/var/lib/iptables/rules-save",
        IPTABLES_SAVE,
    ),
    "iptables-legacy": ("sound", iptables_in_chain("legacy", True), None),
    "iptables-open": ("sound", iptables_in_chain("legacy", False), None),
    # The inner dockerd's iptables-nft rules stay beside ours.
    "iptables-nft": ("sound", iptables_in_chain("nft", True) + NO_NFT, None),
    "iptables-only": ("sound", iptables_in_chain("legacy", True) + NO_NFT + PRE_1_8, None),
}
LIGHT = "light"  # sshd-only host: no firewall tools, no Docker; fleetready's default profile
PROFILES = {"deis": "deis-v1"}  # as tests/test_deis_profile.py judges Deis hosts


def start(lab: Lab) -> None:
    lab.add_host(LIGHT)
    for name, (scenario, _, _) in HOSTS.items():
        lab.add_host(name, "full", scenario)
    lab.up()
    for name, (_, setup, stdin) in HOSTS.items():
        if setup:
            lab.host(name).check(setup, input=stdin)


def targets(lab, path):
    """The captured hosts as InventoryHost, from the lab inventory with PROFILES set."""
    inventory = yaml.safe_load(lab.files["inventory"].read_text())
    hosts = inventory["all"]["children"]["lab"]["hosts"]
    for name, profile in PROFILES.items():
        hosts[name]["fleetready_profile"] = profile
    path.write_text(yaml.safe_dump(inventory))
    return [t for t in load_inventory(str(path)).select(None) if t.name in HOSTS or t.name == LIGHT]


def profile_of(lab, target) -> str:
    """The host's profile as tests resolve it again: a name, or lab/profile.yaml for the lab's
    copy of it (which differs in the CA path only, no part of the gathering script)."""
    profile = target.vars.get("fleetready_profile", DEFAULT_PROFILE)
    return str(hostfiles.PROFILE.relative_to(ROOT)) if profile == str(lab.files["profile"]) else profile


def capture(lab, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    for old in [*outdir.glob("*.json"), *outdir.glob("*.out")]:  # no host of an older capture lingers
        old.unlink()
    connections = Connections(ssh_config=str(lab.files["ssh_config"]))
    try:
        for target in targets(lab, lab.state_dir / "capture-inventory.yml"):
            policy = resolve_policy(target, str(ROOT / "profiles"))
            marker = "@@fleetready-" + secrets.token_hex(8)  # as fleetready.gather.facts.gather makes it
            sent = command(sections_for(policy), marker, TIMEOUT)
            result = connections.host(target).run(sent)
            (outdir / f"{target.name}.out").write_bytes(result.stdout_bytes)
            meta = {
                "scenario": HOSTS.get(target.name, (None,))[0],
                "marker": marker,
                "timeout": TIMEOUT,
                "policy": policy,
                "profile": profile_of(lab, target),
                # what the corpus is a recording of: tests tell a stale one by it
                "script_sha256": hashlib.sha256(sent.encode()).hexdigest(),
                "exit_code": result.rc,
                "stderr": result.stderr_bytes.decode("utf-8", "replace"),
            }
            (outdir / f"{target.name}.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
            print(f"{target.name}: {len(result.stdout_bytes)} bytes, exit {result.rc}")
    finally:
        connections.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    outdir = Path(argv[0]) if argv else OUTDIR
    images.build_all()
    lab = Lab()
    try:
        start(lab)
        capture(lab, outdir)
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
