"""Ansible is the oracle for inventories. Each case under tests/data/inventories/ (a directory:
one inventory file, and any group_vars/ and host_vars/ beside it) is read by
`ansible-inventory --list` and by load_inventory. Where Ansible accepts the file we load the
same hosts, groups, group membership (`all` and `ungrouped` included) and merged variables
of every host; where it refuses it we refuse it too, naming the file and line (REFUSED).
The files we refuse though Ansible accepts them are in STRICTER, each with the reason.

Ansible reads the file as a user's run would, with two settings:

- ANSIBLE_INVENTORY_ENABLED=yaml,ini: Ansible's default inventory plugins, in its order,
  less those for sources fleetready does not read: executable scripts, `auto` (plugin
  configurations), TOML; `host_list` reads `a,b` strings, never a file.
- ANSIBLE_INVENTORY_UNPARSED_FAILED=True: by default `ansible-playbook` only warns that no
  plugin could parse the file and goes on with an empty inventory (an implicit localhost),
  so no host of the file is ever contacted: the file is refused in all but the exit status.
  The setting makes that the failure it amounts to, as fleetready's exit status 4 does.
"""

import datetime
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from fleetready.config.errors import ConfigError
from fleetready.config.inventory import load_inventory

pytestmark = pytest.mark.e2e  # runs ansible-inventory and fleetready's loader over a corpus

CORPUS = Path(__file__).parent / "data" / "inventories"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())

# case -> (file:line of the error, relative to the case, and what it says)
REFUSED = {
    "bad-ini-cycle": ("hosts:2", "group 'a' is its own ancestor (a < b < a)"),
    "bad-ini-host-semicolon": ("hosts:2", "Expected key=value host variable assignment, got: ;"),
    "bad-ini-host-var-no-equals": ("hosts:2", "Expected key=value host variable assignment, got: ansible_user"),
    "bad-ini-range-letters-reversed": ("hosts:2", "range '[f:a]' must have begin <= end"),
    "bad-ini-range-mixed": ("hosts:2", "range '[1:c]' must be of numbers or letters"),
    "bad-ini-range-no-end": ("hosts:2", "range '[1:]' must specify an end value"),
    "bad-ini-range-step-zero": ("hosts:2", "range '[1:5:0]' must be of numbers or letters, with a non-zero"),
    "bad-ini-range-two-closers": ("hosts:2", "host pattern 'w1]x[1:2]': range '[x]' must be [begin:end]"),
    "bad-ini-range-widths": ("hosts:2", "range '[01:100]' must have begin and end of equal length"),
    "bad-ini-section-comment": ("hosts:3", "host pattern '[web:vars]'"),
    "bad-ini-section-space": ("hosts:1", "Invalid section entry: '[web servers]'"),
    "bad-ini-section-type": ("hosts:1", "Section [web:hots] has unknown type: hots"),
    "bad-ini-trailing-colon": ("hosts:2", "'w1:' is not a host name or IP address"),
    "bad-ini-unclosed-quote": ("hosts:2", "Error parsing host definition 'w1 note='unclosed': No closing quotation"),
    "bad-ini-unclosed-range": ("hosts:3", "host pattern 'h[01:03': '[' without its ']'"),
    "bad-ini-unclosed-section": ("hosts:2", "section entry '[web' has no closing ']'"),
    "bad-ini-unclosed-vars": ("hosts:3", "section entry '[web:vars' has no closing ']'"),
    "bad-ini-undefined-child": ("hosts:5", "Section [prod:children] includes undefined group: dbs"),
    "bad-ini-undefined-vars": ("hosts:3", "Section [wbe:vars] not valid for undefined group: wbe"),
    "bad-ini-unhashable-key": ("hosts:2", "cannot read the value '{[1]: 2}': TypeError"),
    "bad-ini-vars-no-equals": ("hosts:4", "Expected key=value, got: just a word"),
    "bad-ini-yaml-marker": ("hosts.ini:1", "'---' is not a host name or IP address"),
    "bad-vars-file": ("group_vars/web.yml:2", "mapping values are not allowed in this context"),
    "bad-vars-not-mapping": ("host_vars/w1.yml:1", "expected a mapping at the top level, got a list"),
    "bad-yaml-hosts-list": ("hosts.yml:4", "all.children.web.hosts: expected a mapping, got a list"),
    "bad-yaml-int-host": ("hosts.yml:3", "all.hosts: expected a host name, got 10"),
    "bad-yaml-not-mapping": ("hosts.yml:1", "expected a mapping at the top level, got a list"),
    "bad-yaml-plugin": ("hosts.yml:1", "plugin: an inventory plugin's configuration, not an inventory"),
    "bad-yaml-plugin-mapping": ("hosts.yml:1", "plugin: an inventory plugin's configuration, not an inventory"),
    "bad-yaml-syntax": ("hosts.yml:4", "while parsing a block mapping"),
    "bad-yaml-unclosed-range": ("hosts.yml:4", "all.hosts: host pattern 'h[01:03': '[' without its ']'"),
    "strict-ini-empty-key": ("hosts:2", "Expected key=value host variable assignment, got: =1"),
    "strict-ini-metachar-backtick": ("hosts:2", "'h`id`' is not a host name or IP address"),
    "strict-ini-metachar-name": ("hosts:3", "'h$(touch${IFS}/tmp/pwned)' is not a host name or IP address"),
    "strict-ini-metachar-semicolon": ("hosts:2", "'h;id' is not a host name or IP address"),
    "strict-ini-no-hosts": ("hosts", "the inventory defines no hosts"),
    "strict-ini-option-address": ("hosts:2", "ansible_host: host w1: '-oProxyCommand=id' is not a host name"),
    "strict-ini-option-name": ("hosts:2", "'-oProxyCommand=id' is not a host name or IP address"),
    "strict-ini-range-reversed": ("hosts:3", "host pattern 'w[3:1]': range '[3:1]' expands to no hosts"),
    "strict-yaml-duplicate-key": ("hosts.yml:5", "duplicate key 'x'"),
    "strict-yaml-group-list": ("hosts.yml:4", "web: expected a mapping of hosts, vars and children, got a list"),
    "strict-yaml-metachar-address": ("hosts.yml:4", "ansible_host: host h1: '$(id)' is not a host name"),
    "strict-yaml-unknown-key": ("hosts.yml:4", "all.childs: unknown key 'childs'; did you mean 'children'?"),
    "strict-yaml-vault": ("hosts.yml:4", "a vault-encrypted value (!vault)"),
}

# Accepted by Ansible, refused by fleetready (as in REFUSED), and why.
METACHARACTERS = (
    "Ansible keeps a string its address grammar cannot read as the host's name verbatim; "
    "a host name or address with shell or ssh-option metacharacters is bad input"
)
SKIPPED = "Ansible warns and skips part of the file, running without it"
STRICTER = {
    "strict-ini-empty-key": "Ansible warns that the variable name '' is invalid (deprecated, an error from 2.23)",
    "strict-ini-metachar-backtick": METACHARACTERS,
    "strict-ini-metachar-name": METACHARACTERS,
    "strict-ini-metachar-semicolon": METACHARACTERS,
    "strict-ini-no-hosts": "an inventory without hosts checks nothing: Ansible runs on an implicit localhost",
    "strict-ini-option-address": METACHARACTERS,
    "strict-ini-option-name": METACHARACTERS,
    "strict-ini-range-reversed": "Ansible silently adds no host for a range that counts down",
    "strict-yaml-duplicate-key": "Ansible warns and keeps the last value",
    "strict-yaml-group-list": SKIPPED,
    "strict-yaml-metachar-address": METACHARACTERS,
    "strict-yaml-unknown-key": SKIPPED,
    "strict-yaml-vault": "the built-in loader has no vault password: it names the value rather than use its "
    "ciphertext (read_inventory hands such a file to ansible-inventory: tests/test_inventory_dynamic.py)",
}


def inventory_file(case):
    """The one file at the top of a case's directory."""
    files = [p for p in (CORPUS / case).iterdir() if p.is_file()]
    assert len(files) == 1, f"{case}: expected one inventory file, found {files}"
    return files[0]


# `ansible-inventory -i FILE --list`, as its entry point runs it, once per file, each in a
# child forked from one process that imported Ansible once (each start-up costs half a second).
ANSIBLE_INVENTORY_LIST = """
import os, sys
from ansible.cli.inventory import main
for path, out in zip(sys.argv[1::2], sys.argv[2::2]):
    pid = os.fork()
    if pid == 0:
        for fd, name in ((1, ".out"), (2, ".err")):
            os.dup2(os.open(out + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        sys.argv = ["ansible-inventory", "-i", path, "--list"]
        try:
            code = main() or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    with open(out + ".rc", "w") as f:
        f.write(str(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])))
"""


@pytest.fixture(scope="module")
def ansible(tmp_path_factory):
    """case -> (exit status, stdout, stderr) of ansible-inventory --list, configured by the
    environment above only (an empty ansible.cfg, an empty working directory)."""
    tmp = tmp_path_factory.mktemp("ansible")
    (tmp / "ansible.cfg").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(tmp / "ansible.cfg"),
        ANSIBLE_HOME=str(tmp),
        ANSIBLE_LOCAL_TEMP=str(tmp),
        ANSIBLE_INVENTORY_ENABLED="yaml,ini",
        ANSIBLE_INVENTORY_UNPARSED_FAILED="True",
        ANSIBLE_NOCOLOR="1",
    )
    args = [arg for case in CASES for arg in (str(inventory_file(case)), str(tmp / case))]
    proc = subprocess.run(
        [sys.executable, "-c", ANSIBLE_INVENTORY_LIST, *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"ansible-core is a test dependency (requirements-test.txt):\n{proc.stderr}"
    return {
        case: (
            int((tmp / f"{case}.rc").read_text()),
            (tmp / f"{case}.out").read_text(),
            (tmp / f"{case}.err").read_text(),
        )
        for case in CASES
    }


def ansible_view(listing):
    """({host: (its groups, its variables)}, group names) of ansible-inventory --list."""
    groups = {name: data for name, data in listing.items() if name != "_meta"}
    parents, direct = defaultdict(set), defaultdict(set)
    for name, data in groups.items():
        for child in data.get("children", ()):
            parents[child].add(name)
        for host in data.get("hosts", ()):
            direct[host].add(name)
    hostvars = listing["_meta"]["hostvars"]
    hosts = {
        host: (ancestors(names | {"all"}, parents), unwrap(hostvars.get(host, {}))) for host, names in direct.items()
    }
    return hosts, set(groups) | set(parents)


def ancestors(names, parents):
    found, pending = set(), list(names)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(parents[name])
    return found


def unwrap(value):
    """Ansible's JSON marks `!unsafe` values (and bytes, which it reads as unsafe text)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    return [unwrap(v) for v in value] if isinstance(value, list) else value


def fleetready_view(inventory):
    """The same of load_inventory, variables as JSON gives them (dates as ISO text, like Ansible's)."""

    def iso(value):
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        raise TypeError(f"not JSON: {value!r}")

    hosts = {h.name: (set(h.groups), json.loads(json.dumps(h.vars, default=iso))) for h in inventory.hosts}
    return hosts, set(inventory.group_names)


def test_corpus_is_broad():
    assert len(CASES) >= 25
    assert set(STRICTER) <= set(REFUSED) <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_fleetready_reads_inventories_as_ansible_does(ansible, case):
    code, out, err = ansible[case]
    assert "Unexpected Exception" not in err and "Traceback" not in err, err  # Ansible's own bug
    try:
        ours, error = fleetready_view(load_inventory(inventory_file(case))), None
    except ConfigError as e:
        ours, error = None, str(e)
    if code != 0:
        assert case in REFUSED and case not in STRICTER, f"Ansible refuses {case}:\n{err}"
    elif case in STRICTER:
        assert error is not None, f"{case}: Ansible accepts it, and so do we, though STRICTER says why not"
    else:
        assert case not in REFUSED, f"Ansible accepts {case}; REFUSED says we refuse it"
        assert error is None, f"Ansible accepts {case}, we refuse it: {error}"
        assert ours == ansible_view(json.loads(out))
        return
    where, what = REFUSED[case]
    assert error is not None, f"{case}: refused by Ansible, loaded by fleetready"
    assert error.startswith(f"{CORPUS / case}/{where}: ") and what in error and "\n" not in error, error
