"""Profiles and per-host policy resolution over real files: schema, overrides, located errors."""

import itertools
import pathlib
import shutil
import subprocess
import sys
import types
import typing

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetready.config.errors import ConfigError
from fleetready.config.inventory import load_inventory
from fleetready.config.policy_model import Policy
from fleetready.config.profiles import (
    SCHEMA,
    SHIPPED_VALID,
    _validator,
    available_profiles,
    load_profile,
    resolve_policy,
    validity_key,
)
from fleetready.config.yamlfile import load_yaml
from lab.images import DEIS_COMPONENTS  # the lab's Deis hosts run the images the profile names
from tests.files import write

REPO_PROFILES = str(pathlib.Path(__file__).resolve().parents[1] / "profiles")


@pytest.fixture
def profiles(tmp_path):
    """A profiles directory with a small base profile."""
    write(
        tmp_path,
        "profiles/base.yaml",
        """
        profile: base
        firewall:
          allowed_tcp_ports: [22]
          closed_tcp_ports: [2375]
        logging:
          source: rsyslog
          canary: {enabled: true, receiver_host: logs}
        tls:
          endpoints:
            - name: web
              port: 8443
    """,
    )
    return str(tmp_path / "profiles")


def host_of(tmp_path, inventory, files=()):
    """The only host of an inventory written to tmp_path, with its vars files."""
    for name, text in files:
        write(tmp_path, name, text)
    return load_inventory(write(tmp_path, "hosts.yml", inventory)).hosts[0]


def policy_error(host, profiles_dir):
    with pytest.raises(ConfigError) as info:
        resolve_policy(host, profiles_dir)
    assert "\n" not in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------- shipped profiles


def test_shipped_profiles_load():
    assert available_profiles(REPO_PROFILES) == ["deis-v1", "docker-host"]
    for name in available_profiles(REPO_PROFILES):
        assert load_profile(name, REPO_PROFILES)["profile"] == name


def test_shipped_profiles_are_valid_and_their_digests_current():
    """A run takes the shipped profiles as valid by their digests (jsonschema is not imported
    for them): here they are checked, and the digests held to them and to the schema."""
    shipped = [load_yaml(f"{REPO_PROFILES}/{name}.yaml") for name in available_profiles(REPO_PROFILES)]
    for profile in shipped:
        assert not [error.message for error in _validator().iter_errors(profile)], profile.source
    digests = sorted(validity_key(profile, full) for profile in shipped for full in (False, True))
    assert sorted(SHIPPED_VALID) == digests, (
        "stale: write these lines to fleetready/config/policy_valid.txt\n" + "\n".join(digests)
    )


def test_an_edited_shipped_profile_is_checked(tmp_path):
    edited = shutil.copytree(REPO_PROFILES, tmp_path / "profiles")
    with open(edited / "docker-host.yaml", "a") as f:
        f.write("firewal: {}\n")
    host = host_of(tmp_path, "all:\n  hosts:\n    h1: {}\n")
    assert policy_error(host, str(edited)).endswith(
        "docker-host.yaml:9: firewal: unknown key; did you mean 'firewall'?"
    )


def test_a_shipped_profile_needs_no_jsonschema(tmp_path):
    """Start-up: resolving a shipped profile nothing overrides imports no jsonschema."""
    code = (
        "import sys; from fleetready.config.inventory import local_host;"
        "from fleetready.config.profiles import resolve_policy;"
        f"resolve_policy(local_host(), {REPO_PROFILES!r}); print('jsonschema' in sys.modules)"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported == "False\n"


def test_default_profile_is_docker_host(tmp_path):
    policy = resolve_policy(host_of(tmp_path, "all:\n  hosts:\n    h1:\n"), REPO_PROFILES)
    assert policy == {
        "profile": "docker-host",
        "description": policy["description"],
        "images": {"required": [], "registry": None, "platform": None},
        "firewall": {
            "required": True,
            "reason": None,
            "probe": False,
            "allowed_tcp_ports": [22],
            "allowed_udp_ports": [],
            "closed_tcp_ports": [2375, 2376],
            "probe_from": "controller",
            "ruleset": None,
        },
        "tls": {"expiry_warning_days": 14, "timeout": 3, "endpoints": []},
        "backups": {"sources": []},
        "logging": {
            "drain": None,
            "source": "auto",
            "canary": {"enabled": False, "receiver_host": None, "receiver_log": None, "deadline_seconds": 10},
        },
        "monitoring": {"metrics_url": None, "expect_metrics": [], "scrape_from": "controller"},
    }


def test_deis_v1_profile(tmp_path):
    host = host_of(tmp_path, "all:\n  hosts:\n    h1:\n      fleetready_profile: deis-v1\n")
    policy = resolve_policy(host, REPO_PROFILES)
    assert policy["images"]["required"] == [f"deis/{c}:v1.13.4" for c in DEIS_COMPONENTS] + ["alpine:3.2"]
    assert policy["images"]["platform"] == {
        "kind": "deis-v1",
        "components": DEIS_COMPONENTS,
        "default_release": "v1.13.4",
        "stateful_components": ["database", "store-daemon", "store-gateway", "store-metadata", "store-monitor"],
    }
    assert policy["firewall"]["allowed_tcp_ports"] == [22, 80, 443, 2222]
    assert sorted(policy["firewall"]["closed_tcp_ports"]) == [
        2223,
        2375,
        2379,
        2380,
        4001,
        5000,
        5432,
        6789,
        7001,
        8000,
        8088,
        8888,
    ]
    assert policy["tls"]["endpoints"] == [
        {
            "name": "router",
            "host": None,
            "port": 443,
            "http_port": 80,
            "server_name": None,
            "ca_file": None,
            "require_hsts": True,
            "redirect_host": None,
            "redirect_path": "/",
        }
    ]
    [source] = policy["backups"]["sources"]
    assert (source["name"], source["kind"], source["max_age_hours"]) == ("database", "deis-wal-e", 6)
    assert policy["logging"]["source"] == "deis-etcd"
    assert policy["monitoring"]["metrics_url"] == "http://127.0.0.1:8080/metrics"


def test_example_inventory_overrides():
    hosts = {h.name: h for h in load_inventory("inventories/example.yml").hosts}
    deis1 = resolve_policy(hosts["deis-1.example.com"], REPO_PROFILES)
    assert deis1["profile"] == "deis-v1" and deis1["tls"]["expiry_warning_days"] == 30
    assert deis1["logging"] == {
        "drain": {"host": "logs.example.com", "port": 514, "protocol": "udp"},
        "source": "deis-etcd",
        "canary": deis1["logging"]["canary"],
    }
    registry = resolve_policy(hosts["registry.example.com"], REPO_PROFILES)
    assert registry["profile"] == "docker-host"
    assert registry["firewall"]["allowed_tcp_ports"] == [22, 5000]
    assert registry["backups"]["sources"][0]["path"] == "/var/backups/registry"


def test_policy_model_is_the_schema():
    """policy_model's static types say what the schema says: the same keys, each of the same
    kind, null where the schema allows it."""
    scalars = {str: "string", bool: "boolean", int: "integer", int | float: "number"}

    def check(hint, schema, path):
        kinds = schema.get("type", [])
        kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else ()
        assert (type(None) in args) == ("null" in kinds), path
        if type(None) in args:
            [hint] = [a for a in args if a is not type(None)]
        if "enum" in schema:
            assert typing.get_origin(hint) is typing.Literal and list(typing.get_args(hint)) == schema["enum"], path
        elif typing.is_typeddict(hint):
            hints = typing.get_type_hints(hint)
            assert kinds - {"null"} == {"object"} and list(hints) == list(schema["properties"]), path
            for key, sub in schema["properties"].items():
                check(hints[key], sub, f"{path}.{key}")
        elif typing.get_origin(hint) is list:
            assert kinds == {"array"}, path
            check(typing.get_args(hint)[0], schema["items"], f"{path}[]")
        else:
            assert kinds - {"null"} == {scalars[hint]}, path

    check(Policy, SCHEMA, "policy")


# ---------------------------------------------------------------- loading


def test_profile_by_path_and_cache(tmp_path, profiles):
    by_name = load_profile("base", profiles)
    assert load_profile(f"{profiles}/base.yaml", profiles) is by_name
    assert load_profile("base", profiles) is by_name
    assert by_name.line_of("logging") == 5


def test_unknown_profile_lists_available(profiles):
    with pytest.raises(ConfigError) as info:
        load_profile("bse", profiles)
    assert str(info.value) == f"{profiles}: unknown profile 'bse'; did you mean 'base'?; available: base"


def test_unknown_profile_names_the_inventory_line(tmp_path, profiles):
    host = host_of(tmp_path, "all:\n  hosts:\n    h1:\n      fleetready_profile: nope\n")
    assert (
        policy_error(host, profiles)
        == f"{tmp_path}/hosts.yml:4: fleetready_profile: unknown profile 'nope'; available: base"
    )


def test_missing_profile_path(tmp_path, profiles):
    host = host_of(tmp_path, "all:\n  hosts:\n    h1:\n      fleetready_profile: ./nowhere.yaml\n")
    assert policy_error(host, profiles) == (
        f"{tmp_path}/hosts.yml:4: fleetready_profile: no such profile file: {tmp_path}/nowhere.yaml"
    )


def test_profile_name_of_wrong_type(tmp_path, profiles):
    host = host_of(tmp_path, "all:\n  hosts:\n    h1:\n      fleetready_profile: [base]\n")
    assert (
        policy_error(host, profiles)
        == f"{tmp_path}/hosts.yml:4: fleetready_profile: expected a profile name or path, got a list"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (b"", ": file is empty, expected a YAML mapping"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ":3: binary data (NUL byte), expected a text file"),
        (
            b"profile: bad\nfirewall:\n  allowed_tcp_ports: [22\n",
            ":4: while parsing a flow sequence: did not find expected ',' or ']' (column 1)",
        ),
        (b"description: no name\n", ":1: missing required key 'profile' (the profile's name)"),
        (
            b"profile: bad\nfirewall:\n  allowed_tcp_ports: [22, 80, http]\n",
            ":3: firewall.allowed_tcp_ports[2]: expected a TCP port (1-65535), got 'http'",
        ),
        (b"profile: bad\nfierwall: {}\n", ":2: fierwall: unknown key; did you mean 'firewall'?"),
        (
            b"profile: bad\ntls:\n  expiry_warning_days: soon\n",
            ":3: tls.expiry_warning_days: expected an integer >= 0, got 'soon'",
        ),
        (b"profile: bad\ntls:\n  endpoints:\n    - port: 443\n", ":4: tls.endpoints[0]: missing required key 'name'"),
        (
            b"profile: bad\nbackups:\n  sources:\n    - {name: s, kind: s3, max_age_hours: 1, bucket: b}\n",
            ":4: backups.sources[0]: missing required key 'endpoint' (kind s3)",
        ),
        (
            b"profile: bad\nbackups:\n  sources:\n    - {name: s, kind: path, path: /b, max_age_hours: 0}\n",
            ":4: backups.sources[0].max_age_hours: expected a number > 0, got 0",
        ),
        (
            b"profile: bad\nbackups:\n  sources:\n    - name: s\n      kind: path\n      path: /b\n"
            b"      max_age_hours: 1\n      verify: sure\n",
            ":8: backups.sources[0].verify: expected true or false, got 'sure'",
        ),
        (
            b"profile: bad\nbackups:\n  sources:\n    - name: s\n      kind: path\n      path: /b\n"
            b"      max_age_hours: 1\n      verify: true\n      verify_timeout: 0\n",
            ":9: backups.sources[0].verify_timeout: expected seconds, a number > 0 and <= 3600, got 0",
        ),
        (
            b"profile: bad\nbackups:\n  sources:\n    - name: s\n      kind: path\n      path: /b\n"
            b"      max_age_hours: 1\n      verify_timeout: 7200\n",
            ":8: backups.sources[0].verify_timeout: expected seconds, a number > 0 and <= 3600, got 7200",
        ),
        (
            b"profile: bad\nbackups:\n  sources:\n    - {name: s, kind: tape, max_age_hours: 1}\n",
            ":4: backups.sources[0].kind: expected one of path, s3, restic, deis-wal-e, got 'tape'",
        ),
        (
            b"profile: bad\nimages:\n  required:\n    - deis/router\n",
            ":4: images.required[0]: expected an image reference (repo:tag or repo@sha256:<64 hex>), got 'deis/router'",
        ),
        (
            b"profile: bad\nlogging:\n  canary:\n    enabled: 1\n",
            ":4: logging.canary.enabled: expected true or false, got 1",
        ),
        (
            b"profile: bad\ntls:\n  endpoints:\n    - name: a\n    - name: a\n",
            ":5: tls.endpoints[1]: duplicate name 'a'",
        ),
        (
            b"profile: bad\nmonitoring:\n  metrics_url: ftp://x/metrics\n",
            ":3: monitoring.metrics_url: expected an http(s) URL or null, got 'ftp://x/metrics'",
        ),
        (
            b"profile: bad\nlogging:\n  drain:\n    host: h\n    port: 514\n    protocol: tls\n",
            ":6: logging.drain.protocol: expected one of tcp, udp, got 'tls'",
        ),
    ],
)
def test_profile_errors_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_profile(str(path), str(tmp_path))
    assert str(info.value) == f"{path}{message}"


@pytest.mark.parametrize(
    "ref",
    [
        "alpine:3.2",
        "deis/router:v1.13.4",
        "registry.example.com:5000/deis/router:v1",
        "localhost/x:latest",
        "repo@sha256:" + "a" * 64,
        "repo:tag@sha256:" + "0" * 64,
    ],
)
def test_image_references_accepted(tmp_path, ref):
    path = write(tmp_path, "p.yaml", f"profile: p\nimages:\n  required: ['{ref}']\n  registry: 'reg.local:5000'\n")
    assert load_profile(str(path), str(tmp_path))["images"]["required"] == [ref]


@pytest.mark.parametrize("ref", ["Deis/router:v1", "repo@sha256:abc", "repo:", ":tag", "repo:t ag"])
def test_image_references_rejected(tmp_path, ref):
    path = write(tmp_path, "p.yaml", f"profile: p\nimages:\n  required: ['{ref}']\n")
    with pytest.raises(ConfigError, match=r"p.yaml:3: images.required\[0\]: expected an image reference"):
        load_profile(str(path), str(tmp_path))


# ---------------------------------------------------------------- overrides


def test_overrides_merge_lowest_first(tmp_path, profiles):
    host = host_of(
        tmp_path,
        """
        all:
          vars:
            fleetready_profile: base
            fleetready_policy:
              firewall: {allowed_tcp_ports: [22, 80]}
              logging: {canary: {deadline_seconds: 5}}
          hosts:
            h1:
              fleetready_policy:
                logging: {canary: {receiver_log: /var/log/canary}}
    """,
        [("host_vars/h1.yml", "fleetready_policy:\n  firewall:\n    probe_from: bastion\n")],
    )
    policy = resolve_policy(host, profiles)
    assert policy["firewall"] == {
        "required": True,
        "reason": None,
        "probe": False,
        "allowed_tcp_ports": [22, 80],
        "allowed_udp_ports": [],
        "closed_tcp_ports": [2375],
        "probe_from": "bastion",
        "ruleset": None,
    }
    assert policy["logging"]["source"] == "rsyslog"
    assert policy["logging"]["canary"] == {
        "enabled": True,
        "receiver_host": "logs",
        "receiver_log": "/var/log/canary",
        "deadline_seconds": 5,
    }
    assert policy["tls"]["endpoints"][0]["port"] == 8443


def test_override_from_ini_literal(tmp_path, profiles):
    path = write(
        tmp_path,
        "hosts",
        """
        h1 fleetready_profile=base fleetready_policy="{'tls': {'expiry_warning_days': 3}}"
    """,
    )
    host = load_inventory(path).hosts[0]
    assert resolve_policy(host, profiles)["tls"]["expiry_warning_days"] == 3


def test_null_disables_a_mapping(tmp_path, profiles):
    host = host_of(
        tmp_path,
        """
        all:
          hosts:
            h1:
              fleetready_profile: base
              fleetready_policy: {logging: {drain: null}, images: {platform: null}}
    """,
    )
    assert resolve_policy(host, profiles)["logging"]["drain"] is None


def test_bad_override_names_its_file_and_line(tmp_path, profiles):
    host = host_of(
        tmp_path,
        "all:\n  hosts:\n    h1:\n      fleetready_profile: base\n",
        [
            (
                "group_vars/all.yml",
                """
            # site policy
            fleetready_policy:
              firewall:
                allowed_tcp_ports: [22, 80, http]
        """,
            )
        ],
    )
    assert (
        policy_error(host, profiles) == f"{tmp_path}/group_vars/all.yml:4: "
        "fleetready_policy.firewall.allowed_tcp_ports[2]: expected a TCP port (1-65535), got 'http'"
    )


@pytest.mark.parametrize(
    "override, message",
    [
        ("{tsl: {}}", ":5: fleetready_policy.tsl: unknown key; did you mean 'tls'?"),
        ("{tls: []}", ":5: fleetready_policy.tls: expected a mapping, got a list"),
        ("[1]", ":5: fleetready_policy: expected a mapping, got a list"),
        ("{profile: other}", ":5: fleetready_policy.profile: choose the profile with fleetready_profile"),
        (
            "{backups: {sources: [{name: b, kind: restic, max_age_hours: 24}]}}",
            ":5: fleetready_policy.backups.sources[0]: missing required key 'repository' (kind restic)",
        ),
        # a host firewall not required must say why: its checks are skipped with that reason
        ("{firewall: {required: false}}", ":5: firewall: missing required key 'reason' (required false)"),
        (
            "{firewall: {required: false, reason: ''}}",
            ":5: fleetready_policy.firewall.reason: expected a non-empty string or null, got ''",
        ),
    ],
)
def test_bad_inline_override(tmp_path, profiles, override, message):
    host = host_of(
        tmp_path,
        f"""
        all:
          hosts:
            h1:
              fleetready_profile: base
              fleetready_policy: {override}
    """,
    )
    assert policy_error(host, profiles) == f"{tmp_path}/hosts.yml{message}"


def test_incomplete_merge_names_the_last_layer(tmp_path, profiles):
    host = host_of(
        tmp_path,
        """
        all:
          hosts:
            h1:
              fleetready_profile: base
              fleetready_policy:
                logging:
                  drain: {port: 514}
    """,
    )
    assert policy_error(host, profiles) == f"{tmp_path}/hosts.yml:7: logging.drain: missing required key 'host'"


def test_bad_override_in_ini_names_the_line(tmp_path, profiles):
    path = write(
        tmp_path,
        "hosts",
        "[web]\nh1 fleetready_profile=base\n[web:vars]\nfleetready_policy={'tls': {'expiry_warning_days': -1}}\n",
    )
    host = load_inventory(path).hosts[0]
    assert (
        policy_error(host, profiles)
        == f"{path}:4: fleetready_policy.tls.expiry_warning_days: expected an integer >= 0, got -1"
    )


# ---------------------------------------------------------------- never a traceback

_counter = itertools.count()
_junk = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_keys = st.sampled_from(
    [
        "profile",
        "images",
        "required",
        "registry",
        "platform",
        "kind",
        "firewall",
        "allowed_tcp_ports",
        "tls",
        "endpoints",
        "name",
        "port",
        "backups",
        "sources",
        "max_age_hours",
        "logging",
        "drain",
        "canary",
        "monitoring",
        "metrics_url",
    ]
)
_policy_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 70000)
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["s3", "path", "deis-wal-e", "udp", "alpine:3.2", "http://x/m"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys | st.text(max_size=4), inner, max_size=4),
    max_leaves=15,
)


@_junk
@given(data=st.binary(max_size=300))
def test_any_profile_bytes_give_config_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("profiles") / f"p{next(_counter)}.yaml"
    path.write_bytes(data)
    try:
        load_profile(str(path), str(path.parent))
    except ConfigError as e:
        assert "\n" not in str(e)


@_junk
@given(override=_policy_like)
def test_any_override_gives_config_error_or_policy(tmp_path_factory, override):
    base = tmp_path_factory.mktemp("override")
    hosts = base / "hosts.yml"
    hosts.write_text(yaml.safe_dump({"all": {"hosts": {"h1": {"fleetready_policy": override}}}}))
    try:
        policy = resolve_policy(load_inventory(hosts).hosts[0], REPO_PROFILES)
    except ConfigError as e:
        assert "\n" not in str(e)
    else:
        assert policy["profile"] == "docker-host"


def test_remediation_keys(tmp_path, profiles):
    """The keys --remediate reads: a source's backup command and the firewall ruleset."""
    host = host_of(
        tmp_path,
        """
        all:
          hosts:
            h1:
              fleetready_profile: base
              fleetready_policy:
                firewall: {ruleset: "table inet filter {}"}
                backups: {sources: [{name: db, kind: path, path: /b/*.gz, max_age_hours: 1, command: make-backup}]}
    """,
    )
    policy = resolve_policy(host, profiles)
    assert policy["firewall"]["ruleset"] == "table inet filter {}"
    assert policy["backups"]["sources"][0]["command"] == "make-backup"
    host = host_of(
        tmp_path,
        "all:\n  hosts:\n    h1:\n      fleetready_profile: base\n      fleetready_policy: {firewall: {ruleset: 1}}\n",
    )
    with pytest.raises(ConfigError, match="firewall.ruleset: expected a non-empty string or null"):
        resolve_policy(host, profiles)
