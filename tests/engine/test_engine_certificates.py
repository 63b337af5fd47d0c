"""cert-manager, its ClusterIssuer and the annotated MLflow Ingress through the real engine.

The stack installs the upstream cert-manager chart (tests/engine/upstream_charts.py) as the
platform configures it, CRDs included, beside the upstream ingress-nginx chart. kwok runs no
container, so no certificate is issued and nothing answers cert-manager's webhooks: the API server
here does not call admission webhooks (controlplane.PlaneOptions). What is proven: the chart's
CRDs, RBAC, webhook configurations (wired to the chart's webhook Service), Deployments and
post-install Job go in with Helm's atomic wait; the issuer chain of the local stack (a self-signed
root, a CA Certificate, the CA issuer) is accepted by the API server against the chart's CRD
schemas; the MLflow Ingress names the issuer and the TLS Secret; a second preview is empty; and
destroy leaves no object of any kind behind (CRDs, webhook configurations, cluster roles and
bindings, namespaces).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.engine import controlplane
from tests.engine.inventory import inventory
from tests.engine.platform_checks import assert_platform_removed, existing_cluster_stack
from tests.engine.toolchain import copy_project, workspace_options
from tests.engine.upstream_charts import (
    assert_cert_manager_installed,
    assert_ingress_nginx_installed,
    upstream_chart,
)

pytestmark = pytest.mark.engine

CLUSTER_ISSUERS = "/apis/cert-manager.io/v1/clusterissuers"


def _stack(plane: controlplane.ControlPlane) -> dict[str, Any]:
    stack = existing_cluster_stack(plane, upstream_chart("ingress-nginx"))
    stack["config"]["mlflow-platform:tls"] = {
        "issuer": "self-signed",
        "hsts": False,
        "chart": {"path": str(upstream_chart("cert-manager"))},
    }
    return stack


def test_issuer_and_annotated_ingress_go_up_and_away(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    project = copy_project(tmp_path / "project")
    (project / "stacks" / "Pulumi.tls.yaml").write_text(yaml.safe_dump(_stack(cluster)))
    stack = auto.create_stack("tls", work_dir=str(project), opts=workspace_options(tmp_path))
    before = inventory(cluster)

    assert set(stack.preview().change_summary) == {"create"}
    assert stack.up().summary.result == "succeeded"
    assert_cert_manager_installed(cluster)
    assert_ingress_nginx_installed(cluster)
    issuers = {i["metadata"]["name"]: i for i in cluster.api("GET", CLUSTER_ISSUERS)["items"]}
    assert set(issuers) == {"mlflow-platform-selfsigned", "mlflow-platform-ca"}
    assert issuers["mlflow-platform-ca"]["spec"] == {"ca": {"secretName": "mlflow-platform-ca"}}
    ca = cluster.api(
        "GET", "/apis/cert-manager.io/v1/namespaces/cert-manager/certificates/mlflow-platform-ca"
    )
    assert ca["spec"]["isCA"] is True
    ingress = cluster.api("GET", "/apis/networking.k8s.io/v1/namespaces/mlflow/ingresses/mlflow")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == "mlflow-platform-ca"
    # A NodePort serves https on its own port, so http is not redirected to :443.
    assert annotations["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"
    assert ingress["spec"]["tls"] == [{"hosts": ["mlflow.local"], "secretName": "mlflow-tls"}]

    assert set(stack.preview().change_summary) == {"same"}

    stack.destroy()
    # The CRDs go with the chart, and with them every issuer and certificate; the namespace,
    # the webhook configurations and the cluster-wide RBAC go too.
    assert_platform_removed(cluster, stack, before)
    assert not cluster.exists("/api/v1/namespaces/cert-manager")
