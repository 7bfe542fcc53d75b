"""The outside port probe run on another host, with this machine as that host (a real bash
over testinfra's local backend): refused connects print a second line starting with the
address (bash names its script $0, the address), which must never be read as a port."""

import socket

import testinfra

from fleetready.probe.firewall_probe import probe_from_host


def test_refused_and_open_ports_each_get_their_verdict():
    with socket.socket() as listener, socket.socket() as closed:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        closed.bind(("127.0.0.1", 0))  # bound, not listening: connects are refused
        ports = [listener.getsockname()[1], closed.getsockname()[1]]
        for _ in range(5):  # the bug showed in one run of four
            verdicts = probe_from_host(testinfra.get_host("local://"), "127.0.0.1", ports)
            assert verdicts == {ports[0]: "open", ports[1]: "closed"}
