"""Lab images, each tagged with a hash of its recipe: unchanged recipe = reused instantly."""

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import keys, rootfs
from .once import creator
from .paths import LABEL
from .sh import CommandError, out, pipe, run

RECIPE_LABEL = "fleetready.lab.recipe"
SSHD_CONFIG = """\
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 200:30:400
"""
# CMD of full hosts. cgroup v1 mounts are read-only in the container and the inner dockerd
# needs them writable; LAB_REGISTRY (the lab bridge gateway) is known only at `docker run`.
FULL_INIT = """\
#!/bin/sh
for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d" 2>/dev/null || true; done
if [ -n "${LAB_REGISTRY:-}" ]; then
  printf '{"insecure-registries":["%s"],"registry-mirrors":["http://%s"]}\\n' \\
    "$LAB_REGISTRY" "$LAB_REGISTRY" >/etc/docker/daemon.json
fi
rsyslogd
dockerd >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e
"""
SSHD_PACKAGES = ["openssh-server", "iproute2"]  # light, but like a real host: ss
FULL_PACKAGES = [
    "openssh-server",
    "nftables",
    "iptables",
    "rsyslog",
    "docker.io",
    "nginx-light",
    "openssl",
    "curl",
    "iproute2",
    "procps",
    "ca-certificates",
    "etcd-server",
    "etcd-client",
    "restic",
    "busybox-static",
    "python3-minimal",
]
DEIS_COMPONENTS = [
    "builder",
    "controller",
    "database",
    "logger",
    "logspout",
    "publisher",
    "registry",
    "router",
    "store-daemon",
    "store-gateway",
    "store-metadata",
    "store-monitor",
]
# Stand-in content: tiny busybox images, each with its own marker file so every ID differs.
STANDINS = [f"deis/{c}:v1.13.4" for c in DEIS_COMPONENTS] + [
    "deis/router:v1.12.3",
    "alpine:3.2",
    "fleetready-lab/app:1.0",
    "fleetready-lab/app:0.9",
    "fleetready-lab/worker:1.0",
]


def _hash(recipe) -> str:
    recipe = {"prune": rootfs.PRUNE, "recipe": recipe}  # pruning changes the image too
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def _host_files() -> dict:
    return {
        "/root/.ssh/authorized_keys": (keys.client_public(), 0o600),
        "/etc/ssh/ssh_host_ed25519_key": (keys.HOST_KEY.read_text(), 0o600),
        "/etc/ssh/ssh_host_ed25519_key.pub": (keys.HOST_KEY.with_suffix(".pub").read_text(), 0o644),
        "/etc/ssh/sshd_config.d/fleetready-lab.conf": (SSHD_CONFIG, 0o644),
        "/run/sshd/.keep": ("", 0o644),
    }


def host_recipes() -> dict:
    """name -> recipe for the host images. Needs the keys (they are part of the recipe)."""
    keys.ensure_keys()
    full_files = {**_host_files(), "/usr/local/sbin/fleetready-init": (FULL_INIT, 0o755)}
    return {
        "sshd": {
            "base": rootfs.base_id(),
            "packages": SSHD_PACKAGES,
            "files": _host_files(),
            "cmd": ["/usr/sbin/sshd", "-D", "-e"],
        },
        "full": {
            "base": rootfs.base_id(),
            "packages": FULL_PACKAGES,
            "files": full_files,
            "cmd": ["/usr/local/sbin/fleetready-init"],
            # imklog cannot read the kernel log in a container: drop it rather than log noise
            "post": [["sed", "-i", "/imklog/s/^/#/", "/etc/rsyslog.conf"]],
        },
    }


def image_ref(kind: str) -> str:
    return f"fleetready-lab/{kind}:{_hash(host_recipes()[kind])}"


def _exists(ref: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True).returncode == 0


def _recipe_of(ref: str) -> str | None:
    try:
        return out(["docker", "image", "inspect", "-f", f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}', ref]) or None
    except CommandError:
        return None


def _import(root: Path, ref: str, cmd: list[str], recipe_hash: str) -> None:
    pipe(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."],
        [
            "docker",
            "import",
            "-c",
            f"CMD {json.dumps(cmd)}",
            "-c",
            f"LABEL {LABEL}.image=1 {RECIPE_LABEL}={recipe_hash}",
            "-",
            ref,
        ],
    )


def build_host_image(kind: str) -> str:
    recipe = host_recipes()[kind]
    ref = image_ref(kind)
    if _exists(ref):
        return ref
    with creator(rootfs.BUILD / "host-images"):  # builds share work dirs and the .deb cache
        if not _exists(ref):
            root = rootfs.build_rootfs(kind, recipe["packages"], recipe["files"])
            for argv in recipe.get("post", []):
                run(["chroot", str(root), *argv])
            _import(root, ref, recipe["cmd"], ref.rsplit(":", 1)[1])
            shutil.rmtree(root)
            _drop_older(kind, ref)
    return ref


def _drop_older(kind: str, keep: str) -> None:
    """Remove images of earlier recipes (one in use by a running lab just stays)."""
    tags = out(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"fleetready-lab/{kind}"])
    old = [t for t in tags.split() if t != keep]
    if old:
        run(["docker", "rmi", *old], check=False)


def _busybox_tree(root: Path) -> None:
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin/busybox")
    for applet in out(["/bin/busybox", "--list"]).split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    for d in ("etc", "tmp", "proc", "sys", "dev"):
        (root / d).mkdir(exist_ok=True)


def build_standins() -> list[str]:
    busybox_sum = hashlib.sha256(Path("/bin/busybox").read_bytes()).hexdigest()
    todo = [ref for ref in STANDINS if _recipe_of(ref) != _hash([busybox_sum, ref])]
    if not todo:
        return STANDINS
    with creator(rootfs.BUILD / "standins"), tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _busybox_tree(root)
        for ref in todo:
            (root / "etc/fleetready-standin").write_text(ref + "\n")
            _import(root, ref, ["/bin/sh"], _hash([busybox_sum, ref]))
    return STANDINS


def build_all() -> dict:
    """Build (or reuse) every lab image; returns kind -> ref."""
    refs = {kind: build_host_image(kind) for kind in ("sshd", "full")}
    build_standins()
    return refs
