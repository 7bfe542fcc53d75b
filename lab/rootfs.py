"""Debian root filesystems made offline: debootstrap once, then chroot installs per image."""

import hashlib
import json
import shutil
from contextlib import contextmanager
from pathlib import Path

from .once import creator
from .paths import CACHE
from .sh import run

SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
BUILD = CACHE / "build"
APT_ARCHIVES = CACHE / "apt-archives"  # shared .deb cache: a recipe change downloads only what is new
PRUNE = [
    "var/lib/apt/lists/*_*",
    "var/cache/apt/*.bin",
    "var/cache/apt/archives/*.deb",
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/locale/*",
]
APT_CONF = 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\n'  # dated snapshot mirror


def apt_sources() -> list[tuple[str, str]]:
    """(URI, suite) pairs of the machine's deb822 sources: the only mirror we can reach."""
    pairs, uris = [], []
    for line in SOURCES.read_text().splitlines():
        key, _, value = line.partition(":")
        if key == "URIs":
            uris = value.split()
        elif key == "Suites":
            pairs += [(u, s) for u in uris for s in value.split()]
    return pairs


def base_id() -> str:
    recipe = {"suite": SUITE, "variant": "minbase", "sources": apt_sources(), "apt": APT_CONF}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def base_rootfs() -> Path:
    """The minbase rootfs with fresh apt lists, built once per mirror/suite."""
    root = CACHE / "base" / base_id()
    if (root / ".complete").exists():
        return root
    with creator(root):
        if not (root / ".complete").exists():
            _debootstrap(root)
    return root


def _debootstrap(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)  # a build that died half-way
    root.parent.mkdir(parents=True, exist_ok=True)
    mirror = next(u for u, s in apt_sources() if s == SUITE)
    run(["debootstrap", "--variant=minbase", SUITE, str(root), mirror], timeout=1200)
    (root / "etc/apt/apt.conf.d/99fleetready-lab").write_text(APT_CONF)
    (root / "etc/apt/sources.list").write_text("".join(f"deb {u} {s} main\n" for u, s in apt_sources()))
    with chroot_mounts(root):
        run(["chroot", str(root), "apt-get", "update"], timeout=600)
    (root / ".complete").touch()


@contextmanager
def chroot_mounts(root: Path):
    """proc for maintainer scripts, the shared .deb cache, resolv.conf for the mirror's name;
    policy-rc.d so no package starts a service at build time."""
    APT_ARCHIVES.mkdir(parents=True, exist_ok=True)
    archives = root / "var/cache/apt/archives"
    archives.mkdir(parents=True, exist_ok=True)
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    run(["mount", "-t", "proc", "proc", str(root / "proc")])
    try:
        run(["mount", "--bind", str(APT_ARCHIVES), str(archives)])
        try:
            yield
        finally:
            run(["umount", str(archives)])
    finally:
        run(["umount", str(root / "proc")])
        policy.unlink()


def build_rootfs(name: str, packages: list[str], files: dict) -> Path:
    """A copy of the base with packages installed and files ({path: (text, mode)}) written."""
    work = BUILD / name
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", str(base_rootfs()), str(work)])
    (work / ".complete").unlink()
    with chroot_mounts(work):
        run(
            [
                "chroot",
                str(work),
                "env",
                "DEBIAN_FRONTEND=noninteractive",
                "apt-get",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                *packages,
            ],
            timeout=1800,
        )
    # Smaller images (hosts never run apt; nobody reads docs there): about half the size.
    for rel in PRUNE:
        for path in work.glob(rel):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    for path in work.glob("etc/ssh/ssh_host_*"):
        path.unlink()  # package postinst made per-image keys; the lab bakes one known key
    for rel, (text, mode) in files.items():
        target = work / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
    return work
