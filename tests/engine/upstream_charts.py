"""The upstream Helm charts the kwok engine tests install, and what each must have put in the API
server. The charts are read from `shared/charts` beside the clone (they cannot be downloaded
here; that folder's README says where each comes from)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.engine.controlplane import ControlPlane
from tests.engine.inventory import inventory
from tests.harness import ROOT

SHARED_CHARTS = ROOT.parent / "shared" / "charts"
# The releases infra/ names (components: IngressController, CertManager).
INGRESS_RELEASE = "mlflow-ingress"
CERT_MANAGER_RELEASE = "mlflow-cert-manager"
WEBHOOK_CONFIGURATIONS = (
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
)
WEBHOOK_PATHS = {
    kind: f"/apis/admissionregistration.k8s.io/v1/{kind.split('.', 1)[0]}"
    for kind in WEBHOOK_CONFIGURATIONS
}


def upstream_chart(name: str) -> Path:
    chart = SHARED_CHARTS / name
    if not (chart / "Chart.yaml").exists():
        pytest.skip(f"no upstream chart at {chart}: shared/charts belongs beside the clone")
    return chart


def chart_objects(plane: ControlPlane, release: str) -> dict[str, set[str]]:
    """{kind: names} of every object labelled as the release's."""
    objects: dict[str, set[str]] = defaultdict(set)
    for entry in inventory(plane, f"app.kubernetes.io/instance={release}"):
        objects[entry.resource].add(entry.name)
    return objects


def completed_jobs(plane: ControlPlane, namespace: str) -> set[str]:
    """Jobs that ran to completion in `namespace`, by their events: Helm deletes a hook's Job
    once it has succeeded."""
    events = plane.api("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
    return {
        e["involvedObject"]["name"]
        for e in events
        if e["involvedObject"]["kind"] == "Job" and e["reason"] == "Completed"
    }


def _webhooks(plane: ControlPlane, objects: dict[str, set[str]]) -> list[dict[str, Any]]:
    return [
        hook
        for kind in WEBHOOK_CONFIGURATIONS
        for name in objects.get(kind, ())
        for hook in plane.api("GET", f"{WEBHOOK_PATHS[kind]}/{name}")["webhooks"]
    ]


def assert_webhooks_reach_the_chart(plane: ControlPlane, objects: dict[str, set[str]]) -> int:
    """Every webhook refuses when unanswered and names a Service of the chart whose endpoints are
    the chart's Ready pods: the path a real API server would call. Returns how many webhooks."""
    hooks = _webhooks(plane, objects)
    for hook in hooks:
        assert hook["failurePolicy"] == "Fail", hook["name"]
        service = hook["clientConfig"]["service"]
        assert service["name"] in objects["services"], service
        slices = plane.api(
            "GET",
            f"/apis/discovery.k8s.io/v1/namespaces/{service['namespace']}/endpointslices"
            f"?labelSelector=kubernetes.io/service-name={service['name']}",
        )["items"]
        ready = [
            e for s in slices for e in s.get("endpoints") or [] if e["conditions"].get("ready")
        ]
        assert ready, f"no ready endpoint behind webhook {hook['name']}"
    return len(hooks)


def assert_deployments_available(plane: ControlPlane, namespace: str, names: set[str]) -> None:
    for name in names:
        status = plane.api("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
        conditions = {c["type"]: c["status"] for c in status["status"].get("conditions", [])}
        assert conditions.get("Available") == "True", (name, status["status"])


INGRESS_NGINX_KINDS = {
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "configmaps",
    "deployments.apps",
    "ingressclasses.networking.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "serviceaccounts",
    "services",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
}


def assert_ingress_nginx_installed(plane: ControlPlane, namespace: str = "ingress-nginx") -> None:
    """The chart's objects are in place, its controller available, its webhook wired, and its
    certificate Jobs (kube-webhook-certgen: create the Secret, patch the webhook) completed."""
    objects = chart_objects(plane, INGRESS_RELEASE)
    assert set(objects) >= INGRESS_NGINX_KINDS, sorted(objects)
    assert_deployments_available(plane, namespace, objects["deployments.apps"])
    assert assert_webhooks_reach_the_chart(plane, objects) == 1
    jobs = completed_jobs(plane, namespace)
    assert {name.rsplit("-", 1)[1] for name in jobs} == {"create", "patch"}, jobs
    assert "jobs.batch" not in objects, "a hook Job was kept"


CERT_MANAGER_CRDS = {
    f"{plural}.{group}"
    for group, plurals in {
        "cert-manager.io": ("certificaterequests", "certificates", "clusterissuers", "issuers"),
        "acme.cert-manager.io": ("challenges", "orders"),
    }.items()
    for plural in plurals
}


def assert_cert_manager_installed(plane: ControlPlane, namespace: str = "cert-manager") -> None:
    """The chart's CRDs, its controller, webhook and cainjector available, both webhooks wired,
    and its post-install API check Job completed."""
    objects = chart_objects(plane, CERT_MANAGER_RELEASE)
    assert objects["customresourcedefinitions.apiextensions.k8s.io"] == CERT_MANAGER_CRDS
    deployments = objects["deployments.apps"]
    assert {name.removeprefix(CERT_MANAGER_RELEASE) for name in deployments} == {
        "",
        "-cainjector",
        "-webhook",
    }
    assert_deployments_available(plane, namespace, deployments)
    assert assert_webhooks_reach_the_chart(plane, objects) == 2
    assert completed_jobs(plane, namespace) == {f"{CERT_MANAGER_RELEASE}-startupapicheck"}
