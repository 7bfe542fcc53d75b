"""Real TLS and plain-HTTP servers on 127.0.0.1 (ephemeral ports) for the TLS probe's tests.

Certificates are made here with `cryptography`, except the SHA-1 signed one: cryptography
refuses SHA-1 signatures, so the `openssl` command issues that one.
"""

import datetime
import os
import socket
import ssl
import subprocess
import threading
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

SERVER_NAME = "tls.test"
STRONG = "ECDHE+AESGCM:ECDHE+CHACHA20"
# TLS 1.0/1.1, SHA-1 and 1024-bit keys need SECLEVEL=0 on the server too with OpenSSL 3.
LEGACY = "ECDHE+AESGCM:ECDHE+AES:@SECLEVEL=0"
HSTS = ("Strict-Transport-Security", "max-age=31536000")
DAY = datetime.timedelta(days=1)


def now():
    return datetime.datetime.now(datetime.UTC)


def new_key(kind="ec"):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(65537, {"rsa2048": 2048, "rsa1024": 1024}[kind])


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(
    common_name, key, issuer=None, issuer_key=None, san=(SERVER_NAME,), ca=False, not_before=None, not_after=None
):
    """A certificate for key, signed by issuer_key (self-signed when no issuer), SHA-256."""
    not_before = not_before or now() - DAY
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after or not_before + 90 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def certs_pem(*certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


class Pki:
    """A root and an intermediate CA; leaves are issued by the intermediate."""

    def __init__(self, directory, name="fleetready test"):
        self.directory = directory
        self.root_key, self.inter_key = new_key(), new_key()
        self.root = issue(f"{name} root", self.root_key, ca=True, san=())
        self.inter = issue(f"{name} intermediate", self.inter_key, self.root, self.root_key, ca=True, san=())
        self.ca_file = self.write(f"{name} root.pem", certs_pem(self.root))

    def write(self, name, data):
        path = os.path.join(self.directory, name)
        with open(path, "wb") as out:
            out.write(data)
        return path

    def leaf(self, key, **kwargs):
        return issue(SERVER_NAME, key, self.inter, self.inter_key, **kwargs)

    def sha1_leaf(self, key):
        """A leaf signed by the intermediate with SHA-1 (by the openssl command)."""
        leaf_key = self.write("sha1-leaf.key", key_pem(key))
        inter_cert = self.write("inter.pem", certs_pem(self.inter))
        inter_key = self.write("inter.key", key_pem(self.inter_key))
        out = os.path.join(self.directory, "sha1-leaf.pem")
        subprocess.run(
            [
                "openssl",
                "req",
                "-new",
                "-x509",
                "-config",
                os.devnull,
                "-sha1",
                "-key",
                leaf_key,
                "-subj",
                f"/CN={SERVER_NAME}",
                "-addext",
                f"subjectAltName=DNS:{SERVER_NAME}",
                "-CA",
                inter_cert,
                "-CAkey",
                inter_key,
                "-days",
                "30",
                "-out",
                out,
            ],
            check=True,
            capture_output=True,
        )
        with open(out, "rb") as pem:
            return x509.load_pem_x509_certificate(pem.read())


def http_response(status, headers=()):
    reason = {200: "OK", 301: "Moved Permanently", 400: "Bad Request"}.get(status, "Status")
    body = b"hello\n" if status == 200 else b""
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body


class LoopbackServer:
    """Accepts on 127.0.0.1:<ephemeral> and answers each connection in its own thread."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        conn.settimeout(5)
        try:
            self.answer(conn)
        except OSError:  # probes hang up mid-handshake on purpose; ssl.SSLError is an OSError
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()


def plain_answer(response):
    """Answers the first bytes received, whatever they are, like an HTTP server's 400."""

    def answer(conn):
        conn.recv(65536)
        conn.sendall(response)

    return answer


def _listen_until_closed(conn):
    while conn.recv(65536):
        pass


def tls_answer(ctx, response):
    def answer(conn):
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(response)

    return answer


def server_context(certfile, keyfile, minimum, maximum, ciphers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():  # TLS 1.0/1.1 servers are what is under test
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


class Lab:
    """The servers of a test module; close() stops them all."""

    def __init__(self, directory):
        self.pki = Pki(directory)
        self.servers = []
        self.closed_sockets = []

    def _start(self, answer):
        server = LoopbackServer(answer)
        self.servers.append(server)
        return server.port

    def tls(
        self,
        chain,
        key,
        minimum=ssl.TLSVersion.TLSv1_2,
        maximum=ssl.TLSVersion.TLSv1_3,
        ciphers=STRONG,
        headers=(HSTS,),
    ):
        """A TLS server sending `chain` (leaf first) and answering 200 with `headers`."""
        n = len(self.servers)
        certfile = self.pki.write(f"chain-{n}.pem", certs_pem(*chain))
        keyfile = self.pki.write(f"key-{n}.pem", key_pem(key))
        ctx = server_context(certfile, keyfile, minimum, maximum, ciphers)
        return self._start(tls_answer(ctx, http_response(200, headers)))

    def http(self, status, headers=()):
        return self._start(plain_answer(http_response(status, headers)))

    def silent(self):
        """A port that accepts connections and never says a word."""
        return self._start(_listen_until_closed)

    def hang_up(self):
        """A port that accepts connections and closes them at once."""
        return self._start(lambda conn: None)

    def closed_port(self):
        """A port bound but not listening: connecting is refused, and no one else gets it."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.closed_sockets.append(sock)
        return sock.getsockname()[1]

    def close(self):
        for server in self.servers:
            server.close()
        for sock in self.closed_sockets:
            sock.close()
