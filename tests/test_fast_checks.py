"""The checks' judging (checks/*.py) on the captured facts, without a host: each scenario fails
the requirement its defect breaks, with the finding an operator reads, and passes or is
exempt from the others; sound passes them all. Only the checks that judge facts alone run
here: ports, TLS and the log canary are observed from outside (tests of the lab tier), and
FR-MON-01 judges the fetch on the host itself, as with `monitoring.scrape_from: host`."""

from inspect import signature
from types import SimpleNamespace

import pytest

from checks import test_backups as backups_check
from checks import test_deis_settings as deis_check
from checks import test_firewall as firewall_check
from checks import test_host as host_check
from checks import test_images as images_check
from checks import test_logging as logging_check
from checks import test_monitoring as monitoring_check
from fleetready.outcome.findings import Findings
from tests.test_fast_gather import HOSTS, facts, policy

CHECKS = [
    host_check.test_facts_gathered,
    images_check.test_images_preseeded,
    firewall_check.test_firewall_configured,
    backups_check.test_backups_recent,
    logging_check.test_log_drain_configured,
    monitoring_check.test_metrics_answering,
    deis_check.test_router_tls_settings,
    deis_check.test_risky_defaults_changed,
]
# (outcome, a phrase of its message) of the checks each host does not pass; the others pass
# or do not apply to it.
FINDINGS = {
    "firewall-off": {"FR-FW-01": ("fail", "no default-deny input chain for IPv4")},
    "iptables-open": {"FR-FW-01": ("fail", "no default-deny input chain for IPv4")},
    "missing-images": {
        "FR-IMG-01": (
            "fail",
            "images not preseeded: fleetready-lab/app:1.0: missing; fleetready-lab/worker:1.0: missing",
        )
    },
    "wrong-image-tag": {"FR-IMG-01": ("fail", "images not preseeded: fleetready-lab/app:1.0: missing")},
    "no-log-forwarding": {"FR-LOG-01": ("fail", "no log forwarding configured")},
    "receiver-down": {"FR-LOG-01": ("fail", "drain logs.lab:514 not reachable from the host")},
    "metrics-down": {"FR-MON-01": ("fail", "metrics endpoint http://127.0.0.1:9100/metrics not answering")},
    "backup-stale": {"FR-BAK-01": ("fail", "db: newest backup is 72.")},
    "backup-empty": {"FR-BAK-01": ("fail", "db: newest backup db-0.tar.gz is 0 bytes (min 1)")},
    # No cAdvisor, no WAL-E store keys (so S3 is never asked), Deis's defaults: an unfinished cluster.
    "deis": {
        "FR-MON-01": ("fail", "metrics endpoint http://127.0.0.1:8080/metrics not answering"),
        "FR-BAK-01": ("error", "database: cannot read backups: etcd key /deis/store/gateway/host is not set"),
        "FR-DEIS-01": ("fail", "router TLS not configured: /deis/router/sslCert unset"),
        "FR-DEIS-02": ("fail", "anyone can register: /deis/controller/registrationMode is not admin_only"),
    },
    "light": {"FR-FW-01": ("fail", "no firewall: neither nft nor iptables is installed")},
}


def control(check):
    return check.pytestmark[0].kwargs


def judge(check, name):
    """(outcome, message) of a check on a captured host, named as fixtures/outcomes.py names them."""
    args = {
        "policy": policy(name),
        "facts": facts(name),
        "request": SimpleNamespace(node=SimpleNamespace(user_properties=[])),
        "metrics_scrape": None,  # monitoring.scrape_from: host
        "findings": Findings(),
    }
    try:
        params = signature(check).parameters
        if "deis" in params:  # the check module's own fixture: it skips non-Deis hosts
            args["deis"] = deis_check.deis.__wrapped__(args["policy"], args["facts"])
        check(**{p: args[p] for p in params})
    except pytest.skip.Exception as exc:
        return "skipped", exc.msg
    except AssertionError as exc:
        return "fail", str(exc).split("\nassert ")[0]
    except Exception as exc:
        return "error", str(exc)
    return "pass", ""


@pytest.mark.parametrize("name", HOSTS)
def test_each_host_fails_what_its_scenario_breaks(name):
    for check in CHECKS:
        outcome, message = judge(check, name)
        expected = FINDINGS.get(name, {}).get(control(check)["id"])
        if expected:
            assert outcome == expected[0] and expected[1] in message, (check.__name__, outcome, message)
        else:
            assert outcome in ("pass", "skipped"), (check.__name__, outcome, message)


@pytest.mark.parametrize(
    "name", ["sound", "nft-chain", "iptables-saved", "iptables-legacy", "iptables-nft", "iptables-only"]
)
def test_sound_hosts_pass_every_check_but_the_deis_ones(name):
    outcomes = {control(c)["id"]: judge(c, name)[0] for c in CHECKS}
    assert {c for c, o in outcomes.items() if o != "pass"} == {"FR-DEIS-01", "FR-DEIS-02"}
    assert {outcomes["FR-DEIS-01"], outcomes["FR-DEIS-02"]} == {"skipped"}


def records():
    """JSON result records (docs/results-schema.json) of every check above on every captured host."""
    return [
        {
            "host": name,
            "check": check.__name__,
            **{k: control(check)[k] for k in ("severity", "requirement")},
            "control": control(check)["id"],
            "outcome": outcome,
            "message": message,
            "phase": "call",
            "evidence": None,
            "duration": 0.01,
            "nodeid": f"{check.__module__.replace('.', '/')}.py::{check.__name__}[{name}]",
        }
        for name in HOSTS
        for check in CHECKS
        for outcome, message in [judge(check, name)]
    ]
