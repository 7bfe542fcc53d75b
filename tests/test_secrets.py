"""Secrets never leave fleetready: unique secrets are planted in the inventory, the policy, the
environment and a host's facts; a run with every report enabled must not print or write one."""

import json
import secrets

import pytest
import yaml

from fleetready.outcome.redact import MASK
from lab import keys
from tests.conftest import run_fleetready

TOKEN = secrets.token_hex(6)
PLANTED = {
    name: f"{name}-{TOKEN}"
    for name in (
        "ansible_password",
        "ansible_become_pass",
        "ansible_ssh_pass",
        "deploy_api_token",
        "db_secret_value",
        "backup_password",
        "access_key",
        "secret_key",
        "AWS_SECRET_ACCESS_KEY",
        "etcd_secretKey",
        "pem_body",
        "inventory_pem",
    )
}


def pem(body):
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"


# etcd as a Deis host's curl reads it: a secret by its key name, a private key by its shape.
ETCD = {
    "node": {
        "dir": True,
        "nodes": [
            {"key": "/deis/store/gateway/secretKey", "value": PLANTED["etcd_secretKey"]},
            {"key": "/deis/router/sslKey", "value": pem(PLANTED["pem_body"])},
            {"key": "/deis/platform/version", "value": "v1.13.4"},
        ],
    }
}


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(sshd=1)
    host = lab.host("sshd0")
    fake_curl = f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(ETCD)}\nEOF\n"
    host.check("cat >/usr/local/bin/curl && chmod 755 /usr/local/bin/curl", input=fake_curl)
    tmp = tmp_path_factory.mktemp("secrets")
    out = tmp / "out"
    out.mkdir()
    entry = {
        "ansible_host": host.address,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
        **{
            k: PLANTED[k]
            for k in (
                "ansible_password",
                "ansible_become_pass",
                "ansible_ssh_pass",
                "deploy_api_token",
                "db_secret_value",
                "backup_password",
            )
        },
        "tls_private_key": pem(PLANTED["inventory_pem"]),
        "fleetready_policy": {
            "logging": {"source": "deis-etcd"},
            "backups": {
                "sources": [
                    {
                        "name": "s3",
                        "kind": "s3",
                        "endpoint": "http://127.0.0.1:9",
                        "bucket": "b",
                        "max_age_hours": 1,
                        "access_key": PLANTED["access_key"],
                        "secret_key": PLANTED["secret_key"],
                    }
                ]
            },
        },
    }
    (tmp / "inv.yml").write_text(yaml.safe_dump({"all": {"hosts": {"h": entry}}}))
    pytest.MonkeyPatch().setenv("AWS_SECRET_ACCESS_KEY", PLANTED["AWS_SECRET_ACCESS_KEY"])
    code, _, output = run_fleetready(
        [
            "--inventory",
            str(tmp / "inv.yml"),
            "--ssh-config",
            str(lab.files["ssh_config"]),
            "--host-timeout",
            "5",
            "-v",
            "--junitxml",
            str(out / "junit.xml"),
            "--sarif",
            str(out / "r.sarif"),
            "--prometheus-textfile",
            str(out / "f.prom"),
            "--html",
            str(out / "r.html"),
            "--self-contained-html",
            "--history",
            str(out / "history.db"),
            "--remediate",
            "plan",
            "--remediation-log",
            str(out / "remediation.jsonl"),
            "--json-report",
            str(out / "results.json"),
        ]
    )
    assert code == 1, output
    # Our own --json-report (in out/, grepped with the rest) replaces run_fleetready's.
    return json.loads((out / "results.json").read_text()), output, out


def test_planted_secrets_reach_fleetready(run):
    results, _, _ = run
    deis = [r["evidence"]["deis"] for r in results["results"] if (r["evidence"] or {}).get("deis")]
    assert deis and deis[0]["/deis/store/gateway/secretKey"] == MASK
    assert deis[0]["/deis/router/sslKey"].strip() == MASK


def test_no_secret_in_any_output_or_the_terminal(run):
    _, output, out = run
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"junit.xml", "r.sarif", "f.prom", "r.html", "history.db", "results.json"}
    for name, value in PLANTED.items():
        assert value not in output, name
        for path in files:
            assert value.encode() not in path.read_bytes(), (name, path.name)
