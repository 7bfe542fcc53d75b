"""The same readiness checks written the way testinfra users write them today: one `host.*`
call (one or more remote commands) per assertion. Run by benchmarks/fleet_bench.py only."""

IMAGES = ["alpine:3.2", "fleetready-lab/app:1.0"]


def test_hostname(host):
    assert host.run("hostname").stdout.strip()


def test_kernel(host):
    assert host.run("uname -r").rc == 0


def test_os_release(host):
    assert host.file("/etc/os-release").exists


def test_uptime(host):
    assert host.file("/proc/uptime").exists


def test_nft_installed(host):
    assert host.exists("nft")


def test_input_policy_drop(host):
    assert '"policy": "drop"' in host.run("nft -j list chain inet filter input").stdout


def test_ruleset_persisted(host):
    assert host.file("/etc/nftables.conf").exists


def test_persisted_ruleset_denies(host):
    assert host.file("/etc/nftables.conf").contains("policy drop")


def test_iptables_input(host):
    assert "-P INPUT DROP" in host.run("iptables -S INPUT").stdout


def test_ssh_listening(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening


def test_docker_api_closed(host):
    assert not host.socket("tcp://0.0.0.0:2375").is_listening


def test_docker_tls_api_closed(host):
    assert not host.socket("tcp://0.0.0.0:2376").is_listening


def test_etcd_closed(host):
    assert not host.socket("tcp://0.0.0.0:2379").is_listening


def test_docker_installed(host):
    assert host.exists("docker")


def test_image_alpine(host):
    assert host.run("docker image inspect %s", IMAGES[0]).rc == 0


def test_image_app(host):
    assert host.run("docker image inspect %s", IMAGES[1]).rc == 0


def test_backup_dir(host):
    assert host.file("/var/backups/fleetready").is_directory


def test_backup_recent(host):
    assert host.run("find /var/backups/fleetready -mmin -1560 -size +0").stdout


def test_rsyslog_config(host):
    assert host.file("/etc/rsyslog.conf").exists


def test_rsyslog_forwards(host):
    assert host.run("grep -rs '@@' /etc/rsyslog.conf /etc/rsyslog.d").rc == 0


def test_metrics_endpoint(host):
    assert host.run("curl -fsS http://127.0.0.1:9100/metrics").rc == 0


def test_sshd_no_passwords(host):
    assert host.file("/etc/ssh/sshd_config").contains("PasswordAuthentication no")
