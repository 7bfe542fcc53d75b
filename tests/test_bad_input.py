"""docs/BAD_INPUT.md row by row through ./bin/fleetready, run from a fresh directory: each bad
input gets its exit status and its one line before any host is contacted. Also: fleetready
from any directory, the paths its user types meaning what they mean to their shell, and
fleetready's options first in --help."""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import contacted

pytestmark = pytest.mark.e2e  # runs fleetready end to end per test (no Docker)

ROOT = Path(__file__).resolve().parents[1]
FLEETREADY = str(ROOT / "bin" / "fleetready")
TABLE = ROOT / "docs" / "BAD_INPUT.md"
DATA = ROOT / "tests" / "data" / "bad_input"
COLUMNS = ["id", "form", "command line", "files", "exit", "message"]
_SPAN = r"(`+) ?(.*?) ?\{n}"  # a markdown code span, its backticks as group n
_FILE = re.compile(rf"{_SPAN.format(n=1)}:\s*{_SPAN.format(n=3)}", re.S)  # `PATH`: `CONTENT`


def _cells(line):
    return [c.strip().replace(r"\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _span(cell):
    match = re.fullmatch(_SPAN.format(n=1), cell, re.S)
    assert match or not cell, f"not one code span: {cell}"
    return match.group(2) if match else ""


def _decode(text):
    """Backslash escapes decoded (\\n, \\x1b, \\u202e), any other character kept."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


def table_rows():
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("| " + " | ".join(COLUMNS) + " |") + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        row = dict(zip(COLUMNS, _cells(line), strict=True))
        files = []
        for entry in filter(None, row["files"].split("<br>")):
            match = _FILE.fullmatch(entry.strip())
            assert match, f"{row['id']}: not `PATH`: `CONTENT`: {entry}"
            files.append((match.group(2), _decode(match.group(4))))
        rows.append(
            {
                "id": row["id"],
                "args": _span(row["command line"]),
                "files": files,
                "exit": int(row["exit"]),
                "message": _span(row["message"]),
            }
        )
    return rows


ROWS = table_rows()


@pytest.fixture(scope="module")
def fleetready():
    # Set up once here, so that a first-time venv install's output is no row's.
    subprocess.run([ROOT / "bin" / "setup-venv"], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}

    def run(args, cwd, timeout=120):
        proc = subprocess.run(
            [FLEETREADY, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
        output = proc.stdout + proc.stderr
        print(output[-5000:])  # shown by pytest when a test fails
        assert "Traceback (most recent call last)" not in output and "INTERNALERROR" not in output
        return proc.returncode, output

    return run


def test_table_lists_the_forms():
    assert len(ROWS) >= 40
    ids = [row["id"] for row in ROWS]
    assert len(set(ids)) == len(ids), "ids must be unique"
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_bad_input(row, fleetready, listener, tmp_path):
    port = str(listener.getsockname()[1])

    def fill(text):
        return text.replace("@PORT@", port).replace("@DIR@", str(tmp_path))

    (tmp_path / "fleet.ini").write_text(f"[fleet]\nlistener ansible_host=127.0.0.1 ansible_port={port}\n")
    if (DATA / row["id"]).is_dir():
        shutil.copytree(DATA / row["id"], tmp_path, symlinks=True, dirs_exist_ok=True)
    for name, content in row["files"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(fill(content), encoding="utf-8")
    args = [fill(_decode(word)) for word in shlex.split(row["args"])]
    if not {"--inventory", "--hosts"} & {a.split("=")[0] for a in args}:
        args += ["--inventory", "fleet.ini"]
    code, output = fleetready(args, tmp_path)
    assert code == row["exit"]
    assert fill(row["message"]) in output
    if row["exit"] == 4:
        lines = [line for line in output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("ERROR: ") and lines[0].isprintable()
        assert not contacted(listener)


def test_listener_sees_a_host_contacted(listener):
    # The proof of "no host contacted" above is only as good as this.
    with socket.create_connection(listener.getsockname(), timeout=5):
        pass
    assert contacted(listener)


# ---------------------------------------------------------------- from any directory


def test_relative_paths_from_any_directory(fleetready, tmp_path):
    """From a directory outside the checkout, holding modules named like fleetready's: the
    checks are found, the inventory and the report are the caller's, nothing of theirs is
    imported instead of fleetready's."""
    (tmp_path / "inv").mkdir()
    (tmp_path / "inv" / "hosts.ini").write_text("[here]\nlocal ansible_connection=local\n")
    for shadow in ("fixtures/__init__.py", "reports.py", "yaml.py"):
        (tmp_path / shadow).parent.mkdir(exist_ok=True)
        (tmp_path / shadow).write_text("raise SystemExit('imported from the working directory')\n")
    code, output = fleetready(
        ["--inventory", "inv/hosts.ini", "--json-report", "out/results.json", "-k", "FR-HOST-01"], tmp_path
    )
    assert code == 0, output
    results = (tmp_path / "out" / "results.json").read_text()
    assert '"control": "FR-HOST-01"' in results and '"outcome": "pass"' in results


def test_inventory_paths_from_the_inventory_directory(make_lab, fleetready, tmp_path):
    """Against a lab host, from a directory outside the checkout: the key file and the profile
    named in the inventory are found beside it, the ssh config given on the command line in
    the working directory, and the report and the remediation audit log land there."""
    from lab import keys

    lab = make_lab(sshd=1)
    address = lab.host("sshd0").address
    (tmp_path / "inv" / "keys").mkdir(parents=True)
    shutil.copy(keys.CLIENT_KEY, tmp_path / "inv" / "keys" / "id")
    os.chmod(tmp_path / "inv" / "keys" / "id", 0o600)
    (tmp_path / "inv" / "edge.yaml").write_text(
        "profile: edge\nbackups:\n  sources:\n    - {name: db, kind: path, path: /var/backups/none-*.tar,"
        " max_age_hours: 1, command: 'true'}\n"
    )
    (tmp_path / "inv" / "hosts.ini").write_text(
        f"[web]\nweb1 ansible_host={address} ansible_user=root ansible_ssh_private_key_file=keys/id"
        " fleetready_profile=edge.yaml\n"
    )
    # No IdentityFile: the inventory's key is the only one ssh may use.
    (tmp_path / "ssh_config").write_text(
        f"Host {address}\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n"
        f"  UserKnownHostsFile {lab.files['known_hosts']}\n"
    )
    code, output = fleetready(
        [
            "--inventory",
            "inv/hosts.ini",
            "--ssh-config",
            "ssh_config",
            "--json-report",
            "out/results.json",
            "--remediate=plan",
            "-k",
            "FR-HOST-01 or FR-BAK-01",
        ],
        tmp_path,
        timeout=300,
    )
    results = {r["control"]: r for r in json.loads((tmp_path / "out" / "results.json").read_text())["results"]}
    assert results["FR-HOST-01"]["outcome"] == "pass", output
    assert results["FR-BAK-01"]["outcome"] == "fail", output
    audit = (tmp_path / "fleetready-remediation.jsonl").read_text()
    assert '"FR-BAK-01"' in audit and '"plan"' in audit


def test_options_come_first_in_help(fleetready, tmp_path):
    """fleetready's options in groups of their own, right after pytest's general options,
    naming the report options pytest and pytest-html keep elsewhere."""
    groups = declared_groups()
    code, output = fleetready(["--help"], tmp_path)
    assert code == 0
    titles = [line[:-1] for line in output.splitlines() if re.fullmatch(r"\S.*:", line)]
    assert titles[titles.index("general") + 1 :][: len(groups)] == list(groups)
    assert all(title.startswith("fleetready: ") for title in groups)
    assert any("--junitxml" in title and "--html" in title for title in groups)
    for title, options in groups.items():
        section = output.split(f"\n{title}:\n")[1].split("\n\n")[0]
        assert all(f"  {option}" in section for option in options), (title, options)


def declared_groups():
    """{group title: [option]} as fixtures/options.py declares them."""
    import fixtures.options

    groups = {}

    class Group(list):
        def addoption(self, *names, **attrs):
            self.extend(names)

    class Parser:
        def getgroup(self, name, description="", after=None):
            return groups.setdefault(description or name, Group())

    fixtures.options.pytest_addoption(Parser())
    return groups
