"""oauth2-proxy trusts forwarded headers from the ingress controller's pod network only, and its
session cookie is SameSite=Lax, short-lived and renewed with Google every hour."""

from __future__ import annotations

import ipaddress
import re

import pytest

from components import config as c
from components.workload.mlflow.oauth2_proxy import OAuth2Proxy, OAuth2ProxyArgs
from infra.config import project_config
from infra.exposure import MINIKUBE_POD_CIDR, PRIVATE_RANGES, ingress_controller_ranges
from tests.harness import (
    MOCK_KUBECONFIG_PATH,
    run_stack,
    run_under_mocks,
    stack_config,
    with_overrides,
)
from tests.test_exposure import OIDC


def _proxy_args(stack: str) -> list[str]:
    capture = run_stack(stack, with_overrides(stack_config(stack), auth=OIDC))
    deployment = capture.one("kubernetes:apps/v1:Deployment", "mlflow-sign-in").inputs
    return list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])


def _flag(args: list[str], name: str) -> list[str]:
    return [a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")]


def _hours(duration: str) -> float:
    found = re.fullmatch(r"(\d+)([hm])", duration)
    assert found, duration
    return int(found.group(1)) / (60 if found.group(2) == "m" else 1)


@pytest.mark.parametrize(
    ("stack", "trusted"),
    [("prod", ["10.32.0.0/14"]), ("dev", [MINIKUBE_POD_CIDR])],  # prod: its network.pods_cidr
)
def test_forwarded_headers_are_trusted_from_the_pod_network_only(
    stack: str, trusted: list[str]
) -> None:
    args = _proxy_args(stack)
    assert "--reverse-proxy=true" in args
    assert _flag(args, "trusted-proxy-ip") == trusted
    for cidr in trusted:
        network = ipaddress.ip_network(cidr)
        assert network.is_private and network.prefixlen >= 8, "never the internet"


def test_gke_trusts_the_stacks_own_pod_range() -> None:
    config = with_overrides(stack_config("prod"), network__pods_cidr="10.64.0.0/14")
    cfg = c.parse_config(project_config(config), stack="prod")
    assert ingress_controller_ranges(cfg) == ["10.64.0.0/14"]


def test_an_existing_cluster_trusts_the_private_ranges_only() -> None:
    existing = {"kind": "existing", "context": "ctx", "kubeconfig": str(MOCK_KUBECONFIG_PATH)}
    config = with_overrides(stack_config("local"), cluster=existing)
    cfg = c.parse_config(project_config(config), stack="local")
    assert ingress_controller_ranges(cfg) == PRIVATE_RANGES
    assert all(ipaddress.ip_network(r).is_private for r in PRIVATE_RANGES)


def test_the_cookie_is_lax_short_lived_and_refreshed() -> None:
    args = _proxy_args("prod")
    assert _flag(args, "cookie-samesite") == ["lax"]  # Google's redirect back must carry it
    assert _flag(args, "cookie-secure") == ["true"]
    (expire,) = _flag(args, "cookie-expire")
    (refresh,) = _flag(args, "cookie-refresh")
    # oauth2-proxy refuses a refresh not shorter than the expiry; Google's tokens last 1 h.
    assert _hours(refresh) == 1 < _hours(expire) <= 12


def test_the_sign_in_refuses_to_trust_everyone() -> None:
    args = OAuth2ProxyArgs(
        host="mlflow.example.com",
        namespace="mlflow-sso",
        client_id="id",
        client_secret="s",
        allowed_email_domains=["example.com"],
        tls_secret="tls",
        ingress_namespace="ingress-nginx",
        trusted_proxy_ranges=[],
    )
    with pytest.raises(ValueError, match="address ranges"):
        run_under_mocks(lambda: OAuth2Proxy("sign-in", args))
