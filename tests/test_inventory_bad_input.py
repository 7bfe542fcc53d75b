"""Bad input in the files around an inventory, below the command line (docs/BAD_INPUT.md runs
each form through ./bin/fleetready, with a listener proving no host is contacted): YAML whose
aliases would expand it past any bound, variables shared by every host, waivers that match
nothing in the inventory or the checks."""

import pytest
import yaml

from fleetready.config.errors import ConfigError
from fleetready.config.yamlfile import load_yaml
from fleetready.outcome.redact import Redactor
from tests.conftest import run_fleetready
from tests.files import write


def laughs():
    """A 'billion laughs': nine aliases of nine aliases..., 10**9 items once expanded."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text, line, message",
    [
        (laughs(), 7, "aliases expand the document past 10,000,000 nodes and characters"),
        ("a: &a [1, *a]\n", 1, "an alias refers to a node that contains it"),
        ("a: &a {x: 1, y: *a}\n", 1, "an alias refers to a node that contains it"),
    ],
)
def test_alias_bombs_and_loops_are_refused_naming_the_line(tmp_path, text, line, message):
    path = write(tmp_path, "doc.yml", text)
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert str(info.value) == f"{path}:{line}: {message}"


def test_aliases_within_bounds_load(tmp_path):
    path = write(tmp_path, "doc.yml", "a: &a [x, y]\nb: &b [*a, *a]\nc: {<<: {k: *b}, j: *a}\n")
    assert load_yaml(path)["c"] == {"k": [["x", "y"], ["x", "y"]], "j": ["x", "y"]}


def test_shared_variables_are_learned_once_for_redaction():
    """Hosts share their groups' variables: secrets are learned from each container once a run,
    not once a host (a big group_vars file kept a CPU busy in fleetready/outcome/redact.py for minutes)."""
    shared = ["deep-secret-value"]
    for _ in range(64):
        shared = [shared, shared]  # 65 lists, 2**64 paths through them
    redactor = Redactor(environ={})
    for host in range(1000):
        redactor.learn({"blob": shared, "api_token": f"token-{host:06d}"})
    redactor.learn({"vault_password": shared})
    assert len(redactor.values) == 1001 and "deep-secret-value" in redactor.values


@pytest.mark.e2e
def test_unmatched_waivers_are_announced_at_start_up(tmp_path):
    inventory = write(tmp_path, "hosts", "[web]\nweb1 ansible_host=192.0.2.1\n[db]\ndb1 ansible_host=192.0.2.2\n")
    waivers = write(
        tmp_path,
        "waivers.yml",
        yaml.safe_dump(
            {
                "waivers": [
                    {"control": "FR-IMG-1", "scope": "all", "reason": "r", "owner": "o", "expires": "2099-01-01"},
                    {
                        "control": "FR-IMG-01",
                        "scope": "host web-1",
                        "reason": "r",
                        "owner": "o",
                        "expires": "2099-01-01",
                    },
                    {
                        "check": "test_facts_gathered",
                        "scope": "group wbe",
                        "reason": "r",
                        "owner": "o",
                        "expires": "2099-01-01",
                    },
                    {
                        "check": "test_facts_gathered",
                        "scope": "group db",
                        "reason": "r",
                        "owner": "o",
                        "expires": "2099-01-01",
                    },
                ]
            },
            sort_keys=False,
        ),
    )
    code, _, output = run_fleetready(
        ["--inventory", str(inventory), "--limit", "web", "--waivers", str(waivers), "--collect-only"]
    )
    assert code == 0, output
    announced = {line for line in output.splitlines() if line.startswith("waiver matches no")}
    assert announced == {  # the last waiver's group is outside --limit, but in the inventory
        f"waiver matches no control of the checks collected: {waivers}:2: FR-IMG-1 on all hosts (owner o); "
        "did you mean 'FR-IMG-01'?",
        f"waiver matches no host in the inventory: {waivers}:7: FR-IMG-01 on host web-1 (owner o); "
        "did you mean 'web1'?",
        f"waiver matches no group in the inventory: {waivers}:12: test_facts_gathered on group wbe (owner o); "
        "did you mean 'web'?",
    }, output
    for line in announced:  # before the checks, and again in the summary
        assert output.index(line) < output.index("<Module") < output.index(" waivers ==") < output.rindex(line)
