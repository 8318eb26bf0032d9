"""Throwaway TLS material for end-to-end tests (docs/architecture.md: "Discord"), made with the
`openssl` tool.

    ca_cert, ca_key = make_ca(folder)
    cert, key = make_server_cert(folder, ca_cert, ca_key)        # SAN DNS:localhost, IP:127.0.0.1
    bad_cert, bad_key = make_self_signed(folder)                  # trusted by no one
    FakeDiscord(tls_context=server_context(cert, key))

Keys are EC prime256v1 (fast), certificates valid for 2 days. Every `openssl` call gets its own
minimal config file, so the system's openssl.cnf cannot add or clash with extensions.
"""

import ipaddress
import os
import secrets
import shutil
import ssl
import subprocess
from pathlib import Path

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
DAYS = 2
DEFAULT_HOSTS = ("localhost", "127.0.0.1")

_REQ_CONFIG = """\
[req]
distinguished_name = req_dn
prompt = no

[req_dn]
CN = unused

[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
{aki}subjectAltName = {san}
"""


def _openssl(*args, cwd=None):
    proc = subprocess.run([OPENSSL, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                           f"{proc.stderr.strip()}")
    return proc.stdout


def _san(hosts):
    """`DNS:name` for names, `IP:addr` for addresses."""
    entries = []
    for host in hosts:
        host = str(host).strip("[]")
        try:
            entries.append(f"IP:{ipaddress.ip_address(host)}")
        except ValueError:
            entries.append(f"DNS:{host}")
    if not entries:
        raise ValueError("at least one host is needed for subjectAltName")
    return ", ".join(entries)


def _config(folder, stem, hosts=DEFAULT_HOSTS, with_aki=False):
    path = Path(folder) / f"{stem}.openssl.cnf"
    aki = "authorityKeyIdentifier = keyid, issuer\n" if with_aki else ""
    path.write_text(_REQ_CONFIG.format(san=_san(hosts), aki=aki))
    return path


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-out", path)
    os.chmod(path, 0o600)
    return path


def _subject(name):
    # `-subj` syntax: escape the separators it treats specially.
    escaped = str(name).replace("\\", "\\\\").replace("/", "\\/").replace("=", "\\=")
    return f"/CN={escaped}"


def make_ca(folder: Path, name="Throwaway Test CA") -> tuple[Path, Path]:
    """A CA certificate and key: (`ca.pem`, `ca.key`) in folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "ca.pem", folder / "ca.key"
    cnf = _config(folder, "ca")
    _new_key(key)
    _openssl("req", "-config", cnf, "-new", "-x509", "-key", key, "-out", cert,
             "-days", DAYS, "-sha256", "-subj", _subject(name), "-extensions", "v3_ca",
             "-set_serial", secrets.randbits(63) | 1)
    return cert, key


def make_server_cert(folder: Path, ca_cert, ca_key, hosts=DEFAULT_HOSTS) -> tuple[Path, Path]:
    """A server certificate signed by the CA, subjectAltName covering hosts:
    (`server.pem`, `server.key`) in folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hosts = tuple(hosts)
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    cnf = _config(folder, "server", hosts, with_aki=True)
    _new_key(key)
    _openssl("req", "-config", cnf, "-new", "-key", key, "-out", csr, "-sha256",
             "-subj", _subject(hosts[0]))
    _openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
             "-set_serial", secrets.randbits(63) | 1, "-days", DAYS, "-sha256",
             "-extfile", cnf, "-extensions", "v3_leaf", "-out", cert)
    csr.unlink(missing_ok=True)
    return cert, key


def make_self_signed(folder: Path, hosts=DEFAULT_HOSTS) -> tuple[Path, Path]:
    """A self-signed server certificate no client trusts (for the negative test):
    (`self_signed.pem`, `self_signed.key`) in folder. Its names match hosts, so a failure is
    about trust, not about the name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hosts = tuple(hosts)
    cert, key = folder / "self_signed.pem", folder / "self_signed.key"
    cnf = _config(folder, "self_signed", hosts)
    _new_key(key)
    _openssl("req", "-config", cnf, "-new", "-x509", "-key", key, "-out", cert,
             "-days", DAYS, "-sha256", "-subj", _subject(hosts[0]), "-extensions", "v3_leaf",
             "-set_serial", secrets.randbits(63) | 1)
    return cert, key


def server_context(cert, key) -> ssl.SSLContext:
    """A server-side context serving cert/key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def client_context(ca_cert) -> ssl.SSLContext:
    """A verifying client context that trusts only ca_cert (for Python-side checks)."""
    ctx = ssl.create_default_context(cafile=str(ca_cert))
    return ctx
