"""Inventory sources read by running a program: an executable inventory script (Ansible's
documented JSON protocol, no Ansible needed), and anything else ansible-core reads (plugin
configurations, vault, directories of sources) through the user's own `ansible-inventory`.

Each program runs in the working directory and environment of the run, with no input and
within a time limit; whatever goes wrong is a ConfigError naming the source, never a hang.
"""

import json
import os
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import time
from dataclasses import dataclass

from fleetready.config.errors import ConfigError

INSTALL_HINT = "pip install ansible-core"
# A source Ansible cannot parse is a failure, not an empty (or partial) fleet left unchecked.
_STRICT_ENV = {
    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
    "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
    "ANSIBLE_NOCOLOR": "1",
}


@dataclass(frozen=True)
class AnsibleOptions:
    """What a run passes to ansible-core: vault secrets as Ansible's own options, a time limit."""

    vault_password_files: tuple = ()
    vault_ids: tuple = ()
    timeout: float = 120.0

    def vault_args(self):
        return [arg for f in self.vault_password_files for arg in ("--vault-password-file", f)] + [
            arg for i in self.vault_ids for arg in ("--vault-id", i)
        ]


def find_command(name):
    """An ansible-core command: on PATH, else beside the running Python (a venv not activated)."""
    return shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts"))


def script_listing(path, timeout):
    """What an executable inventory script prints for `--list`, with `_meta.hostvars` filled by
    `--host NAME` per host when the script gives none (as Ansible's script plugin does)."""
    deadline = time.monotonic() + timeout
    command = os.path.abspath(path)  # never looked up on PATH
    listing = _json(path, "inventory script", _run([command, "--list"], path, "inventory script", deadline, timeout))
    meta = listing.setdefault("_meta", {}) if isinstance(listing, dict) else None
    if isinstance(meta, dict) and "hostvars" not in meta:
        meta["hostvars"] = {
            name: _json(
                path,
                f"inventory script --host {name}",
                _run([command, "--host", name], path, "inventory script", deadline, timeout),
            )
            for name in sorted(set(_host_names(listing)))
        }
    return listing


def _host_names(listing):
    """The host names of a --list, as far as its shape allows (the inventory loader judges it)."""
    for group, data in listing.items():
        hosts = data.get("hosts") if isinstance(data, dict) else data
        if group != "_meta" and isinstance(hosts, list):
            yield from (name for name in hosts if isinstance(name, str))


def ansible_listing(command, source, options):
    """`ansible-inventory -i SOURCE --list` as JSON, vault-encrypted values decrypted with the
    same vault options by ansible-vault (ansible-inventory prints them as ciphertext)."""
    deadline = time.monotonic() + options.timeout
    args = [command, "-i", source, "--list", *options.vault_args()]
    text = _run(args, source, "ansible-inventory", deadline, options.timeout)
    secrets = {}

    def collect(obj):
        if set(obj) == {"__ansible_vault"}:
            secrets[obj["__ansible_vault"]] = None
        return obj

    _json(source, "ansible-inventory", text, collect)
    vault = os.path.join(os.path.dirname(command), "ansible-vault")
    # The ciphertext from a file: on standard input, ansible-vault would read a password prompt.
    with tempfile.TemporaryDirectory(prefix="fleetready-vault-") as tmp:
        for index, ciphertext in enumerate(secrets):
            path = os.path.join(tmp, str(index))
            with open(path, "w", encoding="utf-8") as f:
                f.write(ciphertext)
            args = [vault, "decrypt", "--output", "-", *options.vault_args(), path]
            secrets[ciphertext] = _run(
                args, source, "ansible-vault decrypt of a !vault value", deadline, options.timeout
            )

    def plain(obj):
        if set(obj) == {"__ansible_vault"}:
            return secrets[obj["__ansible_vault"]]
        return obj["__ansible_unsafe"] if set(obj) == {"__ansible_unsafe"} else obj

    return _json(source, "ansible-inventory", text, plain)


def _json(source, what, text, hook=None):
    try:
        return json.loads(text, object_hook=hook)
    except (ValueError, RecursionError) as e:
        raise ConfigError(source, f"{what} printed no JSON: {e}") from None


def _run(args, source, what, deadline, timeout):
    """The program's standard output; ConfigError with its own error line when it fails. It
    runs in a session of its own, so that on timeout its children are ended with it."""
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **_STRICT_ENV},
            start_new_session=True,
        )
    except OSError as e:
        raise ConfigError(source, f"cannot run {what}: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(timeout=max(0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ConfigError(source, f"{what} did not finish within {timeout:g} s (--inventory-timeout)") from None
    if proc.returncode != 0:
        error = _error_line(err.decode(errors="replace"))
        raise ConfigError(source, f"{what} failed (exit status {proc.returncode}){': ' + error if error else ''}")
    return out.decode(errors="surrogateescape")


def _error_line(stderr):
    """Ansible's own line for a failure: why the first plugin that tried the source failed, else
    its last error; a script's last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("[WARNING]: Failed to parse"):
            return line.removeprefix("[WARNING]: ")
    errors = [line.removeprefix("[ERROR]: ") for line in lines if line.startswith("[ERROR]:")]
    return (errors or lines or [""])[-1]
