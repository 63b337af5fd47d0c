"""Certificates without hand work: cert-manager (its Helm chart, CRDs included) and the
ClusterIssuer the MLflow Ingress names, either Let's Encrypt (ACME, HTTP-01 through the nginx
class) or a CA of the cluster's own (a self-signed root that signs the host's certificate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components.config import CertManagerChartConfig, TlsConfig, default_of, defaults_from
from components.shared import kube
from components.shared.base import Component
from components.shared.kube import INGRESS_CLASS

ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
API_VERSION = "cert-manager.io/v1"
ACME_ISSUER = "mlflow-platform-letsencrypt"
ROOT_ISSUER = "mlflow-platform-selfsigned"
CA_ISSUER = "mlflow-platform-ca"
CA_SECRET = "mlflow-platform-ca"


_chart = defaults_from(CertManagerChartConfig)


@dataclass(frozen=True)
class CertManagerArgs:
    issuer: Literal["acme", "self-signed"]
    """Who signs the host's certificate: acme (Let's Encrypt, HTTP-01) or self-signed (a CA of
    the cluster's own): `tls.issuer`."""
    acme_email: str | None = None
    """The Let's Encrypt account's e-mail (`tls.acme_email`); used with acme only."""
    acme_server: str = default_of(TlsConfig, "acme_server")
    """Let's Encrypt's production or staging directory (`tls.acme_server`)."""
    namespace: str = default_of(TlsConfig, "cert_manager_namespace")
    """cert-manager's namespace, created here, where the own CA's Secret lives too
    (`tls.cert_manager_namespace`)."""
    chart_repository: str = _chart("repository")
    """The cert-manager chart's repository, https:// or oci:// (`tls.chart.repository`)."""
    chart_name: str = _chart("name")
    """The chart's name (`tls.chart.name`)."""
    chart_version: str = _chart("version")
    """The chart's version (`tls.chart.version`)."""
    chart_path: str | None = _chart("path")
    """A local chart directory or .tgz, installed instead of the repository's (`tls.chart.path`)."""


def _requests(memory: str) -> dict[str, Any]:
    return {"requests": {"cpu": "10m", "memory": memory}}


def chart_values() -> dict[str, Any]:
    # CRDs from the chart, removed with it: `pulumi destroy` leaves nothing behind.
    # Every pod of the chart requests what it needs (the chart's defaults request nothing).
    return {
        "crds": {"enabled": True, "keep": False},
        "resources": _requests("64Mi"),
        "webhook": {"resources": _requests("32Mi")},
        "cainjector": {"resources": _requests("64Mi")},
        "startupapicheck": {"resources": _requests("32Mi")},
    }


def acme_issuer_spec(args: CertManagerArgs) -> dict[str, Any]:
    return {
        "acme": {
            "server": ACME_SERVERS[args.acme_server],
            "email": args.acme_email,
            "privateKeySecretRef": {"name": f"{ACME_ISSUER}-account"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
        }
    }


def ca_certificate_spec() -> dict[str, Any]:
    return {
        "isCA": True,
        "commonName": "mlflow-platform local CA",
        "secretName": CA_SECRET,
        "duration": "87600h",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": ROOT_ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io"},
    }


class CertManager(Component):
    """cert-manager and the ClusterIssuer that signs mlflow.host's certificate."""

    issuer_name: pulumi.Output[str]
    """The ClusterIssuer the MLflow Ingress names in `cert-manager.io/cluster-issuer`."""
    ca_certificate_secret: pulumi.Output[str | None]
    """With the cluster's own CA: `namespace/name` of the Secret whose `ca.crt` is that CA's
    certificate, the one clients trust (the key beside it never leaves the cluster)."""

    def __init__(
        self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        labels = kube.labels("cert-manager", "certificates")
        namespace = kube.namespace(name, args.namespace, labels, self, "baseline")
        self.release = k8s.helm.v3.Release(
            name,
            name=name,
            namespace=namespace.metadata.name,
            values=chart_values(),
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self),
            **kube.chart_source(
                args.chart_path, args.chart_name, args.chart_version, args.chart_repository
            ),
        )
        after_chart = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        if args.issuer == "acme":
            self._cluster_issuer(ACME_ISSUER, acme_issuer_spec(args), after_chart)
        else:
            self._own_ca(args, after_chart)
        # A name, not a wait: cert-manager's ingress-shim picks up an Ingress that names the
        # issuer whenever both exist.
        self.issuer_name = pulumi.Output.from_input(
            ACME_ISSUER if args.issuer == "acme" else CA_ISSUER
        )
        # Where, not the certificate itself: cert-manager writes it after `up` has created the
        # Certificate, and reading it here would make every `up` wait for the issuance.
        self.ca_certificate_secret = pulumi.Output.from_input(
            None if args.issuer == "acme" else f"{args.namespace}/{CA_SECRET}"
        )
        self.register_declared_outputs()

    def _cluster_issuer(
        self, name: str, spec: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=API_VERSION,
            kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name),
            spec=spec,
            opts=opts,
        )

    def _own_ca(
        self, args: CertManagerArgs, opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        """A self-signed root, a CA certificate it signs (kept in cert-manager's namespace,
        where a ClusterIssuer reads it), and the CA issuer that signs the host's certificate."""
        root = self._cluster_issuer(ROOT_ISSUER, {"selfSigned": {}}, opts)
        ca = k8s.apiextensions.CustomResource(
            CA_SECRET,
            api_version=API_VERSION,
            kind="Certificate",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_SECRET, namespace=args.namespace),
            spec=ca_certificate_spec(),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[root])),
        )
        return self._cluster_issuer(
            CA_ISSUER,
            {"ca": {"secretName": CA_SECRET}},
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[ca])),
        )
