"""A self-signed certificate for the devstack's TLS front doors (RTMPS ingest), made once and kept
in the state folder: encoders that pin it keep working across restarts. FFmpeg verifies server
certificates, so point it at the certificate (`-ca_file .devstack/tls/ingest.crt`) or pass
`-tls_verify 0`."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALIDITY = timedelta(days=3650)


def server_context(folder: Path, name: str = "ingest") -> ssl.SSLContext:
    """A TLS server context with `folder/<name>.crt` and `.key` (created when missing)."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    if not (cert.exists() and key.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = self_signed("localhost")
        key.write_bytes(key_pem)
        key.chmod(0o600)
        cert.write_bytes(cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def self_signed(host: str) -> tuple[bytes, bytes]:
    """(certificate, private key) in PEM, for `host` and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Videoplane devstack {host}")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host), x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    private = serialization.PrivateFormat.PKCS8
    key_pem = key.private_bytes(serialization.Encoding.PEM, private, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem
