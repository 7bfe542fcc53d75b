"""The lab is what the checks are tested against, so prove it: every defect scenario really
has its defect, observed the way an outsider would, and `sound` has none of them."""

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lab import pki, state
from lab.fleet import cleanup_stale, list_labs

pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
VARIANTS = ["deis", "docker_log_driver"]  # sound hosts of another kind, no defect
DEFECTS = [n for n in state.names() if n not in ("sound", "receiver", *VARIANTS)]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lab(make_lab):
    """One full host per scenario (started concurrently), an outside prober and a tarpit."""
    hosts = {s.replace("_", "-"): s for s in ["sound", *VARIANTS, *DEFECTS]}
    return make_lab(sshd=1, full=hosts, tarpits=1)


def host(lab, scenario):
    return lab.host(scenario.replace("_", "-"))


def reachable_from_machine(address, port, timeout=0.5) -> bool:
    try:
        socket.create_connection((address, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def reachable_from_host(prober, address, port) -> bool:
    rc, _ = prober.exec(f"timeout 1 bash -c '</dev/tcp/{address}/{int(port)}'")
    return rc == 0


def tls_error(h, server_name=pki.SERVER_NAME) -> str | None:
    """Verification error of the served certificate as a client trusting the lab CA sees it."""
    ctx = ssl.create_default_context(cafile=str(pki.CA_CERT))
    try:
        with socket.create_connection((h.address, 443), timeout=3) as sock:
            ctx.wrap_socket(sock, server_hostname=server_name).close()
        return None
    except ssl.SSLCertVerificationError as exc:
        return exc.verify_message


def accepts_tls1(h) -> bool:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.0 above level 0
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
    try:
        with socket.create_connection((h.address, 443), timeout=3) as sock:
            ctx.wrap_socket(sock).close()
        return True
    except ssl.SSLError:
        return False


def http_get(h, port, path="/", tls=False):
    if tls:
        ctx = ssl.create_default_context(cafile=str(pki.CA_CERT))
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection(h.address, port, timeout=3, context=ctx)
    else:
        conn = http.client.HTTPConnection(h.address, port, timeout=3)
    conn.request("GET", path, headers={"Host": pki.SERVER_NAME})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def images_in_engine(h) -> set:
    rc, out = h.exec("docker images --format '{{.Repository}}:{{.Tag}}'")
    assert rc == 0
    return set(out.split())


PROFILE = yaml.safe_load((ROOT / "lab/profile.yaml").read_text())
REQUIRED = set(PROFILE["images"]["required"])


def backup_files(h) -> list[tuple[int, float]]:
    """(size, age in hours) of each backup file matching the profile's path."""
    src = PROFILE["backups"]["sources"][0]
    _, out = h.exec(f"stat -c '%s %Y' {src['path']} 2>/dev/null")
    now = time.time()
    return [(int(s), (now - int(m)) / 3600) for s, m in (line.split() for line in out.splitlines())]


@pytest.fixture(scope="module")
def received(lab) -> str:
    """Log a canary on every scenario host at once; the receiver's file once the sound
    host's canary (the slowest expected one) has arrived, plus a margin for stragglers."""
    canaries = {
        h.name: f"canary-{h.name}-{time.time_ns()}"
        for h in lab.hosts.values()
        if h.kind == "full" and h.scenario != "receiver"
    }
    for name, canary in canaries.items():
        lab.host(name).exec(["logger", canary])
    receiver = lab.host("logs")
    deadline = time.monotonic() + 10
    while canaries["sound"] not in receiver.exec("cat /var/log/remote.log")[1]:
        assert time.monotonic() < deadline, "sound host's canary never arrived"
        time.sleep(0.1)
    time.sleep(1)
    log = receiver.exec("cat /var/log/remote.log")[1]
    return {name: canary in log for name, canary in canaries.items()}


def ssh(lab, h, command) -> subprocess.CompletedProcess:
    """OpenSSH with the lab's ssh_config (host key checked against its known_hosts)."""
    return subprocess.run(
        ["ssh", "-F", str(lab.files["ssh_config"]), "-o", "BatchMode=yes", h.address, command],
        capture_output=True,
        text=True,
        timeout=20,
    )


def drain_config(h) -> str:
    return h.exec("cat /etc/rsyslog.d/*.conf 2>/dev/null")[1]


def docker_drain(h) -> bool:
    """The running engine logs through its syslog driver to logs.lab:514, as daemon.json says."""
    driver = h.exec("docker info --format '{{.LoggingDriver}}'")[1].strip()
    daemon = h.exec("cat /etc/docker/daemon.json")[1]
    return driver == "syslog" and '"syslog-address": "tcp://logs.lab:514"' in daemon


def drain_reachable(h) -> bool:
    return h.exec("timeout 1 bash -c '</dev/tcp/logs.lab/514'")[0] == 0


# scenario -> probe(lab, host) returning True when that host shows the defect
PROBES = {
    "missing_images": lambda lab, h: not REQUIRED <= images_in_engine(h),
    "wrong_image_tag": lambda lab, h: (
        "fleetready-lab/app:1.0" not in images_in_engine(h) and "fleetready-lab/app:0.9" in images_in_engine(h)
    ),
    "firewall_off": lambda lab, h: (
        "policy accept" in h.exec("nft list chain inet filter input")[1] and reachable_from_machine(h.address, 9100)
    ),
    "firewall_open_port": lambda lab, h: (
        reachable_from_machine(h.address, 2379) and reachable_from_host(lab.host("sshd0"), h.address, 2379)
    ),
    "cert_expired": lambda lab, h: tls_error(h) == "certificate has expired",
    "cert_self_signed": lambda lab, h: tls_error(h) == "self-signed certificate",
    "cert_wrong_name": lambda lab, h: (tls_error(h) or "").startswith("Hostname mismatch"),
    "legacy_tls": lambda lab, h: accepts_tls1(h),
    "no_https_redirect": lambda lab, h: http_get(h, 80).status == 200,
    "no_hsts": lambda lab, h: http_get(h, 443, tls=True).getheader("Strict-Transport-Security") is None,
    "backup_stale": lambda lab, h: (
        min(age for _, age in backup_files(h)) > PROFILE["backups"]["sources"][0]["max_age_hours"]
    ),
    "backup_empty": lambda lab, h: all(size == 0 for size, _ in backup_files(h)),
    "backup_truncated": lambda lab, h: h.exec("gzip -t /var/backups/fleetready/db-0.tar.gz")[0] != 0,
    "metrics_down": lambda lab, h: h.exec("curl -sf http://127.0.0.1:9100/metrics")[0] != 0,
}
# the log defects are all "the canary does not arrive", told apart by the configuration
LOG_PROBES = {
    "no_log_forwarding": lambda h: "omfwd" not in drain_config(h),
    "log_forwarding_wrong_target": lambda h: 'target="logs.lab"' not in drain_config(h) and "omfwd" in drain_config(h),
    "receiver_down": lambda h: 'target="logs.lab" port="514"' in drain_config(h) and not drain_reachable(h),
    "docker_log_driver_receiver_down": lambda h: (
        docker_drain(h) and "omfwd" not in drain_config(h) and not drain_reachable(h)
    ),
}


def test_every_defect_has_a_probe():
    assert set(PROBES) | set(LOG_PROBES) == set(DEFECTS)


@pytest.mark.parametrize("scenario", sorted(PROBES))
def test_defect_is_really_there(lab, scenario):
    assert PROBES[scenario](lab, host(lab, scenario))


@pytest.mark.parametrize("scenario", sorted(PROBES))
def test_sound_host_does_not_have_it(lab, scenario):
    assert not PROBES[scenario](lab, host(lab, "sound"))


@pytest.mark.parametrize("scenario", sorted(LOG_PROBES))
def test_log_defect_is_really_there(lab, received, scenario):
    h = host(lab, scenario)
    assert LOG_PROBES[scenario](h)
    assert not received[h.name]


def test_sound_host_forwards_logs(lab, received):
    sound = host(lab, "sound")
    assert received["sound"]
    assert not any(probe(sound) for probe in LOG_PROBES.values())


def test_docker_log_driver_host_forwards_container_logs_only(lab, received):
    h = host(lab, "docker_log_driver")
    assert docker_drain(h) and "omfwd" not in drain_config(h) and drain_reachable(h)
    assert not received[h.name]  # its syslog daemon forwards nothing
    line = f"container-{time.time_ns()}"
    h.check(f"docker run --rm --pull never --network none alpine:3.2 echo {line}")
    deadline = time.monotonic() + 10
    while line not in lab.host("logs").exec("cat /var/log/remote.log")[1]:
        assert time.monotonic() < deadline, "the container's line never arrived"
        time.sleep(0.1)


def test_sound_host_meets_the_profile(lab):
    """Positive evidence for every requirement, beyond the absence of each defect."""
    h = host(lab, "sound")
    assert tls_error(h) is None
    resp = http_get(h, 80)
    assert resp.status == 301 and resp.getheader("Location").startswith("https://")
    assert "max-age=" in http_get(h, 443, tls=True).getheader("Strict-Transport-Security")
    for port in PROFILE["firewall"]["allowed_tcp_ports"]:
        assert reachable_from_machine(h.address, port), port
    for port in PROFILE["firewall"]["closed_tcp_ports"]:
        assert not reachable_from_host(lab.host("sshd0"), h.address, port), port
    assert "policy drop" in h.exec("nft list chain inet filter input")[1]
    assert all(size > 0 for size, _ in backup_files(h)) and backup_files(h)
    rc, metrics = h.exec(["curl", "-sf", PROFILE["monitoring"]["metrics_url"]])
    assert rc == 0 and "node_up 1" in metrics


def test_deis_host(lab):
    h = host(lab, "deis")
    rc, out = h.exec("curl -sf http://127.0.0.1:4001/v2/keys/deis/platform/version")
    assert rc == 0 and '"value":"v1.13.4"' in out
    # an ssh session gets ETCDCTL_API=2 from /etc/environment, as on a Deis host
    assert ssh(lab, h, "etcdctl get /deis/logs/drain").stdout.strip() == "tcp://logs.lab:514"
    assert "DEIS_RELEASE=v1.13.4" in h.exec("cat /etc/deis-release")[1]
    assert {"deis/router:v1.13.4", "deis/store-monitor:v1.13.4", "alpine:3.2"} <= images_in_engine(h)
    rc, out = h.exec("ETCDCTL_API=2 /run/deis/bin/preseed 2>&1")
    assert rc == 0 and out == ""  # already preseeded: nothing pulled
    assert not reachable_from_machine(h.address, 4001)  # etcd on 0.0.0.0, firewalled


def test_hosts_answer_over_openssh_with_the_lab_files(lab):
    proc = ssh(lab, lab.host("sshd0"), "hostname")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "sshd0"


def test_inventory_lists_every_reachable_host(lab):
    inv = yaml.safe_load(lab.files["inventory"].read_text())["all"]["children"]
    assert set(inv["lab"]["hosts"]) == set(lab.hosts)
    assert inv["lab"]["hosts"]["sshd0"]["ansible_host"] == lab.host("sshd0").address
    assert inv["lab"]["hosts"]["sound"]["fleetready_profile"] == str(lab.files["profile"])
    # The CA of this lab cache, wherever FLEETREADY_LAB_CACHE points.
    endpoint = yaml.safe_load(lab.files["profile"].read_text())["tls"]["endpoints"][0]
    assert endpoint["ca_file"] == str(pki.CA_CERT)
    assert "fleetready_profile" not in inv["lab"]["hosts"]["logs"]
    assert set(inv["tarpit"]["hosts"]) == {"tarpit0"}


def test_tarpit_accepts_and_never_answers(lab):
    with socket.create_connection((lab.host("tarpit0").address, 22), timeout=1) as sock:
        sock.settimeout(1)
        with pytest.raises(socket.timeout):
            sock.recv(1)


def test_stopped_host_refuses_and_comes_back(make_lab):
    small = make_lab(sshd=1)
    h = small.host("sshd0")
    h.stop()
    assert not reachable_from_machine(h.address, 22)
    h.start()
    assert reachable_from_machine(h.address, 22)


def test_cleanup_stale_removes_labs_of_dead_processes(lab_images):
    code = (
        "from lab.fleet import Lab; lab = Lab(); lab.add_host('a'); lab.up(); "
        "print(lab.name, flush=True); import time; time.sleep(600)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    name = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert name in list_labs()
    assert name in cleanup_stale()
    assert name not in list_labs()
