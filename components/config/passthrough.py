"""What users may pass to the MLflow server without code changes, and what the platform owns."""

from __future__ import annotations

import re

from components.config.section import Problem

# `mlflow server` arguments the platform sets from its own keys: mlflow.extra_args may not.
OWNED_SERVER_ARGS = {
    "--host": "the platform (the Service, probes and NetworkPolicy use port 5000)",
    "--port": "the platform (the Service, probes and NetworkPolicy use port 5000)",
    "--backend-store-uri": "database",
    "--artifacts-destination": "artifacts",
    "--default-artifact-root": "artifacts",
    "--serve-artifacts": "artifacts (artifacts are always proxied)",
    "--no-serve-artifacts": "artifacts (artifacts are always proxied)",
    "--allowed-hosts": "mlflow.host and mlflow.allowed_hosts",
    "--workers": "mlflow.workers",
    "-w": "mlflow.workers",
    "--app-name": "auth.mode",
    "--expose-prometheus": "the platform (metrics: a sidecar serves the exporter's files)",
}
# Environment variables the platform sets: mlflow.extra_env and extra_secret_env may not.
OWNED_ENV = re.compile(
    r"^(TRACKING_.*|MLFLOW_AUTH_.*|MLFLOW_FLASK_SERVER_SECRET_KEY|HOME|MLFLOW_DISABLE_TELEMETRY"
    r"|MLFLOW_LOGGING_LEVEL|PROMETHEUS_MULTIPROC_DIR|prometheus_multiproc_dir"
    r"|MLFLOW_SERVER_ENABLE_JOB_EXECUTION|MLFLOW_SERVER_ALLOWED_HOSTS)$"
)
# The keys that own the variables the platform sets from the schema.
ENV_OWNERS = {
    "MLFLOW_DISABLE_TELEMETRY": "mlflow.telemetry",
    "MLFLOW_LOGGING_LEVEL": "mlflow.log_level",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "mlflow.job_execution",
    "MLFLOW_SERVER_ALLOWED_HOSTS": "mlflow.host and mlflow.allowed_hosts",
}
# What a pod needs with MLflow's job consumers running beside the server (see job_execution).
JOB_EXECUTION_MEMORY = "3Gi"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_problems(field: str, names: list[str]) -> list[Problem]:
    problems = []
    for name in names:
        if not ENV_NAME.match(name):
            problems.append(
                Problem(
                    f"{field}.{name}",
                    name,
                    "allowed: an environment variable name "
                    "(letters, digits and underscores, not starting with a digit)",
                )
            )
        elif OWNED_ENV.match(name):
            owner = ENV_OWNERS.get(name, "the platform")
            problems.append(
                Problem(f"{field}.{name}", name, f"is set by {owner}; allowed: another name")
            )
    return problems
