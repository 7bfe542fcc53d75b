"""Lab certificates: one cached CA (its path goes into lab/profile.yaml) and leaves per host."""

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reports.atomic import write_atomic

from .once import creator
from .paths import CACHE

PKI = CACHE / "pki"
CA_CERT = PKI / "ca.pem"
CA_KEY = PKI / "ca.key"
SERVER_NAME = "web.fleetready.lab"  # the site every sound lab host serves (profile server_name)
WRONG_NAME = "other.fleetready.lab"
LEAF_KINDS = ("valid", "expired", "self_signed", "wrong_name")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _cert(subject, issuer, pub, sign_key, start, end, *, ca=False, sans=()) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(sign_key, hashes.SHA256())


def ensure_ca() -> None:
    """The lab CA, made once: the certificate is written last, so its presence means a
    whole, matching pair (host states are applied from several threads at once)."""
    if CA_CERT.exists():
        return
    with creator(CA_CERT):
        if CA_CERT.exists():
            return
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = _cert(
            _name("fleetready lab CA"),
            _name("fleetready lab CA"),
            key.public_key(),
            key,
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=3650),
            ca=True,
        )
        write_atomic(CA_KEY, _pem_key(key), mode=0o600)
        write_atomic(CA_CERT, cert.public_bytes(serialization.Encoding.PEM))


def leaf(kind: str, host_name: str, address: str) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a server certificate for a lab host.

    valid: lab CA, names SERVER_NAME, the host name and address; the others each break
    exactly one thing: expired (ended yesterday), self_signed, wrong_name (WRONG_NAME only).
    """
    if kind not in LEAF_KINDS:
        raise ValueError(f"certificate kind must be one of {LEAF_KINDS}, not {kind!r}")
    ensure_ca()
    ca_key = serialization.load_pem_private_key(CA_KEY.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(CA_CERT.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=90)
    names = [SERVER_NAME, host_name]
    if kind == "expired":
        start, end = now - dt.timedelta(days=91), now - dt.timedelta(days=1)
    if kind == "wrong_name":
        names = [WRONG_NAME]
    sans = [x509.DNSName(n) for n in names]
    if kind != "wrong_name":
        sans.append(x509.IPAddress(ipaddress.ip_address(address)))
    issuer, sign_key = ca_cert.subject, ca_key
    if kind == "self_signed":
        issuer, sign_key = _name(names[0]), key
    cert = _cert(_name(names[0]), issuer, key.public_key(), sign_key, start, end, sans=sans)
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key)
