"""The certificate chain's verdict of a TLS endpoint (fleetready/probe/tls_probe.py), with
cryptography: whether the chain holds for the name at the probe's clock and, when it does
not, which of the problem codes say why; weak keys and signatures on it."""

import datetime
import functools
import ipaddress
import typing
import warnings

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

MIN_KEY_BITS = {"RSA": 2048, "DSA": 2048, "EC": 224}
WEAK_SIGNATURE_HASHES = ("sha1", "md5")  # md5 is weaker still than SHA-1
TRUST_PROBLEMS = {"self_signed": "cert_self_signed", "incomplete": "incomplete_chain"}


def _ca_key_usage(policy, cert, key_usage):
    # The Web PKI profile's own check, lost when its keyUsage requirement is relaxed below.
    if key_usage is not None and not key_usage.key_cert_sign:
        raise ValueError("a CA's keyUsage does not allow signing certificates")


# cryptography's Web PKI profile (RFC 5280 and the CA/Browser Forum's rules) but for what
# OpenSSL and browsers ask of no chain: an authorityKeyIdentifier, and a CA's keyUsage (when
# there it must still allow signing certificates). Internal CAs, the lab's among them, often
# carry neither.
CA_POLICY = (
    ExtensionPolicy.webpki_defaults_ca()
    .may_be_present(x509.AuthorityKeyIdentifier, Criticality.NON_CRITICAL, None)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage)
)
LEAF_POLICY = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.AuthorityKeyIdentifier, Criticality.NON_CRITICAL, None
)
# For naming why a chain was refused: the path alone (CAs of any extended key usage, a leaf
# of any extensions), and the name alone (any extensions but the subjectAltName it matches).
ANY_USE_CA_POLICY = CA_POLICY.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
NAMED_LEAF_POLICY = ExtensionPolicy.permit_all().require_present(
    x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
)


class Anchors(typing.NamedTuple):
    store: Store
    certificates: frozenset
    subjects: frozenset


@functools.cache
def trust_anchors(path):
    """The Anchors of the PEM file at path; OSError or ValueError when it does not load."""
    with open(path, "rb") as pem, warnings.catch_warnings():
        # Stores ship a few old roots with a non-positive serial; they still are anchors.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        certs = x509.load_pem_x509_certificates(pem.read())
    return Anchors(Store(certs), frozenset(certs), frozenset(c.subject for c in certs))


def check_server_name(server_name, anchors):
    """ValueError when cryptography cannot match server_name."""
    PolicyBuilder().store(anchors.store).build_server_verifier(server_subject(server_name))


def server_subject(server_name):
    """The name a certificate must carry, as cryptography matches it: an IP address, or a DNS
    name in ASCII (IDNA) without the root's trailing dot."""
    try:
        return x509.IPAddress(ipaddress.ip_address(server_name))
    except ValueError:
        return x509.DNSName(server_name.encode("idna").decode("ascii").removesuffix("."))


def _builder(store, time, ca_policy=CA_POLICY, ee_policy=LEAF_POLICY):
    return PolicyBuilder().store(store).time(time).extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)


def _name_matches(leaf, subject):
    """cryptography's name matching alone: the leaf as its own trust anchor (no path, no
    signature), at a time inside its validity."""
    verifier = _builder(Store([leaf]), leaf.not_valid_before_utc, ee_policy=NAMED_LEAF_POLICY).build_server_verifier(
        subject
    )
    try:
        verifier.verify(leaf, [])
    except VerificationError:
        return False
    return True


def _issuer_walk(chain, anchors):
    """(path, how it ends) by issuer names from the leaf through the sent certificates: at an
    issuer neither sent nor an anchor, "self_signed" when the certificate names itself as
    issuer, else "incomplete"; "refused" when the names reach an anchor (cryptography refused
    a signature, a key, a validity or a CA's constraints on the way).

    Hand-written for the verdict's codes only: cryptography's refusal of a path says no
    more than "candidates exhausted"."""
    path = [chain[0]]
    while True:
        cert = path[-1]
        if cert in anchors.certificates or cert.issuer in anchors.subjects:
            return path, "refused"
        issuer = next((c for c in chain if c not in path and c.subject == cert.issuer), None)
        if issuer is None:
            return path, "self_signed" if cert.issuer == cert.subject else "incomplete"
        path.append(issuer)


def _path_alone(chain, anchors, now):
    """(path, trust) of a chain cryptography refused for the name: "trusted" when it finds a
    path to an anchor valid at `now` for some name and use, else how _issuer_walk ends."""
    try:
        verifier = _builder(anchors.store, now, ANY_USE_CA_POLICY, ExtensionPolicy.permit_all()).build_client_verifier()
        return verifier.verify(chain[0], chain[1:]).chain, "trusted"
    except VerificationError:
        return _issuer_walk(chain, anchors)


def _key_info(cert):
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    return type(key).__name__.removesuffix("PublicKey"), None  # Ed25519, Ed448


def _signature_hash(cert):
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    return digest.name if digest is not None else "none"  # none: Ed25519/Ed448


def _san(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def describe_certificate(cert):
    key_type, key_bits = _key_info(cert)
    san = _san(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "san": [str(name.value) for name in san] if san is not None else [],
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "key_type": key_type,
        "key_bits": key_bits,
        "signature_hash": _signature_hash(cert),
    }


def validity_problems(path, now, warning_days):
    """Expired or not yet valid: any certificate on the path (cryptography checks each);
    expiring soon: the leaf."""
    if any(now > cert.not_valid_after_utc for cert in path):
        return ["cert_expired"]
    if any(now < cert.not_valid_before_utc for cert in path):
        return ["cert_not_yet_valid"]
    if path[0].not_valid_after_utc - now < datetime.timedelta(days=warning_days):
        return ["cert_expiring_soon"]
    return []


def _weak_key(cert):
    key_type, bits = _key_info(cert)
    return key_type in MIN_KEY_BITS and bits < MIN_KEY_BITS[key_type]


def algorithm_problems(path, anchors):
    """Weak keys and SHA-1 signatures on the certificates a client relies on.

    Keys: the leaf and every certificate on the path but trust anchors. Signatures: the same
    but self-issued CAs too (nobody checks a root's self-signature). cryptography refuses a
    SHA-1 signature or a weak issuer key without saying which; it never looks at the leaf's key.
    """
    relied = [cert for i, cert in enumerate(path) if i == 0 or cert not in anchors.certificates]
    problems = []
    if any(_weak_key(cert) for cert in relied):
        problems.append("weak_key")
    if any(
        _signature_hash(cert) in WEAK_SIGNATURE_HASHES
        for cert in relied
        if cert is path[0] or cert.issuer != cert.subject
    ):
        problems.append("sha1_signature")
    return problems


def judge_certificates(chain_der, server_name, anchors, warning_days):
    """(problems, details) of the chain the server sent.

    Whether it holds is cryptography's verdict, at the probe's clock. It names one defect
    where a chain may have several, so when it refuses, the name and the path are asked
    apart, and the codes come from the certificates themselves; a refusal none of them
    explains is cert_untrusted, so a refused chain never passes.
    """
    try:
        chain = [x509.load_der_x509_certificate(der) for der in chain_der]
    except ValueError as exc:
        return [], {"chain_length": len(chain_der), "certificate_error": str(exc)}
    if not chain:
        return [], {"chain_length": 0, "certificate_error": "the server sent no certificate"}
    leaf, subject = chain[0], server_subject(server_name)
    now = datetime.datetime.now(datetime.UTC)
    refusal = None
    try:
        path = _builder(anchors.store, now).build_server_verifier(subject).verify(leaf, chain[1:])
        trust, name_matches = "trusted", True
    except VerificationError as exc:
        refusal = str(exc)
        path, trust = _path_alone(chain, anchors, now)
        name_matches = _name_matches(leaf, subject)
    problems = validity_problems(path, now, warning_days)
    if trust in TRUST_PROBLEMS:
        problems.append(TRUST_PROBLEMS[trust])
    if not name_matches:
        problems.append("cert_hostname_mismatch")
    problems += algorithm_problems(path, anchors)
    if refusal is not None and not set(problems) - {"cert_expiring_soon"}:
        problems.append("cert_untrusted")
    details = {
        "certificate": describe_certificate(leaf),
        "chain_length": len(chain),
        "chain_subjects": [c.subject.rfc4514_string() for c in chain],
        "chain_trust": trust,
    }
    if refusal is not None:
        details["chain_refused"] = refusal
    return problems, details
