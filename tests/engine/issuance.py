"""What cert-manager really issues on the real node: the MLflow host's certificate in its TLS
Secret, signed by the CA whose Secret the stack outputs, and issued again when that Secret is
deleted. The X.509 checks use the `cryptography` package."""

from __future__ import annotations

import base64
import datetime
import time
from dataclasses import dataclass

from cryptography import x509

from tests.engine.controlplane import ControlPlane
from tests.harness import ROOT

# The upstream chart, unpacked beside the repository (../shared/charts, see its README there).
CERT_MANAGER_CHART = ROOT.parent / "shared" / "charts" / "cert-manager"


@dataclass(frozen=True)
class Issued:
    leaf: x509.Certificate
    chain: list[x509.Certificate]
    seconds: float
    """How long the Secret took to appear (or to come back)."""


def _secret_path(namespace_and_name: str) -> str:
    namespace, name = namespace_and_name.split("/", 1)
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def _certificates(plane: ControlPlane, secret: str, key: str) -> list[x509.Certificate]:
    data = plane.api("GET", _secret_path(secret), ok=(200, 404)).get("data") or {}
    if not data.get(key):
        return []
    return x509.load_pem_x509_certificates(base64.b64decode(data[key]))


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def ca_certificate(plane: ControlPlane, secret: str) -> x509.Certificate:
    """The CA's certificate (`ca.crt` of the Secret the stack's output names): a self-signed
    CA certificate."""
    (ca,) = _certificates(plane, secret, "ca.crt")
    assert _is_ca(ca)
    ca.verify_directly_issued_by(ca)
    return ca


def wait_issued(
    plane: ControlPlane, secret: str, other_than: int | None = None, timeout: float = 120
) -> Issued:
    """The certificate in the TLS Secret `namespace/name` once it is there (and, with
    `other_than`, once its serial number differs from that one)."""
    start = time.monotonic()
    while True:
        chain = _certificates(plane, secret, "tls.crt")
        if chain and chain[0].serial_number != other_than:
            return Issued(chain[0], chain, time.monotonic() - start)
        assert time.monotonic() - start < timeout, f"{secret}: no certificate issued"
        time.sleep(1)


def assert_issued_for(issued: Issued, ca: x509.Certificate, host: str) -> None:
    """Signed by the CA (names and signature), for the host (SAN), valid now, not a CA."""
    leaf = issued.leaf
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert host in names.get_values_for_type(x509.DNSName), names
    now = datetime.datetime.now(datetime.UTC)
    assert leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
    assert not _is_ca(leaf)


def delete_secret(plane: ControlPlane, secret: str) -> None:
    plane.api("DELETE", _secret_path(secret))
