"""Remediation against real lab hosts: preseeding images, the max-hosts budget, idempotency."""

import pytest

from remediations import audit
from tests.conftest import run_fleetready
from tests.labrun import lab_inventory

IMAGES = ["fleetready-lab/app:1.0", "fleetready-lab/worker:1.0"]
LIST = "docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort"


def results_of(results, control):
    return {r["host"]: r for r in results["results"] if r["control"] == control}


@pytest.fixture(scope="module")
def lab(make_lab, tmp_path_factory):
    lab = make_lab(full={"mirror": "missing_images", "direct": "missing_images"})
    for ref in IMAGES:
        lab.registry.push(ref)
    tmp = tmp_path_factory.mktemp("remediate-images")
    # `direct` names the registry in its policy; `mirror` pulls through the engine's mirror.
    lab_inventory(lab, tmp / "inventory.yml", policies={"direct": {"images": {"registry": lab.registry.address}}})
    return lab, str(tmp / "inventory.yml"), tmp


def apply(lab, inventory, log, *extra):
    return run_fleetready(
        [
            "--inventory",
            inventory,
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "-k",
            "FR-IMG-01",
            "--remediate=apply",
            "--remediation-log",
            str(log),
            *extra,
        ]
    )


def test_max_hosts_then_fixed_then_idempotent(lab):
    lab, inventory, tmp = lab
    log = tmp / "audit.jsonl"
    code, results, output = apply(lab, inventory, log, "--remediate-max-hosts", "1")
    checks = results_of(results, "FR-IMG-01")
    outcomes = sorted(checks[h]["remediation"]["result"] for h in ("mirror", "direct"))
    assert outcomes == ["fixed", "skipped: max hosts"], output
    fixed = next(h for h in ("mirror", "direct") if checks[h]["remediation"]["result"] == "fixed")
    skipped = ({"mirror", "direct"} - {fixed}).pop()
    assert checks[fixed]["outcome"] == "pass"
    assert checks[skipped]["outcome"] == "fail"  # nothing was done: the check stays failed
    assert code == 1

    # The second run fixes the other host and leaves the fixed one alone.
    code, results, output = apply(lab, inventory, log)
    checks = results_of(results, "FR-IMG-01")
    assert checks[skipped]["outcome"] == "pass" and checks[skipped]["remediation"]["result"] == "fixed"
    assert checks[fixed]["outcome"] == "pass" and "remediation" not in checks[fixed]

    records = audit.read(log)
    assert [r["result"] for r in records if r["host"] == skipped] == ["skipped: max hosts", "fixed"]
    for r in (r for r in records if r["result"] == "fixed"):
        assert r["before"]["outcome"] == "fail" and r["after"]["outcome"] == "pass"
        assert r["commands"][0]["rc"] == 0 and "xargs -P 4" in r["commands"][0]["command"]
    direct = next(r for r in records if r["host"] == "direct" and r["result"] == "fixed")
    assert lab.registry.address in direct["commands"][0]["command"]

    # Applying the same commands again changes nothing.
    for r in (r for r in records if r["result"] == "fixed"):
        host = lab.host(r["host"])
        before = host.check(LIST)
        for command in r["commands"]:
            host.check(command["command"])
        assert host.check(LIST) == before
