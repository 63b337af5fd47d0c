"""cert-manager, its ClusterIssuer and the annotated MLflow Ingress through the real engine.

The cert-manager chart cannot be downloaded here, so a stand-in chart (made in a temp dir)
installs only cert-manager's real CRDs (ClusterIssuer, Certificate; fetched by `make
controlplane` from the cert-manager Go module); no controller runs, so no certificate is issued
(tests/engine/addons.py lists the stand-ins). What is proven: the issuer chain of the local stack
(a self-signed root, a CA Certificate, the CA issuer) is accepted by the API server against the
real CRD schemas, the MLflow Ingress names the issuer and the TLS Secret, a second preview is
empty, and destroy leaves no issuer, CRD or namespace behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from tests.engine import addons, controlplane
from tests.engine.platform_checks import assert_platform_removed, existing_cluster_stack
from tests.engine.toolchain import copy_project, workspace_options

pytestmark = pytest.mark.engine

CLUSTER_ISSUERS = "/apis/cert-manager.io/v1/clusterissuers"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _stack(plane: controlplane.ControlPlane, chart: Path) -> dict[str, Any]:
    stack = existing_cluster_stack(plane)
    stack["config"]["mlflow-platform:tls"] = {
        "issuer": "self-signed",
        "hsts": False,
        "chart": {"path": str(chart)},
    }
    return stack


def test_issuer_and_annotated_ingress_go_up_and_away(
    cluster: controlplane.ControlPlane, tmp_path: Path
):
    project = copy_project(tmp_path / "project")
    chart = addons.cert_manager_chart(tmp_path / "cert-manager-chart")
    (project / "stacks" / "Pulumi.tls.yaml").write_text(yaml.safe_dump(_stack(cluster, chart)))
    stack = auto.create_stack("tls", work_dir=str(project), opts=workspace_options(tmp_path))

    assert set(stack.preview().change_summary) == {"create"}
    assert stack.up().summary.result == "succeeded"
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
    assert_platform_removed(cluster, stack)
    # The CRDs go with the chart, and with them every issuer and certificate.
    crds = [c["metadata"]["name"] for c in cluster.api("GET", CRDS)["items"]]
    assert not [name for name in crds if name.endswith("cert-manager.io")]
    addons.wait_gone(cluster, "/api/v1/namespaces/cert-manager")
