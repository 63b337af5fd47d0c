"""The ingress controller's namespace under mocks: NetworkPolicies admit clients, the control
plane on the webhook and the scrapers on metrics only; the controller watches the namespaces it
serves only (issue #21 point 4)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tests.harness import DELETE, STACKS, Capture, run_stack, secure, stack_config, with_overrides

POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RELEASE = "kubernetes:helm.sh/v3:Release"


def _policies(capture: Capture) -> dict[str, dict[str, Any]]:
    return {
        r.name.removeprefix("mlflow-ingress-"): r.inputs
        for r in capture.of_type(POLICY)
        if r.inputs["metadata"]["namespace"] == "ingress-nginx"
    }


def _rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], policy["spec"]["ingress"])


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_namespace_denies_all_but_clients_webhook_and_scrapers(
    stacks: dict[str, Capture], stack: str
) -> None:
    policies = _policies(stacks[stack])
    assert set(policies) == {"default-deny", "clients", "metrics", "webhook"}
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": []}
    controller = {
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/instance": "mlflow-ingress",
        "app.kubernetes.io/component": "controller",
    }
    for name in ("clients", "metrics", "webhook"):
        assert policies[name]["spec"]["podSelector"] == {"matchLabels": controller}, name
    (clients,) = _rules(policies["clients"])
    assert "from" not in clients
    assert [p["port"] for p in clients["ports"]] == [80, 443]
    (metrics,) = _rules(policies["metrics"])
    assert metrics["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    scrapers = {
        p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in metrics["from"]
    }
    gke = stack in ("staging", "prod")
    assert scrapers == ({"gmp-system", "monitoring"} if gke else {"monitoring"})
    (webhook,) = _rules(policies["webhook"])
    assert webhook["ports"] == [{"port": 8443, "protocol": "TCP"}]


@pytest.mark.parametrize(
    ("stack", "block"),
    [
        ("prod", {"cidr": "172.16.0.48/28"}),
        ("staging", {"cidr": "172.16.0.32/28"}),
        ("local", {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]}),
        ("dev", {"cidr": "0.0.0.0/0", "except": ["10.244.0.0/16"]}),
    ],
)
def test_the_webhook_admits_the_control_plane_not_the_pods(
    stacks: dict[str, Capture], stack: str, block: dict[str, object]
) -> None:
    (webhook,) = _rules(_policies(stacks[stack])["webhook"])
    assert webhook["from"] == [{"ipBlock": block}]


def test_gke_with_public_nodes_keeps_its_pods_off_the_webhook() -> None:
    config = with_overrides(
        stack_config("staging"), cluster__private_nodes=False, cluster__master_ipv4_cidr=DELETE
    )
    (webhook,) = _rules(_policies(run_stack("staging", config))["webhook"])
    assert webhook["from"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.16.0.0/14"]}}]


@pytest.mark.parametrize("stack", STACKS)
def test_ingress_nginx_watches_only_mlflows_namespace(
    stacks: dict[str, Capture], stack: str
) -> None:
    controller = stacks[stack].one(RELEASE, "mlflow-ingress").inputs["values"]["controller"]
    assert controller["scope"] == {"enabled": True, "namespace": "mlflow"}


def test_with_oidc_it_watches_mlflow_and_the_sign_in_namespace() -> None:
    oidc = {
        "mode": "oidc",
        "oidc": {
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": secure("client-s3cret-value"),
            "allowed_email_domains": ["example.com"],
        },
    }
    capture = run_stack("prod", with_overrides(stack_config("prod"), auth=oidc))
    controller = capture.one(RELEASE, "mlflow-ingress").inputs["values"]["controller"]
    assert controller["scope"] == {
        "enabled": False,
        "namespaceSelector": "kubernetes.io/metadata.name in (mlflow,mlflow-sso)",
    }


def test_f5_watches_only_mlflows_namespace_and_has_no_webhook_to_guard() -> None:
    config = with_overrides(stack_config("prod"), ingress__controller="f5-nginx")
    capture = run_stack("prod", config)
    release = capture.one(RELEASE, "mlflow-ingress").inputs["values"]
    assert release["controller"]["watchNamespace"] == "mlflow"
    policies = _policies(capture)
    assert set(policies) == {"default-deny", "clients", "metrics"}
    (metrics,) = _rules(policies["metrics"])
    assert metrics["ports"] == [{"port": "prometheus", "protocol": "TCP"}]
    assert policies["metrics"]["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "nginx-ingress",
        "app.kubernetes.io/instance": "mlflow-ingress-f5",
    }
