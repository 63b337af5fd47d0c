"""The names and labels the platform derives from the config and the stack name, in one place:
the components use them, and the schema checks them against GCP's and Kubernetes' rules before
anything is created."""

from __future__ import annotations

from components.config import names
from components.config.infrastructure import GkeClusterConfig, MinikubeClusterConfig
from components.config.platform import PlatformConfig
from components.config.section import key
from components.config.stores import CloudSqlConfig, GcsArtifactsConfig, InClusterPostgresConfig

GKE_CLUSTER_NAME_MAX = 40
SERVICE_ACCOUNT_ID = (6, 30)
# Cloud SQL: `project:instance` may be 98 characters; Pulumi adds "-" and 7 characters.
SQL_CONNECTION_MAX = 98
PULUMI_SUFFIX = 8


def stacked(prefix: str, stack: str) -> str:
    return f"{prefix}-{stack}"


def network_name(cfg: PlatformConfig, stack: str) -> str | None:
    n = cfg.network
    if n is None:
        return None
    return stacked(n.name, stack) if n.create else n.name


def gke_cluster_name(cfg: PlatformConfig, stack: str) -> str | None:
    return stacked(cfg.cluster.name, stack) if isinstance(cfg.cluster, GkeClusterConfig) else None


def service_account_id(prefix: str) -> str:
    """Google service account ids are at most 30 characters: longer prefixes are cut."""
    return prefix[: SERVICE_ACCOUNT_ID[1]]


def identity_account_id(stack: str) -> str:
    return service_account_id(f"mlflow-{stack}")


def node_account_id(cluster_name: str) -> str:
    return service_account_id(f"{cluster_name}-nodes")


def sql_instance_prefix(cfg: PlatformConfig, stack: str) -> str | None:
    db = cfg.database
    return stacked(db.instance_name, stack) if isinstance(db, CloudSqlConfig) else None


def bucket_name(cfg: PlatformConfig, stack: str) -> str | None:
    art = cfg.artifacts
    if not isinstance(art, GcsArtifactsConfig) or cfg.gcp is None:
        return None
    return art.bucket_name or f"{cfg.gcp.project}-mlflow-{stack}"


def ingress_address_name(cfg: PlatformConfig, stack: str) -> str:
    """The reserved IP's name (GCE rules: as a network name)."""
    return stacked("mlflow-ingress", stack)


def sso_namespace(cfg: PlatformConfig) -> str:
    """oauth2-proxy's namespace (auth.mode oidc)."""
    return f"{cfg.mlflow.namespace}-sso"


def uses_gcp_auth(cfg: PlatformConfig) -> bool:
    """minikube's gcp-auth addon: its pods reach GCP as the stack's laptop service account."""
    cluster = cfg.cluster
    return isinstance(cluster, MinikubeClusterConfig) and "gcp-auth" in cluster.addons


def served_namespaces(cfg: PlatformConfig) -> list[str]:
    """The namespaces holding Ingresses the controller serves: MLflow's, and the sign-in's."""
    oidc = cfg.auth.enabled and cfg.auth.mode == "oidc"
    return [cfg.mlflow.namespace, *([sso_namespace(cfg)] if oidc else [])]


def database_namespace(cfg: PlatformConfig) -> str:
    return f"{cfg.mlflow.namespace}-db"


def gcp_labels(cfg: PlatformConfig) -> dict[str, str]:
    """Labels on every GCP resource: ours, then the stack's."""
    own = cfg.gcp.labels if cfg.gcp else {}
    return {"app": "mlflow", "environment": cfg.environment, **own}


def _from_stack(problem: str | None, setting: str, stack: str) -> list[str]:
    if problem is None:
        return []
    return [f"{key(setting)} with stack {stack!r}: {problem}"]


def _service_account_problems(account_id: str, setting: str, stack: str) -> list[str]:
    low, _ = SERVICE_ACCOUNT_ID
    problem = names.lower_name(account_id, "service account id", SERVICE_ACCOUNT_ID[1])
    if problem is None and len(account_id) < low:
        problem = f"service account id {account_id!r} is shorter than {low} characters"
    return _from_stack(problem, setting, stack)


def derived_name_problems(cfg: PlatformConfig, stack: str) -> list[str]:
    """Every GCP name the stack would create, checked before any of them is asked for."""
    problems = []
    if (network := network_name(cfg, stack)) is not None:
        problems += _from_stack(
            names.lower_name(network, "network name", 63), "network.name", stack
        )
    if (cluster := gke_cluster_name(cfg, stack)) is not None:
        address = ingress_address_name(cfg, stack)
        problems += _from_stack(names.lower_name(address, "address name", 63), "ingress", stack)
        problem = names.lower_name(cluster, "GKE cluster name", GKE_CLUSTER_NAME_MAX)
        problems += _from_stack(problem, "cluster.name", stack)
        if isinstance(cfg.cluster, GkeClusterConfig) and cfg.cluster.mode == "standard":
            problems += _service_account_problems(node_account_id(cluster), "cluster.name", stack)
        problems += _service_account_problems(identity_account_id(stack), "cluster", stack)
    if uses_gcp_auth(cfg):
        problems += _service_account_problems(identity_account_id(stack), "cluster", stack)
    if (instance := sql_instance_prefix(cfg, stack)) is not None and cfg.gcp is not None:
        room = SQL_CONNECTION_MAX - len(cfg.gcp.project) - 1 - PULUMI_SUFFIX
        problem = names.lower_name(instance, "Cloud SQL instance name prefix", room)
        problems += _from_stack(problem, "database.instance_name", stack)
    if (bucket := bucket_name(cfg, stack)) is not None:
        problems += _from_stack(names.bucket_name(bucket), "artifacts.bucket_name", stack)
    problems += [
        f"{key('gcp.labels')} = {cfg.gcp.labels!r}: {problem}"
        for label, value in gcp_labels(cfg).items()
        if cfg.gcp is not None and (problem := names.label(label, value))
    ]
    return problems


def namespace_problems(cfg: PlatformConfig) -> list[str]:
    """Our namespaces: not the system's, distinct, and DNS labels with every suffix added."""
    m, i = cfg.mlflow.namespace, cfg.ingress.namespace
    # (the key that sets it, that key's value, the namespace, whose it is)
    ours = [("mlflow.namespace", m, m, "mlflow.namespace")]
    if isinstance(cfg.database, InClusterPostgresConfig):
        ours.append(("mlflow.namespace", m, database_namespace(cfg), "the MLflow database"))
    if cfg.auth.enabled and cfg.auth.mode == "oidc":
        ours.append(("mlflow.namespace", m, sso_namespace(cfg), "the sign-in proxy"))
    if cfg.ingress.enabled:
        ours.append(("ingress.namespace", i, i, "ingress.namespace"))
    if cfg.tls.issuer != "none":
        cert = cfg.tls.cert_manager_namespace
        ours.append(("tls.cert_manager_namespace", cert, cert, "tls.cert_manager_namespace"))
    problems = [
        f"{key(setting)} = {value!r}: {problem}"
        for setting, value, namespace, _ in ours
        if (problem := names.system_namespace(namespace))
        or (problem := names.kubernetes_name(namespace, "namespace"))
    ]
    seen: dict[str, str] = {}
    for setting, value, namespace, owner in ours:
        if namespace in seen:
            problems.append(
                f"{key(setting)} = {value!r}: namespace {namespace!r} is already the namespace "
                f"of {seen[namespace]}; allowed: a namespace of its own"
            )
        seen.setdefault(namespace, owner)
    return problems
