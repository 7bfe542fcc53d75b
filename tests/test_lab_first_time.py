"""The lab's first-time steps on an empty cache, raced by threads and processes as a first
bring-up races them: one CA and one key pair, whole and matching, whoever wins."""

import os
import subprocess
import sys

from tests.conftest import ROOT

# Each process: 8 threads make leaf certificates at once (lab/fleet.py applies host states
# in a thread pool), then checks every leaf against the CA and the CA key against its cert.
RACE = """
import concurrent.futures, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lab import keys, pki

with concurrent.futures.ThreadPoolExecutor(8) as pool:
    leaves = list(pool.map(lambda i: pki.leaf("valid", f"h{i}", f"10.0.0.{i + 1}"), range(16)))
    list(pool.map(lambda i: keys.ensure_keys(), range(8)))
ca = x509.load_pem_x509_certificate(pki.CA_CERT.read_bytes())
ca_key = serialization.load_pem_private_key(pki.CA_KEY.read_bytes(), None)
assert ca_key.public_key() == ca.public_key(), "CA key and certificate do not match"
for cert_pem, _ in leaves:
    x509.load_pem_x509_certificate(cert_pem.encode()).verify_directly_issued_by(ca)
private = serialization.load_ssh_private_key(keys.CLIENT_KEY.read_bytes(), None)
assert keys.client_public().split()[1] == private.public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1].decode()
print(pki.CA_CERT.read_text())
"""


def test_concurrent_first_bring_up_makes_one_matching_ca_and_key_pair(tmp_path):
    env = dict(os.environ, FLEETREADY_LAB_CACHE=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1  # every process ended on the same CA
    leftovers = {p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert not [n for n in leftovers if n.startswith(".fleetready-")]  # no half-written file


def test_lab_profile_follows_the_cache(tmp_path):
    env = dict(os.environ, FLEETREADY_LAB_CACHE=str(tmp_path / "cache"))
    script = (
        "import sys, yaml; from pathlib import Path; from lab import hostfiles;"
        "hostfiles.write_profile(Path(sys.argv[1]));"
        "print(yaml.safe_load(Path(sys.argv[1]).read_text())['tls']['endpoints'][0]['ca_file'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "profile.yaml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str(tmp_path / "cache" / "pki" / "ca.pem")
