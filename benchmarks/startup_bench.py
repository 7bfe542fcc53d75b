"""Start-up cost of small runs: median wall and CPU of bin/fleetready as users run it.

    python -m benchmarks.startup_bench --repeats 9

Three commands, interleaved round by round, from a temporary working directory:

- local: `bin/fleetready -q` with no arguments (this machine's checks);
- tls-only: `bin/fleetready -q -k FR-TLS-01` over a one-host inventory whose profile has one
  TLS endpoint only, served on 127.0.0.1 by this script (an HTTPS server in a thread, its
  certificate made by `openssl req`);
- floor: `python -c "import pytest"` with the same interpreter.

Start-up is the process's wall time less pytest's own session time (the `in 0.12s` of its
last line): interpreter, plugins, options, configure before the session, and pytest's
teardown after it. CPU is user+sys of the process and its children (os.wait4).

`--checkout DIR` (repeatable) measures other checkouts of fleetready in the same rounds, e.g. a
`git worktree` of the commit before a change: before and after under the same load.
"""

import argparse
import http.server
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION = re.compile(r" in ([0-9.]+)s")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Strict-Transport-Security", "max-age=31536000")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def tls_server(workdir):
    """An HTTPS server on 127.0.0.1 (a thread); returns (server, the CA file that trusts it)."""
    ca, cert, key = workdir / "ca.pem", workdir / "cert.pem", workdir / "key.pem"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"]
    for argv in (
        [*ec, "-keyout", workdir / "ca.key", "-out", ca, "-subj", "/CN=bench CA"]
        + ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
        [*ec, "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-CA", ca, "-CAkey", workdir / "ca.key"]
        + ["-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:FALSE"],
    ):
        subprocess.run(["openssl", "req", "-x509", *map(str, argv)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, ca


def tls_only_inventory(workdir, port, ca):
    (workdir / "tls-only.yaml").write_text(
        "profile: tls-only\n"
        "tls:\n"
        "  endpoints:\n"
        f"    - {{name: bench, port: {port}, server_name: localhost, ca_file: {ca}}}\n"
    )
    inventory = workdir / "inventory.yml"
    inventory.write_text(
        "all:\n  hosts:\n    bench:\n"
        "      ansible_connection: local\n      ansible_host: 127.0.0.1\n"
        "      fleetready_profile: tls-only.yaml\n"
    )
    return inventory


def measure(argv, cwd, env):
    """(wall s, CPU s, pytest's session s or None) of one run; exit 0 or 1 expected."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: a check fails on this machine (its firewall, say)
        raise SystemExit(f"{argv} exited {code}:\n{output[-3000:]}")
    session = SESSION.findall(output)
    return wall, usage.ru_utime + usage.ru_stime, float(session[-1]) if session else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--checkout", action="append", type=Path, help="default: this one")
    args = parser.parse_args()
    checkouts = [path.resolve() for path in args.checkout or [ROOT]]
    # As bin/fleetready runs: bytecode cached.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="fleetready-startup-") as tmp:
        workdir = Path(tmp)
        server, ca = tls_server(workdir)
        inventory = tls_only_inventory(workdir, server.server_address[1], ca)
        commands = {}
        for root in checkouts:
            fleetready = str(root / "bin" / "fleetready")
            label = f"{root.name}: " if len(checkouts) > 1 else ""
            commands[label + "local"] = root, [fleetready, "-q"]
            commands[label + "tls-only"] = root, [fleetready, "-q", "-k", "FR-TLS-01", "--inventory", str(inventory)]
        commands["import pytest"] = ROOT, [str(ROOT / ".venv" / "bin" / "python"), "-c", "import pytest"]
        for root, argv in commands.values():  # warm: bytecode written, files in the page cache
            measure(argv, workdir, {**env, "PYTHONPATH": str(root)})
        load = os.getloadavg()
        runs = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, (root, argv) in commands.items():
                # PYTHONPATH: the checkout's own modules, whichever the venv's .pth names
                runs[name].append(measure(argv, workdir, {**env, "PYTHONPATH": str(root)}))
        server.shutdown()
    print(f"medians of {args.repeats}, interleaved; load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    width = max(map(len, runs))
    print(f"{'run':<{width}} {'wall':>8} {'CPU':>8} {'start-up':>9} {'session':>8}")
    for name, results in runs.items():
        wall, cpu = (statistics.median(r[i] for r in results) for i in (0, 1))
        sessions = [r[2] for r in results if r[2] is not None]
        startup, session = (
            (f"{statistics.median(r[0] - r[2] for r in results):.3f} s", f"{statistics.median(sessions):.3f} s")
            if len(sessions) == len(results)
            else ("", "")
        )
        print(f"{name:<{width}} {wall:>6.3f} s {cpu:>6.3f} s {startup:>9} {session:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
