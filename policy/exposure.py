"""Stack-wide guardrails of exposure: MLflow behind a login, and behind https.

A login is either MLflow's basic-auth app (the server's args) or a sign-in the ingress asks
before every request (the MLflow Ingress's auth-url), so these checks read the whole stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
EXPOSURE_TYPES = frozenset({DEPLOYMENT, INGRESS})

Props = Mapping[str, Any]
Resources = Sequence[tuple[str, Props]]  # (type, inputs)


def _is_mlflow(props: Props) -> bool:
    labels = (props.get("metadata") or {}).get("labels") or {}
    return bool(labels.get("app.kubernetes.io/name") == "mlflow")


def _mlflow(resources: Resources, resource_type: str) -> list[Props]:
    return [p for t, p in resources if t == resource_type and _is_mlflow(p)]


def _serves_basic_auth(deployment: Props) -> bool:
    pod = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        args = list(container.get("args") or [])
        if "--app-name" in args and args[args.index("--app-name") + 1 :][:1] == ["basic-auth"]:
            return True
    return False


def _asks_a_sign_in(ingress: Props) -> bool:
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    # An empty auth-url asks nothing: nginx then skips the sign-in.
    return bool(str(annotations.get("nginx.ingress.kubernetes.io/auth-url") or "").strip())


def mlflow_has_a_login(resources: Resources) -> list[str]:
    deployments = _mlflow(resources, DEPLOYMENT)
    ingresses = _mlflow(resources, INGRESS)
    if not deployments:
        return []
    if any(map(_serves_basic_auth, deployments)) or any(map(_asks_a_sign_in, ingresses)):
        return []
    return [
        "MLflow is served without a login: run the server with --app-name basic-auth or put "
        "a sign-in (nginx auth-url) in front of its Ingress"
    ]


def mlflow_is_served_over_https(resources: Resources) -> list[str]:
    return [
        f"MLflow's Ingress {(ingress.get('metadata') or {}).get('name')!r} has no TLS: "
        "credentials and data would cross the network in clear text"
        for ingress in _mlflow(resources, INGRESS)
        if not any(tls.get("secretName") for tls in (ingress.get("spec") or {}).get("tls") or [])
    ]
