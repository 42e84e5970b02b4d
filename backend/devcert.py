"""A local certificate authority and a localhost certificate for `make run` over HTTPS.

Office only loads add-ins over https that the machine trusts. We create a small CA once
(``DATA_DIR/tls/plume-dev-ca.pem``), which the developer trusts, and a leaf certificate
for localhost signed by it. Nothing here is used in production (nginx or the ingress
terminates TLS there).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_DAYS = 365
CA_DAYS = 3650


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _load_ca(tls: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = tls / "plume-dev-ca.pem", tls / "plume-dev-ca.key"
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        return cert, key  # type: ignore[return-value]
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Plume development CA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Plume (local)")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert, key


def ensure_certificate(data_dir: str) -> tuple[str, str, str]:
    """Return (leaf cert, leaf key, CA cert) paths, creating what is missing or expiring."""
    tls = Path(data_dir) / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_ca(tls)
    leaf_path, leaf_key_path = tls / "localhost.pem", tls / "localhost.key"
    now = dt.datetime.now(dt.timezone.utc)
    if leaf_path.exists() and leaf_key_path.exists():
        leaf = x509.load_pem_x509_certificate(leaf_path.read_bytes())
        if leaf.not_valid_after_utc - now > dt.timedelta(days=7) and leaf.issuer == ca_cert.subject:
            return str(leaf_path), str(leaf_key_path), str(tls / "plume-dev-ca.pem")
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
             x509.IPAddress(ipaddress.ip_address("::1"))]
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    leaf_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    _write_key(leaf_key_path, key)
    return str(leaf_path), str(leaf_key_path), str(tls / "plume-dev-ca.pem")


TRUST_HELP = """\
To trust the development certificate (once per machine), import {ca}:
  Windows : certutil -user -addstore Root {ca}
  macOS   : sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}
  Debian  : sudo cp {ca} /usr/local/share/ca-certificates/plume-dev-ca.crt && sudo update-ca-certificates
"""
