"""Running fleetready over lab hosts, each lab host under as many inventory names as a test
needs, each name with its own policy override (several policies judged on one host's facts)."""

import yaml

from tests.conftest import run_fleetready


def host_vars(lab, name):
    """The lab inventory's variables of lab host `name` (address, key, profile)."""
    return dict(yaml.safe_load(lab.files["inventory"].read_text())["all"]["children"]["lab"]["hosts"][name])


def lab_inventory(lab, path, extra=None, policies=None):
    """The lab's inventory plus `extra` hosts ({name: vars}) in its `lab` group, and
    `policies` ({lab host name: fleetready_policy}) set on its hosts; written to path."""
    inventory = yaml.safe_load(lab.files["inventory"].read_text())
    hosts = inventory["all"]["children"]["lab"]["hosts"]
    hosts.update(extra or {})
    for name, policy in (policies or {}).items():
        hosts[name]["fleetready_policy"] = policy
    path.write_text(yaml.safe_dump(inventory))
    return str(path)


def run_cases(lab, cases, path, keyword):
    """cases: {inventory name: (lab host name, fleetready_policy override or None)}. Runs the
    checks matching `keyword` over exactly those names; returns the JSON results."""
    hosts = {}
    for name, (lab_host, policy) in cases.items():
        hosts[name] = host_vars(lab, lab_host)
        if policy is not None:
            hosts[name]["fleetready_policy"] = policy
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    code, report, output = run_fleetready(
        ["-k", keyword, "--inventory", str(path), "--ssh-config", str(lab.files["ssh_config"])]
    )
    assert report is not None, output
    return report
