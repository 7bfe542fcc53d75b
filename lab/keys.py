"""SSH key material made at lab build time, kept in the cache, never in the repo."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from reports.atomic import write_atomic

from .once import creator
from .paths import CACHE

KEYS = CACHE / "keys"
CLIENT_KEY = KEYS / "id_ed25519"
HOST_KEY = KEYS / "ssh_host_ed25519_key"


def _make_pair(path: Path, comment: str) -> None:
    if path.exists():
        return
    with creator(path):
        if path.exists():
            return
        key = ed25519.Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        write_atomic(path.with_suffix(".pub"), public + b" " + comment.encode() + b"\n")
        write_atomic(path, private, mode=0o600)  # private key last: it marks a complete pair


def ensure_keys() -> None:
    """The client key (root's authorized_keys in every image) and the one shared host key."""
    _make_pair(CLIENT_KEY, "fleetready-lab-client")
    _make_pair(HOST_KEY, "fleetready-lab-host")


def client_public() -> str:
    return CLIENT_KEY.with_suffix(".pub").read_text()


def host_public() -> str:
    """`ssh-ed25519 AAAA...` without the comment, as known_hosts wants it."""
    return " ".join(HOST_KEY.with_suffix(".pub").read_text().split()[:2])
