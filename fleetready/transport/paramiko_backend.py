"""testinfra's paramiko backend as fleetready connects with it (imported only by runs that use it)."""

import functools
import os
import socket

import paramiko
from testinfra.backend.paramiko import IgnorePolicy, ParamikoBackend


class FastParamikoBackend(ParamikoBackend):
    """testinfra's paramiko backend, made strict about host keys and quick per command.

    testinfra's own client accepts unknown host keys with a warning and leaves Nagle on,
    which costs ~45 ms a command (delayed ACKs); ours checks known_hosts and sets TCP_NODELAY.
    """

    def __init__(self, hostspec, host_keys, **kwargs):
        self.host_keys = host_keys  # a connections.HostKeyPolicy
        self._client = None
        super().__init__(hostspec, **kwargs)

    # Not a cached_property: before Python 3.12 its lock is shared by every instance, so one
    # host slow to connect would hold up the connections to all the others.
    @property
    def client(self):
        if self._client is None:
            self._client = self._connect()
        return self._client

    @client.deleter
    def client(self):  # testinfra's run() drops a dead connection this way, then reconnects
        self._client = None

    def _connect(self):
        client = paramiko.SSHClient()
        port = int(self.host.port) if self.host.port else 22
        cfg = {
            "hostname": self.host.name,
            "port": port,
            "username": self.host.user,
            "timeout": self.timeout,
            "banner_timeout": self.timeout,
            "auth_timeout": self.timeout,
        }
        config_path = self.ssh_config or os.path.expanduser("~/.ssh/config")
        if os.path.exists(config_path):
            ssh_config = parsed(SlicedSSHConfig, config_path).for_host(self.host.name)
            self._load_ssh_config(client, cfg, ssh_config, os.path.dirname(config_path))
        if self.host_keys.checking == "no":
            client.set_missing_host_key_policy(IgnorePolicy())
        else:
            # Only this host's entries: parsing every key of a big known_hosts per host is
            # most of a connection's cost.
            names = (self.host.name, f"[{self.host.name}]:{port}")
            for path in filter(os.path.exists, self.host_keys.known_hosts):
                for name in names:
                    for key in parsed(KnownHosts, path).keys_for(name):
                        client.get_host_keys().add(name, key.get_name(), key)
            # accept-new: an unknown key is taken (for this run), a changed one still refused.
            client.set_missing_host_key_policy(
                paramiko.AutoAddPolicy() if self.host_keys.checking == "accept-new" else paramiko.RejectPolicy()
            )
        key_file = self.ssh_identity_file or cfg.pop("key_filename", None)
        if key_file:
            try:
                cfg["pkey"] = parsed(paramiko.PKey.from_path, os.path.expanduser(key_file))
            except (paramiko.SSHException, OSError, ValueError):
                cfg["key_filename"] = key_file  # paramiko says why when it connects
        client.connect(**cfg)
        client.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client

    def close(self):
        if self._client is not None:
            self._client.close()


class SlicedSSHConfig:
    """An ssh_config cut into its Host/Match blocks, so that one host's lookup reads only the
    blocks that can apply to it: paramiko's lookup walks every block (with a getuser() call
    each), which over a fleet-sized config makes connecting quadratic in the number of hosts."""

    def __init__(self, path):
        self.head, self.blocks, self.literal = [], [], {}  # literal: host name -> block numbers
        for line in open(path, encoding="utf-8", errors="replace"):
            words = line.replace("=", " ", 1).split()
            if words and words[0].lower() in ("host", "match"):
                patterns = words[1:] if words[0].lower() == "host" else ["*"]
                if all(c not in p for p in patterns for c in "*?!"):
                    for p in patterns:
                        self.literal.setdefault(p.lower(), []).append(len(self.blocks))
                    self.blocks.append((False, [line]))
                else:
                    self.blocks.append((True, [line]))  # may apply to any host
            elif self.blocks:
                self.blocks[-1][1].append(line)
            else:
                self.head.append(line)

    @functools.cache  # noqa: B019 (one config per run: it lives as long as the cache)
    def for_host(self, name):
        """A paramiko SSHConfig of the lines that may apply to host `name`, in file order."""
        wanted = set(self.literal.get(name.lower(), ()))
        lines = self.head + [
            line for i, (generic, block) in enumerate(self.blocks) if generic or i in wanted for line in block
        ]
        return paramiko.SSHConfig.from_text("".join(lines))


class KnownHosts:
    """A known_hosts file indexed by host name: paramiko's HostKeys.lookup compares every line
    with every host, which over a fleet-sized file is quadratic in the number of hosts."""

    def __init__(self, path):
        self.plain, self.hashed = {}, []
        for line in open(path, encoding="utf-8", errors="replace"):
            line = line.strip()
            if not line or line.startswith(("#", "@")):  # paramiko knows no @markers either
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
            except (paramiko.SSHException, ValueError, TypeError):
                entry = None
            for name in entry.hostnames if entry else ():
                if name.startswith("|1|"):
                    self.hashed.append((name, entry.key))
                else:
                    self.plain.setdefault(name, []).append(entry.key)

    def keys_for(self, name):
        return self.plain.get(name, []) + [
            key for hashed, key in self.hashed if paramiko.HostKeys.hash_host(name, hashed) == hashed
        ]


@functools.cache
def parsed(parse, path):
    """parse(path), once per run: ssh configs, known_hosts files and keys shared by all hosts."""
    return parse(path)
