"""How the platform is reached, built from the config: the stable address (GKE), cert-manager
and its issuer, and the sign-in proxy (auth.mode oidc). Platform calls these; each returns the
component it made, or None when the stack needs none."""

from __future__ import annotations

import pulumi

from components import config as c
from components.config import derived
from components.infrastructure.address import StaticAddress, StaticAddressArgs
from components.workload.certificates import CertManager, CertManagerArgs
from components.workload.ingress.nginx import SIGN_IN_URL, ExternalAuth
from components.workload.mlflow.oauth2_proxy import OAuth2Proxy, OAuth2ProxyArgs

# minikube's pod network (its kubeadm default; the cluster component does not change it).
MINIKUBE_POD_CIDR = "10.244.0.0/16"
# An existing cluster's pod network is not known here: the private ranges pod networks use.
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def ingress_controller_ranges(cfg: c.PlatformConfig) -> list[str]:
    """Where the ingress controller's pods connect from: the cluster's pod network. No client
    address from outside the cluster is in it; inside, the sign-in's NetworkPolicy admits the
    controller's namespace only."""
    if isinstance(cfg.cluster, c.GkeClusterConfig):
        network = cfg.network
        return [network.pods_cidr if network else c.default_of(c.NetworkConfig, "pods_cidr")]
    if isinstance(cfg.cluster, c.MinikubeClusterConfig):
        return [MINIKUBE_POD_CIDR]
    return list(PRIVATE_RANGES)


def static_address(
    cfg: c.PlatformConfig,
    stack: str,
    name: str,
    project: str,
    region: str,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions | None,
) -> StaticAddress | None:
    """GKE only: minikube and existing clusters bring their own addresses."""
    if not isinstance(cfg.cluster, c.GkeClusterConfig):
        return None
    return StaticAddress(
        f"{name}-address",
        StaticAddressArgs(
            project=project,
            region=region,
            name=derived.ingress_address_name(cfg, stack),
            host=cfg.mlflow.host,
            managed_zone=cfg.dns.managed_zone,
            dns_project=cfg.dns.project,
            ttl=cfg.dns.ttl,
            labels=labels,
        ),
        opts=opts,
    )


def certificates(
    cfg: c.PlatformConfig, name: str, opts: pulumi.ResourceOptions
) -> CertManager | None:
    tls = cfg.tls
    if tls.issuer == "none":
        return None
    return CertManager(
        f"{name}-cert-manager",
        CertManagerArgs(
            issuer=tls.issuer,
            acme_email=tls.acme_email,
            acme_server=tls.acme_server,
            namespace=tls.cert_manager_namespace,
            **c.chart_args(tls.chart),
        ),
        opts=opts,
    )


def sign_in(
    cfg: c.PlatformConfig,
    name: str,
    issuer: CertManager | None,
    ingress_after: list[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> OAuth2Proxy | None:
    oidc = cfg.auth.oidc
    if not cfg.auth.enabled or cfg.auth.mode != "oidc" or oidc is None:
        return None
    return OAuth2Proxy(
        f"{name}-sign-in",
        OAuth2ProxyArgs(
            host=cfg.mlflow.host,
            namespace=derived.sso_namespace(cfg),
            client_id=oidc.client_id,
            client_secret=pulumi.Output.secret(oidc.client_secret),
            allowed_email_domains=list(oidc.allowed_email_domains),
            tls_secret=tls_secret_name(cfg),
            ingress_namespace=cfg.ingress.namespace,
            trusted_proxy_ranges=ingress_controller_ranges(cfg),
            cluster_issuer=issuer.issuer_name if issuer else None,
            cookie_secret_rotation=oidc.cookie_secret_rotation,
            ingress_after=ingress_after,
        ),
        opts=opts,
    )


def external_auth(proxy: OAuth2Proxy | None) -> ExternalAuth | None:
    return ExternalAuth(proxy.auth_url, SIGN_IN_URL) if proxy else None


def tls_secret_name(cfg: c.PlatformConfig) -> str:
    """The Secret the host's certificate lives in: the user's own, or the issued one."""
    return cfg.mlflow.tls_secret or cfg.tls.secret_name
