"""Shell metacharacters in inventory and policy values are never executed, on the controller
or on a host: each value tries three ways to create a canary file, and no canary may appear.

A value is either rejected at start-up with one clear line (exit 4) or quoted where it is used.
"""

import glob
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from lab import keys
from tests.conftest import run_fleetready

TOKEN = secrets.token_hex(4)


def evil(case):
    """$(), backticks, `;` and quotes, without a space (URL patterns reject whitespace)."""
    touch = f"touch${{IFS}}/tmp/pwned-{TOKEN}-{case}"
    return f"x$({touch})`{touch}`;{touch};'\"&&{touch}|{touch}"


def source(**keys):
    return {"backups": {"sources": [{"name": "b", "max_age_hours": 1, **keys}]}}


# case -> (inventory variables, policy override, host name)
CASES = {
    "name": ({}, None, "h" + evil("name")),
    "ssh-address": ({"ansible_host": evil("ssh-address")}, None, "h"),
    "paramiko-address": ({"ansible_host": evil("paramiko-address"), "ansible_connection": "paramiko"}, None, "h"),
    "docker-address": ({"ansible_host": evil("docker-address"), "ansible_connection": "docker"}, None, "h"),
    "user": ({"ansible_user": evil("user")}, None, "h"),
    "port-newline": ({"ansible_port": "22\n" + evil("port-newline")}, None, "h"),
    "backups-glob": ({}, source(kind="path", path=f"/var/backups/{evil('backups-glob')}*.tar.gz"), "h"),
    "restic-repository": ({}, source(kind="restic", repository=evil("restic-repository")), "h"),
    "restic-password-file": (
        {},
        source(kind="restic", repository="/r", password_file=evil("restic-password-file")),
        "h",
    ),
    "metrics-url": ({}, {"monitoring": {"metrics_url": "http://127.0.0.1:9100/" + evil("metrics-url")}}, "h"),
    "drain-host": ({}, {"logging": {"drain": {"host": evil("drain-host"), "port": 514}}}, "h"),
    "image-name": ({}, {"images": {"required": ["alpine:3.2" + evil("image-name")]}}, "h"),
}


@pytest.fixture(scope="module")
def lab(make_lab):
    return make_lab(sshd=1)


@pytest.fixture(scope="module")
def runs(lab, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("injection")
    host = lab.host("sshd0")

    def one(case):
        variables, policy, name = CASES[case]
        entry = {
            "ansible_host": host.address,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(keys.CLIENT_KEY),
            **variables,
        }
        if policy:
            entry["fleetready_policy"] = policy
        path = tmp / f"{case}.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": {name: entry}}}))
        return case, run_fleetready(
            ["--inventory", str(path), "--ssh-config", str(lab.files["ssh_config"]), "--host-timeout", "5"]
        )

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, CASES))


def test_no_value_is_ever_executed(lab, runs):
    assert glob.glob(f"/tmp/pwned-{TOKEN}-*") == []
    assert lab.host("sshd0").exec(f"ls /tmp/pwned-{TOKEN}-* 2>/dev/null")[1] == ""


@pytest.mark.parametrize("case", list(CASES))
def test_value_is_rejected_clearly_or_used_quoted(runs, case):
    code, results, output = runs[case]
    assert "Traceback" not in output, output
    if code == 4:  # rejected before any host is contacted: one line naming the file
        errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
        assert len(errors) == 1 and f"{case}.yml" in errors[0], output
        print(f"INJECTION | {case} | rejected: {errors[0][:160]}")
    else:
        assert code == 1 and results["results"], output
        # A value the host could not use never turns into a pass of the check it feeds.
        print(f"INJECTION | {case} | quoted: {sorted({r['outcome'] for r in results['results']})}")
