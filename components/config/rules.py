"""Rules that span blocks; each problem line names the key, the value and what is allowed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from components.config.conflicts import gcp_auth_problems, node_port_problems
from components.config.derived import derived_name_problems, namespace_problems
from components.config.exposure_rules import exposure_problems, prod_exposure_problems
from components.config.infrastructure import GkeClusterConfig
from components.config.monitoring import metrics_problems
from components.config.platform import PlatformConfig
from components.config.section import key
from components.config.stores import CloudSqlConfig, GcsArtifactsConfig
from components.config.uploads import (
    AUTOPILOT_POD_EPHEMERAL_MAX,
    NODE_DISK_SHARE,
    GiB,
    MiB,
    UploadScratch,
    largest_body_on_autopilot,
)

# Stacks that get prod's rules whatever their `environment` says (the policy pack agrees).
PROD_STACKS = re.compile(r"^prod(uction)?([-_].*)?$")


@dataclass(frozen=True)
class Stack:
    """The validated config and the name of the stack it is for."""

    cfg: PlatformConfig
    name: str

    @property
    def is_prod(self) -> bool:
        return self.cfg.environment == "prod" or bool(PROD_STACKS.match(self.name))

    @property
    def prod_label(self) -> str:
        """How a prod rule names why it applies."""
        if self.cfg.environment == "prod":
            return "in prod"
        return f"in prod (stack {self.name!r} is a prod stack whatever its environment says)"


Rule = Callable[[Stack], list[str]]


def _gcp_block_present(stack: Stack) -> list[str]:
    cfg = stack.cfg
    if not cfg.uses_gcp or cfg.gcp is not None:
        return []
    return [
        f"{key('gcp')} is missing: required when cluster.kind={cfg.cluster.kind!r}, "
        f"database.kind={cfg.database.kind!r}, artifacts.kind={cfg.artifacts.kind!r} "
        "use GCP; allowed: a gcp block with project and region"
    ]


def _gke_has_network(stack: Stack) -> list[str]:
    if stack.cfg.cluster.kind == "gke" and stack.cfg.network is None:
        return [f"{key('network')} is missing: GKE needs a VPC; allowed: a network block"]
    return []


def _private_database_is_reachable(stack: Stack) -> list[str]:
    cfg = stack.cfg
    db = cfg.database
    if not (isinstance(db, CloudSqlConfig) and db.private_ip):
        return []
    problems = []
    if cfg.network is None:
        problems.append(
            f"{key('database.private_ip')} = True needs a VPC but {key('network')} is not "
            "set; allowed: add a network block or private_ip=false with authorized_networks"
        )
    if cfg.cluster.kind != "gke":
        problems.append(
            f"{key('database.private_ip')} = True is unreachable from "
            f"cluster.kind={cfg.cluster.kind!r}; allowed: private_ip with cluster.kind='gke'"
        )
    return problems


def _volume_serves_one_pod(stack: Stack) -> list[str]:
    cfg = stack.cfg
    art = cfg.artifacts
    if art.kind == "volume" and art.access_mode == "ReadWriteOnce" and cfg.mlflow.replicas > 1:
        return [
            f"{key('mlflow.replicas')} = {cfg.mlflow.replicas}: a ReadWriteOnce artifact volume "
            "serves one pod; allowed: 1 with artifacts.kind='volume', "
            "artifacts.access_mode='ReadWriteMany', or artifacts.kind='gcs'"
        ]
    return []


def _node_port_needs_a_node_port_service(stack: Stack) -> list[str]:
    cfg = stack.cfg
    if cfg.ingress.was_set("http_node_port") and cfg.ingress_service_type != "NodePort":
        return [
            f"{key('ingress.http_node_port')} = {cfg.ingress.http_node_port}: is used only when "
            f"the controller's Service is a NodePort, and here it is a "
            f"{cfg.ingress_service_type}; allowed: leave it out, or ingress.service_type NodePort"
        ]
    return []


def _uploads_fit_the_nodes(stack: Stack) -> list[str]:
    """/tmp holds the largest upload; on GKE the pod's ephemeral storage must fit the node."""
    cfg = stack.cfg
    if not isinstance(cfg.cluster, GkeClusterConfig):
        return []
    with_proxy = isinstance(cfg.database, CloudSqlConfig) and cfg.database.private_ip
    needed = UploadScratch.for_body_size(cfg.ingress.proxy_body_size).pod(with_proxy)
    size = cfg.ingress.proxy_body_size
    if cfg.cluster.mode == "autopilot" and needed > AUTOPILOT_POD_EPHEMERAL_MAX:
        return [
            f"{key('ingress.proxy_body_size')} = {size!r}: MLflow spools an upload in /tmp, and "
            f"the pod would need {needed // MiB} MiB of ephemeral storage, above GKE "
            "Autopilot's 10 GiB per pod; allowed: at most "
            f"{largest_body_on_autopilot(with_proxy)} on Autopilot (or mode 'standard')"
        ]
    disk_gb = cfg.cluster.node_pool.disk_size_gb
    if cfg.cluster.mode == "standard" and needed > disk_gb * GiB * NODE_DISK_SHARE:
        wanted = -(-needed // int(GiB * NODE_DISK_SHARE))
        return [
            f"{key('cluster.node_pool.disk_size_gb')} = {disk_gb}: the MLflow pod needs "
            f"{needed // MiB} MiB of ephemeral storage for {key('ingress.proxy_body_size')} "
            f"{size!r}, more than half the node's disk; allowed: {wanted} or more, or a "
            "smaller proxy_body_size"
        ]
    return []


def _control_plane_range_is_free(stack: Stack) -> list[str]:
    cfg = stack.cfg
    cluster, network = cfg.cluster, cfg.network
    if not (isinstance(cluster, GkeClusterConfig) and cluster.private_nodes and network):
        return []
    master = cluster.master_ipv4_cidr
    return [
        f"{key('cluster.master_ipv4_cidr')} = {master!r}: overlaps network.{name} {block}; "
        "allowed: a /28 outside the subnet, pods and services ranges"
        for name, block in network.ranges().items()
        if block.overlaps(ipaddress.IPv4Network(master))
    ]


# --- prod keeps its data: HA, private, protected, backed up. Each rule is a separate line. ---

Required = list[tuple[str, Any, Any]]  # (path, value, the value prod needs)


def _prod_required(cfg: PlatformConfig, where: str) -> tuple[list[str], Required]:
    """A line for each wrong kind, and the settings prod needs of the right kinds."""
    kinds, required = [], []
    db, art, cluster = cfg.database, cfg.artifacts, cfg.cluster
    if isinstance(db, CloudSqlConfig):
        required += [
            ("database.deletion_protection", db.deletion_protection, True),
            ("database.private_ip", db.private_ip, True),
            ("database.availability_type", db.availability_type, "REGIONAL"),
            ("database.backups.enabled", db.backups.enabled, True),
            ("database.backups.point_in_time_recovery", db.backups.point_in_time_recovery, True),
        ]
    else:
        kinds.append(f"{key('database.kind')} = {db.kind!r} {where}; allowed: 'cloudsql'")
    if isinstance(art, GcsArtifactsConfig):
        required += [("artifacts.protect", art.protect, True)]
        required += [("artifacts.force_destroy", art.force_destroy, False)]
    else:
        kinds.append(f"{key('artifacts.kind')} = {art.kind!r} {where}; allowed: 'gcs'")
    if isinstance(cluster, GkeClusterConfig):
        required.append(("cluster.deletion_protection", cluster.deletion_protection, True))
    return kinds, required


def _prod_is_safe(stack: Stack) -> list[str]:
    if not stack.is_prod:
        return []
    cfg, where = stack.cfg, stack.prod_label
    problems = []
    if cfg.mlflow.replicas < 2:
        problems.append(
            f"{key('mlflow.replicas')} = {cfg.mlflow.replicas} {where}; allowed: 2 or more (HA)"
        )
    kinds, required = _prod_required(cfg, where)
    problems += kinds + prod_exposure_problems(cfg, where)
    problems += [
        f"{key(path)} = {value!r} {where}; allowed: {wanted!r}"
        for path, value, wanted in required
        if value != wanted
    ]
    return problems


CROSS_SECTION_RULES: tuple[Rule, ...] = (
    _gcp_block_present,
    _gke_has_network,
    _private_database_is_reachable,
    _volume_serves_one_pod,
    _control_plane_range_is_free,
    _node_port_needs_a_node_port_service,
    _uploads_fit_the_nodes,
    lambda stack: namespace_problems(stack.cfg),
    lambda stack: derived_name_problems(stack.cfg, stack.name),
    lambda stack: exposure_problems(stack.cfg),
    lambda stack: node_port_problems(stack.cfg),
    lambda stack: gcp_auth_problems(stack.cfg),
    lambda stack: metrics_problems(stack.cfg.metrics, stack.cfg.cluster.kind),
    _prod_is_safe,
)


def cross_section_problems(cfg: PlatformConfig, stack: str) -> list[str]:
    context = Stack(cfg, stack)
    return [problem for rule in CROSS_SECTION_RULES for problem in rule(context)]
