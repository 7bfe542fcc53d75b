"""Dynamic inventories as Ansible users keep them (issue 16): an executable script, a directory
mixing a static file with a `constructed` plugin configuration, vault-encrypted variables. Each
loads the hosts, groups and variables `ansible-inventory --list` shows for the same source
(tests/test_inventory_oracle.py's comparison); and each way it can go wrong is one line, exit
status 4, before any host is contacted."""

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from fleetready.config.ansible_run import AnsibleOptions
from fleetready.config.errors import ConfigError
from fleetready.config.inventory import read_inventory
from tests.conftest import FLEETREADY, ROOT, contacted
from tests.test_inventory_oracle import ansible_view, fleetready_view

pytestmark = pytest.mark.e2e  # runs ansible-inventory, or fleetready end to end

ANSIBLE_BIN = Path(sysconfig.get_path("scripts"))  # ansible-core: requirements-test.txt
PASSWORD = "correct horse"

SCRIPT = """\
#!/usr/bin/env python3
import json, sys
LISTING = {listing}
if sys.argv[1:] == ["--list"]:
    print(json.dumps(LISTING))
elif sys.argv[1:2] == ["--host"]:
    print(json.dumps({hostvars}.get(sys.argv[2], {{}})))
else:
    sys.exit("usage: --list | --host NAME")
"""
GROUPS = {
    "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 80, "tier": "front"}},
    "prod": {"children": ["web", "db"], "vars": {"env": "prod", "http_port": 8080}},
    "db": ["db1"],  # a bare list of hosts, as old scripts print it
    "all": {"vars": {"ansible_user": "deploy"}},
}
HOSTVARS = {
    "web1": {"ansible_host": "192.0.2.11", "ansible_port": 2222, "fleetready_policy": {"images": {"required": []}}},
    "db1": {"ansible_host": "192.0.2.21", "ansible_user": "postgres"},
}


@pytest.fixture(autouse=True)
def ansible_env(tmp_path, monkeypatch):
    """Ansible configured by nothing but what a test gives it, for it and for fleetready alike."""
    for name in [k for k in os.environ if k.startswith("ANSIBLE_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "ansible-home"
    home.mkdir()
    (home / "ansible.cfg").write_text("")
    monkeypatch.setenv("ANSIBLE_CONFIG", str(home / "ansible.cfg"))
    monkeypatch.setenv("ANSIBLE_HOME", str(home))
    monkeypatch.setenv("ANSIBLE_LOCAL_TEMP", str(home))


def ansible_list(source, *args):
    proc = subprocess.run(
        [ANSIBLE_BIN / "ansible-inventory", "-i", source, "--list", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def write_script(path, groups=GROUPS, hostvars=HOSTVARS, meta=True):
    listing = {**groups, "_meta": {"hostvars": hostvars}} if meta else groups
    path.write_text(SCRIPT.format(listing=repr(listing), hostvars=repr(hostvars)))
    path.chmod(0o755)
    return path


def vault(*args, stdin=None):
    return subprocess.run(
        [ANSIBLE_BIN / "ansible-vault", *args], input=stdin, capture_output=True, text=True, check=True, timeout=60
    ).stdout


@pytest.mark.parametrize("meta", [True, False], ids=["meta-hostvars", "host-per-call"])
def test_script_inventory_as_ansible_reads_it(tmp_path, meta):
    script = write_script(tmp_path / "inventory.py", meta=meta)
    (tmp_path / "group_vars").mkdir()  # applied to a script's groups too, as Ansible does
    (tmp_path / "group_vars" / "web.yml").write_text("tier: edge\nfleetready_profile: docker-host\n")
    ours = read_inventory(script)
    assert fleetready_view(ours) == ansible_view(ansible_list(str(script)))
    web1 = next(h for h in ours.hosts if h.name == "web1")
    assert (web1.address, web1.port, web1.user, web1.vars["tier"]) == ("192.0.2.11", 2222, "deploy", "edge")


CONSTRUCTED = """\
plugin: ansible.builtin.constructed
strict: true
keyed_groups:
  - key: role
    prefix: role
groups:
  big: mem_gb >= 64
compose:
  ansible_port: 2200 + rack
"""


def test_constructed_groups_in_a_directory_of_sources(tmp_path):
    source = tmp_path / "inventory"
    source.mkdir()
    (source / "01-hosts.yml").write_text(
        textwrap.dedent("""\
        all:
          hosts:
            a1: {ansible_host: 192.0.2.1, role: web, mem_gb: 16, rack: 1}
            a2: {ansible_host: 192.0.2.2, role: db, mem_gb: 128, rack: 2}
          children:
            dc1: {hosts: {a1: }}
        """)
    )
    (source / "02-constructed.yml").write_text(CONSTRUCTED)
    (source / "group_vars").mkdir()
    (source / "group_vars" / "role_db.yml").write_text("backup_window: nightly\n")
    ours = read_inventory(source)
    assert fleetready_view(ours) == ansible_view(ansible_list(str(source)))
    hosts = {h.name: h for h in ours.hosts}
    assert set(hosts["a2"].groups) == {"all", "role_db", "big"}
    assert (hosts["a2"].port, hosts["a2"].vars["backup_window"]) == (2202, "nightly")


@pytest.fixture
def vaulted(tmp_path):
    """An INI inventory whose group_vars file is vault-encrypted and whose host_vars hold an
    inline `!vault` value, both with PASSWORD (in the file `password`)."""
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    (tmp_path / "hosts").write_text("[web]\nweb1 ansible_host=192.0.2.11\nweb2 ansible_host=192.0.2.12\n")
    for name in ("group_vars", "host_vars"):
        (tmp_path / name).mkdir()
    secret = tmp_path / "group_vars" / "web.yml"
    secret.write_text("ansible_port: 2222\ndb_password: hunter2\nfleetready_profile: docker-host\n")
    vault("encrypt", "--vault-password-file", str(password), str(secret))
    inline = vault("encrypt_string", "--vault-password-file", str(password), "--name", "api_token", "s3cr3t")
    (tmp_path / "host_vars" / "web1.yml").write_text(f"ansible_user: ops\n{inline}")
    assert secret.read_text().startswith("$ANSIBLE_VAULT;") and "!vault" in inline
    return tmp_path


@pytest.mark.parametrize("given", ["--vault-password-file", "--vault-id", "ANSIBLE_VAULT_PASSWORD_FILE"])
def test_vault_encrypted_variables_as_ansible_reads_them(vaulted, given, monkeypatch):
    password = str(vaulted / "password")
    if given == "ANSIBLE_VAULT_PASSWORD_FILE":
        monkeypatch.setenv(given, password)
        options, args = AnsibleOptions(), []
    elif given == "--vault-id":
        options, args = AnsibleOptions(vault_ids=(f"prod@{password}",)), [given, f"prod@{password}"]
    else:
        options, args = AnsibleOptions(vault_password_files=(password,)), [given, password]
    ours = read_inventory(vaulted / "hosts", options)
    theirs = ansible_view(ansible_list(str(vaulted / "hosts"), *args))
    # ansible-inventory prints an inline !vault value as its ciphertext; fleetready decrypts it.
    assert theirs[0]["web1"][1].pop("api_token").keys() == {"__ansible_vault"}
    assert ours.hosts[0].vars.pop("api_token") == "s3cr3t"
    assert fleetready_view(ours) == theirs
    assert ours.hosts[0].vars["db_password"] == "hunter2" and ours.hosts[0].port == 2222


# ---------------------------------------------------------------- bad input


def fleetready(args, cwd, python=sys.executable, path=None):
    """fleetready's exit status and output; a PATH of its own when `path` is given."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env.update(PYTHONPATH=str(ROOT), **({"PATH": path} if path is not None else {}))
    proc = subprocess.run(
        [python, *FLEETREADY[1:], *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    output = proc.stdout + proc.stderr
    print(output[-5000:])
    lines = [line for line in output.splitlines() if line.strip()]
    return proc.returncode, lines


def test_vault_options_reach_ansible_through_the_command_line(vaulted):
    code, lines = fleetready(
        ["--inventory", "hosts", "--vault-password-file", "password", "--collect-only", "-q", "-k", "FR-HOST-01"],
        vaulted,
    )
    assert code == 0 and any("test_facts_gathered[web1]" in line for line in lines), lines


def test_wrong_vault_password_is_one_line(vaulted, listener):
    (vaulted / "wrong").write_text("not it\n")
    (vaulted / "hosts").write_text(f"[web]\nweb1 ansible_host=127.0.0.1 ansible_port={listener.getsockname()[1]}\n")
    code, lines = fleetready(["--inventory", "hosts", "--vault-password-file", "wrong"], vaulted)
    assert code == 4 and lines == [
        "ERROR: hosts: ansible-inventory failed (exit status 4): "
        "Decryption failed (no vault secrets were found that could decrypt)."
    ]
    assert not contacted(listener)


@pytest.fixture
def python_without_ansible(tmp_path):
    """A Python environment with fleetready's dependencies but not ansible-core's commands: a
    venv of the same interpreter, seeing the suite's packages through a .pth file, whose
    scripts directory has no ansible-inventory."""
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "suite.pth").write_text(sysconfig.get_path("purelib") + "\n")
    assert not (venv / "bin" / "ansible-inventory").exists()
    return python


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("hosts.yml", CONSTRUCTED, "hosts.yml:1: plugin: an inventory plugin's configuration, not an inventory"),
        (
            "hosts.yml",
            "all:\n  hosts:\n    web1:\n      token: !vault |\n",
            "hosts.yml:4: a vault-encrypted value (!vault)",
        ),
        ("hosts", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", "hosts:1: a vault-encrypted file"),
        ("inventory/hosts", "[web]\nweb1\n", "inventory/: an inventory directory"),
    ],
    ids=["plugin", "inline-vault", "vault-file", "directory"],
)
def test_missing_ansible_core_is_one_line(tmp_path, python_without_ansible, name, content, message):
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_text(content)
    source = name.split("/")[0] + ("/" if "/" in name else "")
    code, lines = fleetready(["--inventory", source], tmp_path, python_without_ansible, path="/usr/bin:/bin")
    assert code == 4 and lines == [
        f"ERROR: {message}: ansible-core is needed to read it (pip install ansible-core); ansible-inventory is not on PATH"
    ]


def test_a_script_needs_no_ansible(tmp_path, python_without_ansible, listener):
    port = listener.getsockname()[1]
    write_script(
        tmp_path / "inventory.py", {"web": ["web1"]}, {"web1": {"ansible_host": "127.0.0.1", "ansible_port": port}}
    )
    code, lines = fleetready(
        ["--inventory", "inventory.py", "--collect-only", "-q"], tmp_path, python_without_ansible, path="/usr/bin:/bin"
    )
    assert code == 0 and any("[web1]" in line for line in lines), lines


@pytest.mark.parametrize(
    "script, message",
    [
        ("echo 'no such region' >&2\nexit 3", "inventory.sh: inventory script failed (exit status 3): no such region"),
        ("echo '{\"web\": '", "inventory.sh: inventory script printed no JSON: Expecting value: line 2 column 1"),
        (
            'echo \'{"web": ["-oProxyCommand=id"], "_meta": {"hostvars": {}}}\'',
            "inventory.sh: web.hosts: '-oProxyCommand=id' is not a host name or IP address",
        ),
        ('echo \'{"web": {"hosts": "w1"}}\'', "inventory.sh: web.hosts: expected a list, got 'w1'"),
    ],
    ids=["fails", "not-json", "host-name-option", "hosts-not-list"],
)
def test_bad_script_is_one_line(tmp_path, script, message):
    (tmp_path / "inventory.sh").write_text(f"#!/bin/sh\n{script}\n")
    (tmp_path / "inventory.sh").chmod(0o755)
    code, lines = fleetready(["--inventory", "inventory.sh"], tmp_path)
    assert code == 4 and len(lines) == 1 and lines[0].startswith(f"ERROR: {message}"), lines


def test_hanging_script_is_ended_at_the_time_limit(tmp_path):
    # The script's child holds its output open: ending the script alone would still hang.
    (tmp_path / "inventory.sh").write_text("#!/bin/sh\nsleep 600 &\necho $! > child.pid\nwait\n")
    (tmp_path / "inventory.sh").chmod(0o755)
    start = time.monotonic()
    code, lines = fleetready(["--inventory", "inventory.sh", "--inventory-timeout", "2"], tmp_path)
    assert code == 4 and lines == [
        "ERROR: inventory.sh: inventory script did not finish within 2 s (--inventory-timeout)"
    ]
    assert time.monotonic() - start < 30
    child = int((tmp_path / "child.pid").read_text())
    assert not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"


def test_failing_plugin_config_is_ansibles_own_line(tmp_path):
    (tmp_path / "cloud.yml").write_text("plugin: example.nosuch.cloud\n")
    code, lines = fleetready(["--inventory", "cloud.yml"], tmp_path)
    assert code == 4 and len(lines) == 1, lines
    assert lines[0].startswith("ERROR: cloud.yml: ansible-inventory failed (exit status 1): Failed to parse inventory")
    assert "example.nosuch.cloud" in lines[0]


def test_unreadable_vault_password_file_is_refused_at_start_up(tmp_path):
    code, lines = fleetready(["--inventory", "hosts", "--vault-password-file", "nope"], tmp_path)
    assert code == 4 and lines == ["ERROR: --vault-password-file: cannot read 'nope': no such file"]


def test_script_without_hosts_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="the inventory defines no hosts"):
        read_inventory(write_script(tmp_path / "inventory.py", {"web": []}, {}))
