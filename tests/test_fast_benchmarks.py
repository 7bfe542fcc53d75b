"""The benchmarks' own parts that need no lab: the README's generated tables, the unreachable
entries of the 10,000-host inventory, and how its rate of unreachable results is read."""

import contextlib
import socket

import pytest

from benchmarks.fleet10k import loopback, refusing_port, stalling_listener, unreachable_rate
from benchmarks.fleet_bench import README, rewrite_readme


@pytest.mark.parametrize("name", ["fleet_bench", "fleet10k"])
def test_readme_has_the_generated_tables(name):
    text = README.read_text()
    assert text.count(f"<!-- {name} -->") == 1 and text.count(f"<!-- /{name} -->") == 1


def test_rewrite_readme_replaces_only_its_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- t -->\nold\n<!-- /t -->\nb\n<!-- u -->\nkept\n<!-- /u -->\n")
    rewrite_readme("t", "| new |", readme)
    assert readme.read_text() == "a\n<!-- t -->\n| new |\n<!-- /t -->\nb\n<!-- u -->\nkept\n<!-- /u -->\n"
    with pytest.raises(SystemExit, match="no <!-- v -->"):
        rewrite_readme("v", "x", readme)


def test_refused_and_stalled_entries_do_what_they_say():
    with contextlib.ExitStack() as stack:
        port = refusing_port(stack)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((loopback("127.2", 300), port), timeout=2)
        address = loopback("127.3", 0)
        with socket.create_connection((address, stalling_listener(stack, address)), timeout=2) as client:
            client.settimeout(0.2)
            with pytest.raises(TimeoutError):  # connected, and no banner comes
                client.recv(1)


def test_unreachable_rate_reads_only_the_refused_hosts_progress():
    # 10 sshd hosts, then 80 refused, 10 stalled: marks at every 10 hosts done.
    lines = [(0.0, "collected\n")] + [
        (float(d), f"fleetready: {d}/100 hosts done, 0 results failing\n") for d in range(10, 101, 10)
    ]
    lines[1] = (5.0, lines[1][1])  # the sshd hosts took longer
    assert unreachable_rate(lines, 10, 80, 12) == (90 - 10) * 12 / (90.0 - 5.0)
    assert unreachable_rate(lines[:2], 10, 80, 12) is None
