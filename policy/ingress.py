"""What the ingress controllers are told: the Ingress annotations and the Helm release values
(ingress-nginx's `nginx.ingress.kubernetes.io/` and F5 NGINX's `nginx.org/`), and what reaches
the MLflow server that would switch its own protections off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Props = Mapping[str, Any]
Resources = Sequence[tuple[str, Props]]

NGINX = "nginx.ingress.kubernetes.io"
F5 = "nginx.org"
# Raw NGINX configuration from whoever may write an Ingress: ingress-nginx's snippets (the
# road to IngressNightmare) and F5's.
SNIPPET_ANNOTATIONS = (
    f"{NGINX}/configuration-snippet",
    f"{NGINX}/server-snippet",
    f"{NGINX}/auth-snippet",
    f"{NGINX}/stream-snippet",
    f"{F5}/server-snippets",
    f"{F5}/location-snippets",
)
# Plain http kept, per controller's annotation.
HTTPS_REDIRECTS = (
    f"{NGINX}/ssl-redirect",
    f"{NGINX}/force-ssl-redirect",
    f"{F5}/redirect-to-https",
    "ingress.kubernetes.io/ssl-redirect",
)


def _annotations(props: Props) -> Mapping[str, Any]:
    return (props.get("metadata") or {}).get("annotations") or {}


def _false(value: Any) -> bool:
    return str(value).strip().lower() == "false"


def ingress_has_no_login_bypass(props: Props, protected: bool) -> list[str]:
    annotations = _annotations(props)
    problems = [
        f"annotation {key} injects raw NGINX configuration"
        for key in SNIPPET_ANNOTATIONS
        if key in annotations
    ]
    for key in (f"{NGINX}/auth-url",):
        if key in annotations and not str(annotations[key]).strip():
            problems.append(f"annotation {key} is empty: the sign-in is skipped")
    return problems


def ingress_keeps_https(props: Props, protected: bool) -> list[str]:
    annotations = _annotations(props)
    return [
        f"annotation {key}: {annotations[key]!r} serves plain http"
        for key in HTTPS_REDIRECTS
        if key in annotations and _false(annotations[key])
    ]


def _controller(props: Props) -> Mapping[str, Any]:
    values = props.get("values") or {}
    controller = values.get("controller") if isinstance(values, Mapping) else None
    return controller if isinstance(controller, Mapping) else {}


def _config(controller: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The controller's NGINX settings, and whether they are F5's (`config.entries`)."""
    config = controller.get("config") or {}
    entries = config.get("entries") if isinstance(config, Mapping) else None
    if isinstance(entries, Mapping):
        return entries, True
    return (config if isinstance(config, Mapping) else {}), False


def controller_values_are_safe(props: Props, protected: bool) -> list[str]:
    controller = _controller(props)
    config, _ = _config(controller)
    problems = []
    if (
        controller.get("allowSnippetAnnotations") is True
        or controller.get("enableSnippets") is True
    ):
        problems.append("the ingress controller accepts configuration snippets from Ingresses")
    if str(config.get("allow-snippet-annotations", "")).lower() == "true":
        problems.append("the ingress controller accepts configuration snippets from Ingresses")
    if str(config.get("annotations-risk-level", "")).lower() == "critical":
        problems.append("annotations-risk-level Critical admits the riskiest annotations")
    return problems


def controller_sends_hsts(props: Props, protected: bool) -> list[str]:
    """ingress-nginx sends HSTS unless told not to; F5's controller only when told to."""
    controller = _controller(props)
    if not controller:
        return []
    config, f5 = _config(controller)
    default = "false" if f5 else "true"
    if str(config.get("hsts", default)).lower() != "true":
        return ["the ingress controller sends no Strict-Transport-Security (hsts)"]
    return []


def _mlflow_pod(props: Props) -> Mapping[str, Any]:
    labels = (props.get("metadata") or {}).get("labels") or {}
    if labels.get("app.kubernetes.io/name") != "mlflow":
        return {}
    return ((props.get("spec") or {}).get("template") or {}).get("spec") or {}


def _settings(resources: Resources) -> dict[str, str]:
    """Every ConfigMap's data, as the server's envFrom reads them."""
    found: dict[str, str] = {}
    for kind, props in resources:
        if kind == "kubernetes:core/v1:ConfigMap":
            found.update({str(k): str(v) for k, v in (props.get("data") or {}).items()})
    return found


def _server_problems(container: Mapping[str, Any], settings: dict[str, str]) -> list[str]:
    args = [str(a) for a in container.get("args") or []]
    env = {**settings, **{e["name"]: str(e.get("value", "")) for e in container.get("env") or []}}
    problems = []
    if (
        "--disable-security-middleware" in args
        or env.get("MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE", "").lower() == "true"
    ):
        problems.append("MLflow runs with --disable-security-middleware (no host or CORS checks)")
    hosts = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--allowed-hosts"]
    hosts += [env.get("MLFLOW_SERVER_ALLOWED_HOSTS", "")]
    for value in hosts:
        if value.startswith("$(") and value.endswith(")"):
            value = env.get(value[2:-1], "")
        if "*" in [h.strip() for h in value.split(",")]:
            problems.append("MLflow allows every Host header (allowed hosts '*')")
    return problems


def mlflow_keeps_its_protections(resources: Resources) -> list[str]:
    settings = _settings(resources)
    problems: list[str] = []
    for kind, props in resources:
        if kind != "kubernetes:apps/v1:Deployment":
            continue
        for container in _mlflow_pod(props).get("containers") or []:
            problems += _server_problems(container, settings)
    return problems
