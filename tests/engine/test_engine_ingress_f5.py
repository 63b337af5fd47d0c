"""The F5 NGINX Ingress Controller (`ingress.controller: f5-nginx`) from its upstream chart,
through the real engine on kwok: preview, up, no-op preview, destroy.

The chart installs its 12 CRDs from its `crds/` folder, which Helm installs before the templates
and never deletes: `pulumi destroy` leaves them (and the API groups they serve) behind. That is a
finding, asserted here as it is so that the day they get an owner this test says so; the test
then deletes them itself, so the next test finds the cluster as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from tests.engine import addons, controlplane
from tests.engine.inventory import inventory, left_behind
from tests.engine.platform_checks import assert_platform_removed, existing_cluster_stack
from tests.engine.toolchain import copy_project, workspace_options
from tests.engine.upstream_charts import (
    INGRESS_RELEASE,
    assert_deployments_available,
    chart_objects,
    upstream_chart,
)

pytestmark = pytest.mark.engine

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _chart_crds(chart: Path) -> dict[str, str]:
    """{name: API group} of the CRDs in the chart's `crds/` folder."""
    crds = (yaml.safe_load(path.read_text()) for path in sorted((chart / "crds").glob("*.yaml")))
    return {crd["metadata"]["name"]: crd["spec"]["group"] for crd in crds}


@pytest.fixture
def f5_crds(cluster: controlplane.ControlPlane) -> Iterator[dict[str, str]]:
    """The chart's CRDs, deleted after the test whatever happened."""
    crds = _chart_crds(upstream_chart("nginx-ingress"))
    yield crds
    for name in crds:
        cluster.api("DELETE", f"{CRDS}/{name}", ok=(200, 404))
    for name in crds:
        addons.wait_gone(cluster, f"{CRDS}/{name}")


def _is_of_the_crds(entry: str, crds: dict[str, str]) -> bool:
    """A CRD of the chart, or the APIService the API server registered for one of its groups."""
    kind, name = entry.split(" ", 1)
    if kind == "customresourcedefinitions.apiextensions.k8s.io":
        return name in crds
    return kind == "apiservices.apiregistration.k8s.io" and name.split(".", 1)[1] in set(
        crds.values()
    )


def test_f5_chart_goes_up_and_leaves_only_its_crds(
    cluster: controlplane.ControlPlane, tmp_path: Path, f5_crds: dict[str, str]
):
    stack_file = existing_cluster_stack(cluster, upstream_chart("nginx-ingress"))
    stack_file["config"]["mlflow-platform:ingress"]["controller"] = "f5-nginx"
    project = copy_project(tmp_path / "project")
    (project / "stacks" / "Pulumi.f5.yaml").write_text(yaml.safe_dump(stack_file))
    stack = auto.create_stack("f5", work_dir=str(project), opts=workspace_options(tmp_path))
    before = inventory(cluster)

    assert set(stack.preview().change_summary) == {"create"}
    assert stack.up().summary.result == "succeeded"
    release = f"{INGRESS_RELEASE}-f5"
    objects = chart_objects(cluster, release)
    assert_deployments_available(cluster, "ingress-nginx", objects["deployments.apps"])
    assert objects["ingressclasses.networking.k8s.io"] == {"nginx"}
    ingress_class = cluster.api("GET", "/apis/networking.k8s.io/v1/ingressclasses/nginx")
    assert ingress_class["spec"]["controller"] == "nginx.org/ingress-controller"
    installed = {c["metadata"]["name"] for c in cluster.api("GET", CRDS)["items"]}
    assert set(f5_crds) <= installed
    ingress = cluster.api("GET", "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert any(key.startswith("nginx.org/") for key in ingress["metadata"]["annotations"])

    assert set(stack.preview().change_summary) == {"same"}

    stack.destroy()
    left = left_behind(cluster, before, expected=lambda entry: _is_of_the_crds(entry, f5_crds))
    assert len(f5_crds) == 12
    assert {e.split(" ", 1)[1] for e in left if e.startswith("customresourcedefinitions")} == set(
        f5_crds
    ), left
    assert all(_is_of_the_crds(entry, f5_crds) for entry in left), left
    # Everything else of the stack is gone once the CRDs are.
    for name in f5_crds:
        cluster.api("DELETE", f"{CRDS}/{name}", ok=(200, 404))
    assert_platform_removed(cluster, stack, before)
