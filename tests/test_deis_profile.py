"""FR-IMG-01 on Deis v1 lab hosts checked against profiles/deis-v1.yaml: images chosen as
Deis's get_image does, and the stateless rule (no /deis/store/ or /deis/database/ keys)."""

import pytest
import yaml

from tests.conftest import run_fleetready

HOSTS = {name: "deis" for name in ("preseeded", "removed", "router-absent", "router-override", "stateless", "no-etcd")}
# Keys the store and database publish when they run: their presence makes a cluster stateful.
STATEFUL_KEYS = {"/deis/database/bucketName": "db_wal", "/deis/store/gateway/accessKey": "lab-key"}
STATELESS_ABSENT = [
    "deis/database:v1.13.4",
    "deis/store-daemon:v1.13.4",
    "deis/store-gateway:v1.13.4",
    "deis/store-metadata:v1.13.4",
    "deis/store-monitor:v1.13.4",
]


def etcd_set(host, key, value):
    host.check(["env", "ETCDCTL_API=2", "etcdctl", "set", key, value])


@pytest.fixture(scope="module")
def results(make_lab, tmp_path_factory):
    lab = make_lab(full=HOSTS)
    for name in ("preseeded", "removed", "router-absent", "router-override", "no-etcd"):
        for key, value in STATEFUL_KEYS.items():
            etcd_set(lab.host(name), key, value)
    lab.host("removed").check("docker rmi -f deis/controller:v1.13.4 deis/store-daemon:v1.13.4")
    etcd_set(lab.host("router-absent"), "/deis/router/image", "deis/router:v1.13.5")
    # The override is honoured: the release's own router image is then not needed.
    lab.registry.push("deis/router:v1.12.3")
    override = lab.host("router-override")
    override.check("docker pull -q deis/router:v1.12.3 >/dev/null && docker rmi -f deis/router:v1.13.4")
    etcd_set(override, "/deis/router/image", "deis/router:v1.12.3")
    # Stateless, and no platform version in etcd: the release comes from /etc/deis-release.
    stateless = lab.host("stateless")
    stateless.check(["docker", "rmi", "-f", *STATELESS_ABSENT])
    stateless.check("ETCDCTL_API=2 etcdctl rm /deis/platform/version")
    lab.host("no-etcd").check("kill $(pidof etcd); while pidof etcd >/dev/null; do sleep 0.05; done")

    inventory = yaml.safe_load(lab.files["inventory"].read_text())
    for name, entry in inventory["all"]["children"]["lab"]["hosts"].items():
        if name in HOSTS:
            entry["fleetready_profile"] = "deis-v1"
    path = tmp_path_factory.mktemp("deis") / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    code, results, output = run_fleetready(
        ["--inventory", str(path), "--ssh-config", str(lab.files["ssh_config"]), "-k", "FR-IMG"]
    )
    assert results is not None, output
    return {r["host"]: r for r in results["results"] if r["control"] == "FR-IMG-01"}


def test_preseeded_host_passes(results):
    assert results["preseeded"]["outcome"] == "pass", results["preseeded"]
    assert "deis/store-daemon:v1.13.4" in results["preseeded"]["evidence"]["required_images"]


def test_removed_component_image_is_named(results):
    result = results["removed"]
    assert result["outcome"] == "fail"
    assert "deis/controller:v1.13.4: missing" in result["message"]
    assert "deis/store-daemon:v1.13.4: missing" in result["message"]  # stateful cluster


def test_router_image_from_etcd_must_be_present(results):
    result = results["router-absent"]
    assert result["outcome"] == "fail"
    assert result["message"] == "images not preseeded: deis/router:v1.13.5: missing"


def test_router_image_from_etcd_replaces_the_release_image(results):
    assert results["router-override"]["outcome"] == "pass", results["router-override"]


def test_stateless_cluster_needs_no_stateful_images(results):
    result = results["stateless"]
    assert result["outcome"] == "pass", result
    required = result["evidence"]["required_images"]
    assert "deis/router:v1.13.4" in required  # release from /etc/deis-release
    assert not set(STATELESS_ABSENT) & set(required)


def test_etcd_down_is_an_error_never_a_pass(results):
    result = results["no-etcd"]
    assert result["outcome"] == "error"
    assert "etcd not answering" in result["message"]
