"""FR-IMG-01 against real lab hosts: one lab, one fleetready run, judged host by host."""

import pytest

from tests.conftest import run_fleetready
from tests.labrun import host_vars, lab_inventory

HOSTS = {
    "sound": "sound",
    "missing": "missing_images",
    "wrongtag": "wrong_image_tag",
    "noengine": "sound",
    "digest": "sound",
}
OTHER_DIGEST = "sha256:" + "1" * 64


def alias(lab, name, images):
    """Another inventory name for lab host `name`, requiring `images` instead."""
    entry = host_vars(lab, name)
    return dict(entry, fleetready_policy={"images": {"required": images}})


@pytest.fixture(scope="module")
def run(make_lab, tmp_path_factory):
    lab = make_lab(full=HOSTS)
    noengine = lab.host("noengine")
    noengine.check("kill $(pidof dockerd); while docker info >/dev/null 2>&1; do sleep 0.1; done")
    # A pull from the lab registry (a Docker Hub mirror to the hosts) records a RepoDigest.
    lab.registry.push("alpine:3.2")
    digest_host = lab.host("digest")
    digest_host.check("docker pull -q alpine:3.2 >/dev/null")
    digest = digest_host.check("docker image inspect -f '{{index .RepoDigests 0}}' alpine:3.2").strip()
    digest = digest.split("@")[1]
    inventory = lab_inventory(
        lab,
        tmp_path_factory.mktemp("images") / "inventory.yml",
        {
            "digest-ok": alias(
                lab,
                "digest",
                [f"alpine@{digest}", f"docker.io/library/alpine:3.2@{digest}", "index.docker.io/library/alpine:3.2"],
            ),
            "digest-bad": alias(
                lab,
                "digest",
                [f"alpine:3.2@{OTHER_DIGEST}", f"alpine@{OTHER_DIGEST}", f"fleetready-lab/app:1.0@{digest}"],
            ),
        },
    )
    code, results, output = run_fleetready(
        ["--inventory", inventory, "--ssh-config", str(lab.files["ssh_config"]), "-k", "FR-IMG or FR-FW"]
    )
    assert results is not None, output
    return digest, {r["host"]: r for r in results["results"] if r["control"] == "FR-IMG-01"}


def test_sound_host_passes(run):
    _, results = run
    assert results["sound"]["outcome"] == "pass", results["sound"]


def test_missing_images_are_named(run):
    _, results = run
    result = results["missing"]
    assert result["outcome"] == "fail"
    assert "fleetready-lab/app:1.0: missing" in result["message"]
    assert "fleetready-lab/worker:1.0: missing" in result["message"]
    assert "alpine:3.2" not in result["message"]


def test_wrong_tag_is_missing(run):
    _, results = run
    result = results["wrongtag"]
    assert result["outcome"] == "fail"
    assert "fleetready-lab/app:1.0: missing" in result["message"]
    assert "worker" not in result["message"]


def test_engine_stopped_is_an_error_never_a_pass(run):
    _, results = run
    result = results["noengine"]
    assert result["outcome"] == "error"
    assert "engine not reachable" in result["message"]


def test_pinned_digests_match(run):
    _, results = run
    assert results["digest-ok"]["outcome"] == "pass", results["digest-ok"]


def test_other_digest_is_wrong_digest(run):
    digest, results = run
    result = results["digest-bad"]
    assert result["outcome"] == "fail"
    message = result["message"]
    assert f"alpine:3.2@{OTHER_DIGEST}: wrong digest (local: {digest})" in message
    assert f"alpine@{OTHER_DIGEST}: wrong digest (local: {digest})" in message
    # loaded with docker load, never pulled: it has no registry digest to match
    assert f"fleetready-lab/app:1.0@{digest}: wrong digest (local: no registry digest)" in message
