"""The files a lab hands to fleetready and to ssh: inventory.yml, profile.yaml, ssh_config,
known_hosts."""

from pathlib import Path

import yaml

from . import keys, pki
from .paths import LAB_DIR

PROFILE = LAB_DIR / "profile.yaml"


def write_profile(path: Path) -> None:
    """lab/profile.yaml with the CA of this lab cache (FLEETREADY_LAB_CACHE): hosts' certificates
    are judged against the CA that signed them, never one left by another cache."""
    profile = yaml.safe_load(PROFILE.read_text())
    for endpoint in profile["tls"]["endpoints"]:
        endpoint["ca_file"] = str(pki.CA_CERT)
    path.write_text(yaml.safe_dump(profile, sort_keys=False))


def write(state_dir: Path, hosts: list) -> dict:
    """hosts: LabHost objects with an address. Returns {"inventory", "profile", "ssh_config",
    "known_hosts"}."""
    paths = {
        k: state_dir / f
        for k, f in [
            ("inventory", "inventory.yml"),
            ("profile", "profile.yaml"),
            ("ssh_config", "ssh_config"),
            ("known_hosts", "known_hosts"),
        ]
    }
    write_profile(paths["profile"])
    reachable = [h for h in hosts if h.address]
    host_key = keys.host_public()
    paths["known_hosts"].write_text("".join(f"{h.address} {host_key}\n" for h in reachable))
    # A ControlPath makes testinfra's ssh backend reuse one connection per host (lab-notes);
    # kept short under /tmp because unix socket paths are limited to 108 bytes.
    paths["ssh_config"].write_text(
        "".join(
            f"Host {h.address}\n"
            f"  User root\n"
            f"  IdentityFile {keys.CLIENT_KEY}\n"
            f"  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {paths['known_hosts']}\n"
            f"  StrictHostKeyChecking yes\n"
            f"  ControlMaster auto\n"
            f"  ControlPath /tmp/{state_dir.name}-%C\n"
            f"  ControlPersist 30s\n"
            for h in reachable
        )
    )
    lab_hosts = {
        h.name: {
            "ansible_host": h.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
            "ansible_connection": "ssh",
        }
        for h in reachable
    }
    # Scenario hosts are judged against the lab profile (which `sound` satisfies); the log
    # receiver and plain hosts keep fleetready's default profile.
    for h in reachable:
        if h.scenario and h.scenario != "receiver":
            lab_hosts[h.name]["fleetready_profile"] = str(paths["profile"])
    groups = {"lab": {"hosts": lab_hosts}}
    for h in reachable:
        groups.setdefault(h.kind, {"hosts": {}})["hosts"][h.name] = None
    paths["inventory"].write_text(yaml.safe_dump({"all": {"children": groups}}, sort_keys=False))
    return paths
