"""A throw-away test CA and server certificates (valid, expired, self-signed) for TLS tests."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.harness.ports import LOOPBACK

SERVER_NAMES = (LOOPBACK, "localhost")  # the IP and DNS subjectAltNames of server certs
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files a TLS server needs: its certificate and key, and the CA clients should trust."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class CertificateSet:
    """Everything make_certificates wrote. All three server certificates name SERVER_NAMES;
    `expired` is signed by the test CA but past its notAfter, `self_signed` is not from it."""

    ca_file: Path
    valid: TlsFiles
    expired: TlsFiles
    self_signed: TlsFiles


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idgov tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)  # slapd runs as the test user, so owner-only is enough


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _make_ca(now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _new_key()
    name = _name("idgov test CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 30 * _DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _server_cert(
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """A TLS server certificate for SERVER_NAMES, signed by `issuer` (None: by `key` itself)."""
    subject = _name(SERVER_NAMES[0])
    issuer_name, signing_key = (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
    alt_names: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(SERVER_NAMES[0])),
        x509.DNSName(SERVER_NAMES[1]),
    ]
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
        .sign(signing_key, hashes.SHA256())
    )


def make_certificates(directory: Path) -> CertificateSet:
    """Write ca.pem and {valid,expired,self-signed}.{pem,key} into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca = _make_ca(now)
    ca_file = directory / "ca.pem"
    _write_cert(ca[0], ca_file)
    windows = {
        "valid": (ca, now - _DAY, now + 30 * _DAY),
        "expired": (ca, now - 30 * _DAY, now - _DAY),
        "self-signed": (None, now - _DAY, now + 30 * _DAY),
    }
    files: dict[str, TlsFiles] = {}
    for kind, (issuer, not_before, not_after) in windows.items():
        key = _new_key()
        files[kind] = TlsFiles(ca_file, directory / f"{kind}.pem", directory / f"{kind}.key")
        _write_key(key, files[kind].key_file)
        _write_cert(_server_cert(key, issuer, not_before, not_after), files[kind].cert_file)
    return CertificateSet(ca_file, files["valid"], files["expired"], files["self-signed"])
