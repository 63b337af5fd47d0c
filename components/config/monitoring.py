"""Who scrapes the platform's Prometheus metrics: Google Managed Prometheus, the Prometheus
Operator, or a Prometheus of your own in `prometheus_namespace`."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from components.config.section import Problem, Section, key
from components.config.values import Count, DnsLabel, Flag

# What MLFLOW_LOGGING_LEVEL takes in MLflow 3.17.2: a `logging` level name, which MLflow
# upper-cases before it sets it on its loggers.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# Kubernetes label syntax: an optional DNS-subdomain prefix and a name of up to 63 characters.
_LABEL_NAME = r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)"
LABEL_KEY = re.compile(rf"([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}")
LABEL_VALUE = re.compile(rf"{_LABEL_NAME}?")


def _log_level(value: Any) -> str:
    if isinstance(value, str) and value.upper() in LOG_LEVELS:
        return value.upper()
    raise ValueError(f"allowed: {', '.join(LOG_LEVELS)} (in any case)")


LogLevel = Annotated[str, BeforeValidator(_log_level)]


class MetricsConfig(Section):
    pod_monitoring: Flag | None = Field(
        None,
        description="Google Managed Prometheus PodMonitoring objects (default: on GKE stacks).",
    )
    service_monitor: Flag = Field(
        False,
        description="Prometheus Operator ServiceMonitor objects (the operator must be installed).",
    )
    service_monitor_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels your Prometheus selects ServiceMonitors by (e.g. release).",
    )
    prometheus_namespace: DnsLabel = Field(
        "monitoring",
        description="Where your Prometheus runs; the NetworkPolicy admits its scrapes.",
    )
    scrape_interval_seconds: Count = Field(
        30, ge=10, le=600, description="How often every scraper reads the metrics."
    )

    def problems(self) -> list[Problem]:
        return [
            Problem(
                f"service_monitor_labels.{name}",
                value,
                "allowed: a Kubernetes label: a key of letters, digits, '-', '_' and '.' (up to "
                "63, optionally after a DNS prefix and '/'), a value of up to 63 of the same",
            )
            for name, value in self.service_monitor_labels.items()
            if not (LABEL_KEY.fullmatch(name) and LABEL_VALUE.fullmatch(value))
        ]


def pod_monitoring_enabled(metrics: MetricsConfig, cluster_kind: str) -> bool:
    """PodMonitoring objects need Google Managed Prometheus: on by default on GKE only."""
    if metrics.pod_monitoring is not None:
        return metrics.pod_monitoring
    return cluster_kind == "gke"


def metrics_problems(metrics: MetricsConfig, cluster_kind: str) -> list[str]:
    """PodMonitoring is GKE's (or an existing cluster's with GMP): minikube has no such CRD."""
    if metrics.pod_monitoring and cluster_kind == "minikube":
        return [
            f"{key('metrics.pod_monitoring')} = True: PodMonitoring needs Google Managed "
            "Prometheus, which minikube does not run; allowed: false (or leave it out), or "
            "metrics.service_monitor with the Prometheus Operator installed"
        ]
    return []
