"""Waivers: a waived fail is reported as waived with reason and owner, by host, group or all;
expiry warnings; expired waivers no longer apply; bad files stop the run at start-up."""

import datetime

import pytest
import yaml

from tests.conftest import run_fleetready
from tests.test_reports import fleet_args, write_inventory

TODAY = datetime.date.today()
# The images the missing_images scenario lacks (lab/scenarios.yaml).
APP, WORKER = "fleetready-lab/app:1.0", "fleetready-lab/worker:1.0"


def waiver(scope, days, **what):
    return {
        **(what or {"control": "FR-IMG-01"}),
        "scope": scope,
        "reason": f"<b>{scope}</b> accepted",
        "owner": "ops@example.com",
        "expires": (TODAY + datetime.timedelta(days=days)).isoformat(),
    }


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "waivers:\n  - control: FR-IMG-01\n    scope: all\n    reason: r\n    owner: o\n    expires: 2099-01-01\n"
            "    expire: 2099-01-02\n",
            ":7: waivers[0].expire: unknown key; did you mean 'expires'?",
        ),
        (
            "waivers:\n  - control: FR-IMG-01\n    scope: all\n    reason: r\n    expires: 2099-01-01\n",
            ":2: waivers[0]: missing owner:",
        ),
        (
            "waivers:\n  - check: test_x\n    scope: hosts web1\n    reason: r\n    owner: o\n    expires: 2099-01-01\n",
            ":3: waivers[0].scope: expected 'host NAME', 'group NAME' or 'all', got 'hosts web1'",
        ),
        (
            "waivers:\n  - check: test_x\n    scope: all\n    reason: r\n    owner: o\n    expires: 2099-13-01\n",
            ":6: invalid value",
        ),
        (
            "waivers:\n  - check: test_x\n    scope: all\n    reason: r\n    owner: o\n    expires: next week\n",
            ":6: waivers[0].expires: expected a date YYYY-MM-DD, got 'next week'",
        ),
        (
            "waivers:\n  - check: test_x\n    control: FR-X\n    scope: all\n    reason: r\n    owner: o\n    expires: 2099-01-01\n",
            ":2: waivers[0]: give one of control: or check:",
        ),
        ("waivers:\n  - [a, b]\n", ":2: waivers[0]: expected a mapping, got a list"),
        ("waiver: []\n", ":1: waiver: unknown key; did you mean 'waivers'?"),
        ("waivers:\n  - control: FR-IMG-01\n   scope: all\n", ":3:"),
    ],
)
@pytest.mark.e2e
def test_malformed_waivers_stop_the_run_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    code, results, output = run_fleetready(["--waivers", str(path)])
    assert code == 4, output
    assert f"{path}{message}" in output
    assert results is None  # stopped before any host was checked


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=1, full={"noimages": "missing_images"})


@pytest.fixture(scope="module")
def run(lab, tmp_path_factory):
    """One host failing FR-IMG-01 under several inventory names, each waived (or not) its own way."""
    tmp = tmp_path_factory.mktemp("waivers")
    inventory = write_inventory(
        tmp / "inv.yml",
        lab,
        {
            "web": {
                "by-host": "noimages",
                "expired": "noimages",
                "unwaived": "noimages",
                "other-control": "noimages",
                "one-image": "noimages",
                "both-images": "noimages",
            },
            "legacy": {"by-group": "noimages"},
            "down": {"down": "sshd0"},
        },
    )
    waivers = tmp / "waivers.yml"
    waivers.write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    waiver("host by-host", 3),
                    waiver("group legacy", 60),
                    waiver("host expired", -1),
                    waiver("host other-control", 60, control="FR-TLS-01"),
                    waiver("group down", 60, check="test_facts_gathered"),
                    # Waivers of one finding: one missing image of the two, then both.
                    waiver("host one-image", 60, control="FR-IMG-01", subject=APP, finding="missing"),
                    waiver("host both-images", 60, control="FR-IMG-01", subject=APP, finding="missing"),
                    waiver("host both-images", 60, control="FR-IMG-01", subject=WORKER, finding="missing"),
                ]
            },
            sort_keys=False,
        )
    )
    lab.host("sshd0").stop()
    try:
        return run_fleetready(
            fleet_args(lab, inventory, "--waivers", str(waivers), "--gate", "critical=0,high=0")
        ), waivers
    finally:
        lab.host("sshd0").start()


def by_host(results):
    return {r["host"]: r for r in results["results"] if r["check"] in ("test_images_preseeded",)}


def test_waived_by_host_and_by_group_with_reason_and_owner(run):
    (_, results, output), waivers = run
    got = by_host(results)
    for name, scope in (("by-host", "host by-host"), ("by-group", "group legacy")):
        assert got[name]["outcome"] == "waived" and got[name]["waived_outcome"] == "fail"
        assert got[name]["waiver"]["reason"] == f"<b>{scope}</b> accepted"
        assert got[name]["waiver"]["owner"] == "ops@example.com"
        assert got[name]["waiver"]["source"].startswith(f"{waivers}:")
        assert "images not preseeded" in got[name]["message"]
    assert got["unwaived"]["outcome"] == "fail" and got["other-control"]["outcome"] == "fail"
    assert "3 waived" in output  # and both-images (test_a_finding_waiver_accepts_its_image_only)


def test_expired_waiver_no_longer_applies_and_says_so(run):
    (_, results, output), waivers = run
    assert by_host(results)["expired"]["outcome"] == "fail"
    expired = (TODAY - datetime.timedelta(days=1)).isoformat()
    assert f"waiver expired on {expired}, no longer applies: {waivers}:" in output
    assert "FR-IMG-01 on host expired (owner ops@example.com)" in output


def test_waiver_close_to_expiry_warns(run):
    (_, _, output), _ = run
    assert "waiver expires in 3 days" in output and "FR-IMG-01 on host by-host" in output
    assert "FR-IMG-01 on group legacy" not in output  # 60 days away: no warning


def test_unreachable_hosts_are_never_waived_and_fail_the_gate(run):
    (code, results, output), _ = run
    assert {r["outcome"] for r in results["results"] if r["host"] == "down"} == {"unreachable"}
    assert code == 1, output


def test_waived_results_pass_the_gate(lab, run, tmp_path):
    (_, _, _), waivers = run
    inventory = write_inventory(tmp_path / "inv.yml", lab, {"legacy": {"by-group": "noimages"}})
    code, results, output = run_fleetready(
        fleet_args(
            lab, inventory, "--waivers", str(waivers), "--gate", "critical=0", "--junitxml", str(tmp_path / "j.xml")
        )
    )
    assert code == 0, output
    assert "critical failing   0  limit   0  waived   1  ok" in output
    junit = (tmp_path / "j.xml").read_text()
    assert 'name="outcome" value="waived"' in junit and "waived: &lt;b&gt;group legacy" in junit


def test_a_finding_waiver_accepts_its_image_only(run):
    (_, results, _), waivers = run
    got = by_host(results)
    one = got["one-image"]
    assert one["outcome"] == "fail", one
    assert one["message"] == f"images not preseeded: {WORKER}: missing"  # the unwaived finding alone
    assert [(f["subject"], f["code"], "waiver" in f) for f in one["findings"]] == [
        (APP, "missing", True),
        (WORKER, "missing", False),
    ]
    both = got["both-images"]
    assert both["outcome"] == "waived" and both["waived_outcome"] == "fail", both
    assert all(f["waiver"]["source"].startswith(f"{waivers}:") for f in both["findings"])
