"""Put a full lab host into a named state from lab/scenarios.yaml (through LabHost.exec)."""

import copy
import io
import json
import tarfile
import time
from functools import lru_cache
from pathlib import Path
from shlex import quote

import yaml

from . import pki
from .sh import pipe

SCENARIOS = Path(__file__).with_name("scenarios.yaml")
METRICS = "# HELP node_up Lab host is up.\\n# TYPE node_up gauge\\nnode_up 1\\n"
WAIT_DOCKER = "for i in $(seq 200); do docker info >/dev/null 2>&1 && break; sleep 0.05; done"


@lru_cache
def _all() -> dict:
    return yaml.safe_load(SCENARIOS.read_text())


def names() -> list[str]:
    return list(_all())


def _merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        return {k: _merge(base.get(k), over[k]) if k in over else v for k, v in base.items()} | {
            k: v for k, v in over.items() if k not in base
        }
    return copy.deepcopy(over)


def resolve(name: str) -> dict:
    """The full data of a state: its overrides deep-merged over what it extends."""
    spec = dict(_all()[name])
    parent = spec.pop("extends", "sound")
    return _merge(resolve(parent), spec) if parent else spec


def _firewall(host, fw) -> tuple[dict, list]:
    ports = ", ".join(str(int(p)) for p in fw["allow_tcp"])
    policy = {"drop": "drop", "accept": "accept"}[fw["input_policy"]]
    # Replaces only table inet filter: the inner dockerd's iptables-nft tables stay.
    ruleset = f"""#!/usr/sbin/nft -f
table inet filter
delete table inet filter
table inet filter {{
  chain input {{
    type filter hook input priority filter; policy {policy};
    iif lo accept
    ct state established,related accept
    meta l4proto {{ icmp, ipv6-icmp }} accept
    tcp dport {{ {ports} }} accept
  }}
}}
"""
    return {"/etc/nftables.conf": ruleset}, ["nft -f /etc/nftables.conf"]


def _web(host, tls, metrics) -> tuple[dict, list]:
    files, servers = {}, []
    if tls:
        cert, key = pki.leaf(tls["cert"], host.name, host.address)
        files = {"/etc/nginx/tls/server.pem": cert, "/etc/nginx/tls/server.key": key}
        plain = (
            "return 301 https://$host$request_uri;"
            if tls["https_redirect"]
            else "return 200 'fleetready lab (plain http)\\n';"
        )
        hsts = 'add_header Strict-Transport-Security "max-age=31536000" always;' if tls["hsts"] else ""
        ciphers = f"ssl_ciphers {tls['ciphers']};" if tls["ciphers"] else ""
        servers += [
            f"server {{ listen 80 default_server; location / {{ {plain} }} }}",
            "server { listen 443 ssl default_server;"
            " ssl_certificate /etc/nginx/tls/server.pem;"
            " ssl_certificate_key /etc/nginx/tls/server.key;"
            f" ssl_protocols {tls['protocols']}; {ciphers} {hsts}"
            " location / { return 200 'fleetready lab\\n'; } }",
        ]
    if metrics:
        servers.append(
            f"server {{ listen {int(metrics['port'])}; location = /metrics {{"
            f" default_type text/plain; return 200 '{METRICS}'; }} }}"
        )
    files["/etc/nginx/sites-enabled/default"] = "\n".join(servers) + "\n"
    return files, ["nginx -t -q", "nginx"]


def _backups(host, b) -> tuple[dict, list]:
    d = quote(b["dir"])
    mtime = int(time.time() - b["age_hours"] * 3600)
    script = [f"mkdir -p {d}"]
    for i in range(int(b["count"])):
        path = quote(f"{b['dir']}/db-{i}.tar.gz")
        # a real tar.gz of one file of size_bytes (restore drills read it back), or an empty file
        fill = (
            f"head -c {int(b['size_bytes'])} /dev/urandom >/tmp/db.data && tar -czf {path} -C /tmp db.data"
            " && rm /tmp/db.data"
            if b["size_bytes"]
            else f": >{path}"
        )
        script.append(fill)
        if i == 0 and b["truncated"]:  # the newest, cut to half its size as by a full disk
            script.append(f"truncate -s $(($(stat -c %s {path}) / 2)) {path}")
        script.append(f"touch -d @{mtime - i * 3600} {path}")
    return {}, script


def _restart_rsyslog() -> list:
    # SIGKILL: a clean rsyslogd shutdown takes about a second and a lab host has nothing to lose
    return [
        "kill -9 $(cat /run/rsyslogd.pid) 2>/dev/null || true",
        "while pgrep -x rsyslogd >/dev/null; do sleep 0.02; done",
        # in the foreground, detached: a forking rsyslogd holds `docker exec` for a second
        "rm -f /run/rsyslogd.pid",
        "setsid rsyslogd -n >/dev/null 2>&1 </dev/null &",
    ]


def _resolve(host, resolve) -> list:
    """name -> "self": /etc/hosts points the name at this host."""
    return [
        f"echo {quote(f'{host.address} {name}')} >>/etc/hosts" for name, where in resolve.items() if where == "self"
    ]


def _logging(host, log) -> tuple[dict, list]:
    action = (
        f'*.* action(type="omfwd" target="{log["target"]}" port="{int(log["port"])}" '
        # retry every second: the receiver may come up after this host (30 s default)
        'protocol="tcp" action.resumeRetryCount="-1" action.resumeInterval="1" '
        'queue.type="LinkedList")\n'
    )
    return ({"/etc/rsyslog.d/60-fleetready-forward.conf": action}, _resolve(host, log["resolve"]) + _restart_rsyslog())


def _docker_logs(host, d) -> tuple[dict, list]:
    # Merged into the daemon.json the host's init wrote (lab/images.py): its registry settings stay.
    daemon = json.loads(host.check("cat /etc/docker/daemon.json"))
    daemon |= {"log-driver": "syslog", "log-opts": {"syslog-address": d["syslog_address"]}}
    # dockerd reads log settings only at start: stop the init's dockerd once up, start another.
    restart = [
        WAIT_DOCKER,
        "kill $(cat /var/run/docker.pid)",
        "while pgrep -x dockerd >/dev/null; do sleep 0.05; done",
        "setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &",
        WAIT_DOCKER,
    ]
    return {"/etc/docker/daemon.json": json.dumps(daemon) + "\n"}, _resolve(host, d["resolve"]) + restart


def _receiver(host, r) -> tuple[dict, list]:
    conf = f"""module(load="imtcp")
template(name="remote" type="string" string="%fromhost-ip% %HOSTNAME% %syslogtag%%msg%\\n")
ruleset(name="remote") {{ action(type="omfile" file="{r["file"]}" template="remote") }}
input(type="imtcp" port="{int(r["port"])}" ruleset="remote")
"""
    return {"/etc/rsyslog.d/10-fleetready-receiver.conf": conf}, _restart_rsyslog()


def _etcd(host, e) -> tuple[dict, list]:
    urls = "http://0.0.0.0:2379,http://0.0.0.0:4001"
    script = [
        f"setsid etcd --name {quote(host.name)} --data-dir /var/lib/etcd --enable-v2"
        f" --listen-client-urls {urls} --advertise-client-urls http://{quote(host.address)}:2379"
        " >/var/log/etcd.log 2>&1 </dev/null &",
        "for i in $(seq 200); do etcdctl endpoint health >/dev/null 2>&1 && break; sleep 0.05; done",
    ]
    script += [f"ETCDCTL_API=2 etcdctl set {quote(k)} {quote(str(v))} >/dev/null" for k, v in e.get("keys", {}).items()]
    return {"/etc/environment": "ETCDCTL_API=2\n"}, script  # Deis hosts use the v2 API


def _deis(host, d) -> tuple[dict, list]:
    images = [f"deis/{c}:{d['release']}" for c in d["components"]] + d["extra_images"]
    for ref in images:
        host.lab.registry.push(ref)
    pulls = "\n".join(
        f'img="deis/{c}:$RELEASE"\ndocker history "$img" >/dev/null 2>&1 || docker pull -q "$img"'
        for c in d["components"]
    )
    extra = "\n".join(
        f"docker history {quote(i)} >/dev/null 2>&1 || docker pull -q {quote(i)}" for i in d["extra_images"]
    )
    preseed = f"""#!/bin/sh
# Pull each Deis image only when it is not present (Deis v1 cloud-config preseed).
set -e
RELEASE=$(etcdctl get /deis/platform/version 2>/dev/null || sed -n 's/^DEIS_RELEASE=//p' /etc/deis-release)
{pulls}
{extra}
"""
    files = {"/etc/deis-release": f"DEIS_RELEASE={d['release']}\n", "/run/deis/bin/preseed": preseed}
    return files, ["chmod 755 /run/deis/bin/preseed", WAIT_DOCKER, "ETCDCTL_API=2 /run/deis/bin/preseed"]


def _tar(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode = len(data), 0o600 if path.endswith(".key") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _load_images(host, refs: list) -> None:
    if refs:
        host.check(WAIT_DOCKER)
        pipe(["docker", "save", *refs], ["docker", "exec", "-i", host.container, "docker", "load", "-q"])


def apply(host, name: str) -> dict:
    """Apply state `name` to a freshly started full host; returns the resolved state data."""
    spec = resolve(name)
    steps = []
    if spec.get("firewall"):
        steps.append(_firewall(host, spec["firewall"]))
    if spec.get("tls") or spec.get("metrics"):
        steps.append(_web(host, spec.get("tls"), spec.get("metrics")))
    for key, make in (
        ("backups", _backups),
        ("logging", _logging),
        ("docker_logs", _docker_logs),
        ("receiver", _receiver),
        ("etcd", _etcd),
        ("deis", _deis),
    ):
        if spec.get(key):
            steps.append(make(host, spec[key]))
    files = {p: t for f, _ in steps for p, t in f.items()}
    host.check(["tar", "-x", "-C", "/"], input=_tar(files))
    host.check("set -e\n" + "\n".join(line for _, s in steps for line in s))
    _load_images(host, spec.get("images") or [])
    return spec
