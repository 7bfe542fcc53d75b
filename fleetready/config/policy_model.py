"""The resolved policy's static types, as resolve_policy returns it: plain dicts and lists,
read by the checks as mappings (`policy["tls"]["endpoints"]`), every key present. Its keys and
types are those of policy_schema.json, the one schema (tests/test_profiles.py holds the two
together); what a key means is said there."""

from typing import Literal, NotRequired, TypedDict


class Platform(TypedDict):
    kind: Literal["deis-v1"]
    components: list[str]
    stateful_components: list[str]
    default_release: str


class Images(TypedDict):
    required: list[str]
    registry: str | None
    platform: Platform | None


class Firewall(TypedDict):
    required: bool
    reason: str | None
    probe: bool
    allowed_tcp_ports: list[int]
    allowed_udp_ports: list[int]
    closed_tcp_ports: list[int]
    probe_from: str
    ruleset: str | None


class TlsEndpoint(TypedDict):
    name: str
    host: str | None
    port: int
    http_port: int | None
    server_name: str | None
    ca_file: str | None  # absolute
    require_hsts: bool
    expiry_warning_days: NotRequired[int]  # left out: Tls's
    timeout: NotRequired[int | float]  # left out: Tls's
    redirect_host: str | None
    redirect_path: str


class Tls(TypedDict):
    expiry_warning_days: int
    timeout: int | float
    endpoints: list[TlsEndpoint]


class BackupSource(TypedDict):
    name: str
    kind: Literal["path", "s3", "restic", "deis-wal-e"]
    path: str | None
    max_age_hours: int | float
    min_size_bytes: int
    endpoint: str | None
    bucket: str | None
    prefix: str
    access_key: str | None
    secret_key: str | None
    repository: str | None
    password_file: str | None
    command: str | None
    verify: bool
    verify_timeout: int | float


class Backups(TypedDict):
    sources: list[BackupSource]


class Drain(TypedDict):
    host: str
    port: int
    protocol: Literal["tcp", "udp"]


class Canary(TypedDict):
    enabled: bool
    receiver_host: str | None
    receiver_log: str | None
    deadline_seconds: int | float


class Logging(TypedDict):
    drain: Drain | None
    source: Literal["auto", "rsyslog", "docker", "deis-etcd"]
    canary: Canary


class Monitoring(TypedDict):
    metrics_url: str | None
    expect_metrics: list[str]
    scrape_from: str


class Policy(TypedDict):
    profile: str
    description: str
    images: Images
    firewall: Firewall
    tls: Tls
    backups: Backups
    logging: Logging
    monitoring: Monitoring
