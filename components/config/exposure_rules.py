"""Rules of secure exposure that span blocks: login, certificate, address, allowlist."""

from __future__ import annotations

from components.config.infrastructure import GkeClusterConfig
from components.config.platform import PlatformConfig
from components.config.section import internet_wide_problems, key


def _login_off_only_on_local(cfg: PlatformConfig) -> list[str]:
    if cfg.auth.enabled or cfg.environment == "local":
        return []
    return [
        f"{key('auth.enabled')} = False in {cfg.environment}: anyone who finds the host could "
        "read, change and delete experiments; allowed: true (only local may turn it off)"
    ]


def _certificate_source(cfg: PlatformConfig) -> list[str]:
    problems = []
    if cfg.mlflow.tls_secret is not None and cfg.tls.issuer != "none":
        problems.append(
            f"{key('mlflow.tls_secret')} = {cfg.mlflow.tls_secret!r}: your own certificate and "
            f"tls.issuer {cfg.tls.issuer!r} would both claim the Ingress; allowed: tls.issuer "
            "'none' with your own Secret, or leave tls_secret out"
        )
    host = cfg.mlflow.host
    if cfg.tls.issuer == "acme" and (host.endswith(".local") or "." not in host):
        problems.append(
            f"{key('mlflow.host')} = {host!r}: Let's Encrypt can only validate a public DNS name; "
            "allowed: a name under a domain you own, or tls.issuer 'self-signed'"
        )
    if cfg.auth.enabled and cfg.auth.mode == "oidc" and not cfg.serves_https:
        problems.append(
            f"{key('auth.mode')} = 'oidc': sign-in cookies need https; allowed: a tls.issuer, "
            "or mlflow.tls_secret"
        )
    return problems


def _address_rules(cfg: PlatformConfig) -> list[str]:
    problems = []
    if cfg.ingress.allowed_source_ranges and cfg.ingress_service_type != "LoadBalancer":
        problems.append(
            f"{key('ingress.allowed_source_ranges')} = {cfg.ingress.allowed_source_ranges!r}: "
            "restricts a LoadBalancer, and here the controller's Service is a NodePort; "
            "allowed: leave it out, or ingress.service_type LoadBalancer"
        )
    if cfg.dns.managed_zone is not None and not isinstance(cfg.cluster, GkeClusterConfig):
        problems.append(
            f"{key('dns.managed_zone')} = {cfg.dns.managed_zone!r}: the record points at the "
            "reserved address of a GKE stack; allowed: leave it out on "
            f"cluster.kind {cfg.cluster.kind!r}"
        )
    return problems


def _public_address_is_https_and_narrow(cfg: PlatformConfig) -> list[str]:
    """A LoadBalancer outside minikube has an address the internet reaches: no clear text on
    it, and an allowlist that keeps someone out."""
    if cfg.ingress_service_type != "LoadBalancer" or not cfg.ingress.enabled:
        return []
    problems = [
        p.line("ingress")
        for p in internet_wide_problems(
            "allowed_source_ranges", list(cfg.ingress.allowed_source_ranges)
        )
    ]
    if not cfg.serves_https and cfg.cluster.kind != "minikube":
        problems.append(
            f"{key('tls.issuer')} = 'none' without mlflow.tls_secret on a LoadBalancer: logins "
            "and data would cross the internet in clear text; allowed: tls.issuer 'acme' or "
            "'self-signed', your own mlflow.tls_secret, or ingress.service_type 'NodePort'"
        )
    return problems


def _sign_in_needs_ingress_nginx(cfg: PlatformConfig) -> list[str]:
    """oauth2-proxy is asked through ingress-nginx's auth-url; F5's open-source controller has
    no such annotation."""
    if not (cfg.auth.enabled and cfg.auth.mode == "oidc" and cfg.ingress.controller == "f5-nginx"):
        return []
    return [
        f"{key('auth.mode')} = 'oidc' with {key('ingress.controller')} = 'f5-nginx': the "
        "sign-in is asked through ingress-nginx's auth-url annotation, which F5 NGINX Ingress "
        "Controller does not read; allowed: auth.mode 'basic' with f5-nginx, or "
        "ingress.controller 'ingress-nginx' with oidc"
    ]


EXPOSURE_RULES = (
    _login_off_only_on_local,
    _certificate_source,
    _address_rules,
    _public_address_is_https_and_narrow,
    _sign_in_needs_ingress_nginx,
)


def exposure_problems(cfg: PlatformConfig) -> list[str]:
    return [problem for rule in EXPOSURE_RULES for problem in rule(cfg)]


def prod_exposure_problems(cfg: PlatformConfig, where: str) -> list[str]:
    """prod: a login and https, whatever else the stack says."""
    problems = []
    if not cfg.auth.enabled:
        problems.append(f"{key('auth.enabled')} = False {where}; allowed: True")
    if not cfg.serves_https:
        problems.append(
            f"{key('tls.issuer')} = 'none' without mlflow.tls_secret {where}: credentials would "
            "cross the internet in clear text; allowed: 'acme', 'self-signed', or your own "
            "mlflow.tls_secret"
        )
    if cfg.tls.issuer == "acme" and cfg.tls.acme_server == "staging":
        problems.append(
            f"{key('tls.acme_server')} = 'staging' {where}: Let's Encrypt's staging CA signs "
            "certificates no browser or client trusts; allowed: 'production'"
        )
    return problems
