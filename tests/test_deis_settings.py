"""FR-DEIS-01/02 on Deis-like lab hosts: etcd settings as the production guide wants them
pass; Deis's own defaults (legacy TLS, no HSTS, open registration, server tokens) fail."""

import pytest
import yaml

from tests.conftest import run_fleetready

GOOD = {
    "/deis/router/enforceHTTPS": "true",
    "/deis/router/hsts/enabled": "true",
    "/deis/router/sslProtocols": "TLSv1.2 TLSv1.3",
    "/deis/controller/registrationMode": "admin_only",
    "/deis/router/serverTokens": "off",
}


def etcd(host, *args):
    host.check(["env", "ETCDCTL_API=2", "etcdctl", *args])


@pytest.fixture(scope="module")
def results(make_lab, tmp_path_factory):
    lab = make_lab(full={"hardened": "deis", "defaults": "deis", "legacy": "deis"})
    for name in ("hardened", "legacy"):
        host = lab.host(name)
        for key, value in GOOD.items():
            etcd(host, "set", key, value)
        # The certificate the router serves, as `deisctl config router set sslCert=...` stores it.
        etcd(host, "set", "/deis/router/sslCert", host.check("cat /etc/nginx/tls/server.pem"))
    etcd(lab.host("legacy"), "rm", "/deis/router/sslProtocols")
    defaults = lab.host("defaults")
    for key in ("/deis/router/enforceHTTPS", "/deis/router/hsts/enabled", "/deis/router/sslProtocols"):
        etcd(defaults, "rm", key)
    inventory = yaml.safe_load(lab.files["inventory"].read_text())
    for name in ("hardened", "defaults", "legacy"):
        inventory["all"]["children"]["lab"]["hosts"][name]["fleetready_profile"] = "deis-v1"
    path = tmp_path_factory.mktemp("deis") / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    code, report, output = run_fleetready(
        ["--inventory", str(path), "--ssh-config", str(lab.files["ssh_config"]), "-k", "FR-DEIS"]
    )
    assert report is not None, output
    return {(r["host"], r["control"]): r for r in report["results"]}


def test_hardened_deis_host_passes(results):
    for control in ("FR-DEIS-01", "FR-DEIS-02"):
        assert results["hardened", control]["outcome"] == "pass", results["hardened", control]


def test_deis_defaults_fail_with_each_finding(results):
    tls = results["defaults", "FR-DEIS-01"]
    assert tls["outcome"] == "fail"
    for finding in (
        "router TLS not configured",
        "plain HTTP not redirected",
        "HSTS off",
        "legacy TLS allowed (TLSv1 TLSv1.1): /deis/router/sslProtocols unset",
    ):
        assert finding in tls["message"], tls["message"]
    hardening = results["defaults", "FR-DEIS-02"]
    assert hardening["outcome"] == "fail"
    assert "registrationMode" in hardening["message"] and "serverTokens" in hardening["message"]


def test_unset_ssl_protocols_is_legacy_tls_even_when_the_rest_is_right(results):
    result = results["legacy", "FR-DEIS-01"]
    assert result["outcome"] == "fail"
    assert result["message"] == (
        "legacy TLS allowed (TLSv1 TLSv1.1): /deis/router/sslProtocols unset (Deis default 'TLSv1 TLSv1.1 TLSv1.2')"
    )


def test_not_applicable_to_hosts_of_other_platforms(results):
    assert results["logs", "FR-DEIS-01"]["outcome"] == "skipped"
