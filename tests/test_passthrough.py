"""Telemetry off by default, and settings passed through without code changes (mocks)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from components.config import ConfigError, parse_config
from infra.config import project_config
from tests.harness import (
    STACKS,
    Capture,
    redacted,
    run_stack,
    secure,
    stack_config,
    with_overrides,
)


def _server(capture: Capture) -> dict[str, Any]:
    pod = capture.one("kubernetes:apps/v1:Deployment", "mlflow").inputs["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "mlflow")


def _settings(capture: Capture) -> dict[str, Any]:
    return cast(
        dict[str, Any], capture.one("kubernetes:core/v1:ConfigMap", "mlflow").inputs["data"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_telemetry_is_off_on_every_stack(stacks: dict[str, Capture], stack: str) -> None:
    assert _settings(stacks[stack])["MLFLOW_DISABLE_TELEMETRY"] == "true"


@pytest.mark.parametrize("stack", STACKS)
def test_job_consumers_are_off_on_every_stack(stacks: dict[str, Capture], stack: str) -> None:
    # On by default in MLflow 3.17: about seven consumer processes per pod, which took a pod
    # with our default 1536Mi limit to an OOM kill on a real kubelet.
    assert _settings(stacks[stack])["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"


def test_job_execution_can_be_turned_on_with_the_memory_it_needs() -> None:
    capture = run_stack(
        "dev",
        with_overrides(
            stack_config("dev"),
            mlflow__job_execution=True,
            mlflow__resources={"memory_limit": "3Gi"},
        ),
    )
    assert _settings(capture)["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "true"
    assert _server(capture)["resources"]["limits"]["memory"] == "3Gi"


def test_telemetry_can_be_allowed() -> None:
    capture = run_stack("dev", with_overrides(stack_config("dev"), mlflow__telemetry=True))
    assert _settings(capture)["MLFLOW_DISABLE_TELEMETRY"] == "false"


def test_extra_env_secret_env_and_args_reach_the_server() -> None:
    config = with_overrides(
        stack_config("dev"),
        mlflow__extra_env={"MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "10"},
        mlflow__extra_secret_env={"OPENAI_API_KEY": secure("sk-very-s3cret")},
        mlflow__extra_args=["--uvicorn-opts", "--timeout-keep-alive 120"],
    )
    capture = run_stack("dev", config)
    assert _settings(capture)["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"] == "10"
    server = _server(capture)
    assert server["args"][-2:] == ["--uvicorn-opts", "--timeout-keep-alive 120"]
    env = {e["name"]: e for e in server["env"]}
    ref = env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] == "OPENAI_API_KEY"
    secret = capture.one("kubernetes:core/v1:Secret", "mlflow")
    assert secret.inputs["stringData"]["OPENAI_API_KEY"] == "sk-very-s3cret"
    assert redacted(secret.raw_inputs)["stringData"] == "[secret]"
    for reg in capture.of_type("kubernetes:core/v1:ConfigMap"):
        assert "sk-very-s3cret" not in str(reg.inputs)
    for name, (value, _) in capture.outputs.items():
        assert "sk-very-s3cret" not in str(value), name


BAD = [
    (
        {"mlflow__extra_args": ["--workers=8"]},
        ["mlflow.extra_args = '--workers=8'", "mlflow.workers"],
    ),
    ({"mlflow__extra_args": ["--port", "8080"]}, ["mlflow.extra_args = '--port'", "port 5000"]),
    (
        {"mlflow__extra_args": ["--backend-store-uri", "sqlite://"]},
        ["'--backend-store-uri'", "database"],
    ),
    ({"mlflow__extra_args": ["--app-name", "x"]}, ["'--app-name'", "auth.mode"]),
    ({"mlflow__extra_env": {"HOME": "/root"}}, ["mlflow.extra_env.HOME", "the platform"]),
    ({"mlflow__extra_env": {"1BAD": "x"}}, ["mlflow.extra_env.1BAD", "environment variable name"]),
    (
        {"mlflow__extra_env": {"MLFLOW_DISABLE_TELEMETRY": "false"}},
        ["mlflow.extra_env.MLFLOW_DISABLE_TELEMETRY", "mlflow.telemetry"],
    ),
    (
        {"mlflow__extra_secret_env": {"MLFLOW_AUTH_CONFIG_PATH": "/x"}},
        ["mlflow.extra_secret_env.MLFLOW_AUTH_CONFIG_PATH", "the platform"],
    ),
    ({"mlflow__telemetry": "yes"}, ["mlflow.telemetry", "true or false"]),
    (
        {"mlflow__job_execution": True},
        ["mlflow.resources.memory_limit", "'1536Mi'", "job_execution", "3Gi or more"],
    ),
    (
        {"mlflow__extra_env": {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "true"}},
        ["mlflow.extra_env.MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "mlflow.job_execution"],
    ),
]


@pytest.mark.parametrize(("overrides", "fragments"), BAD, ids=[str(o) for o, _ in BAD])
def test_bad_passthrough_is_refused_and_registers_nothing(
    overrides: dict[str, Any], fragments: list[str]
) -> None:
    config = with_overrides(stack_config("dev"), **overrides)
    with pytest.raises(ConfigError) as refused:
        parse_config(project_config(config), stack="dev")
    assert any(all(f in line for f in fragments) for line in refused.value.problems), (
        refused.value.problems
    )
    capture = Capture()
    with pytest.raises(ConfigError):
        run_stack("dev", config, capture=capture)
    assert {r.type for r in capture.registrations} <= {"pulumi:pulumi:Stack"}


@pytest.mark.parametrize("stack", STACKS)
def test_a_daily_cronjob_collects_deleted_runs(stacks: dict[str, Capture], stack: str) -> None:
    capture = stacks[stack]
    cron = capture.one("kubernetes:batch/v1:CronJob").inputs
    assert cron["spec"]["schedule"] == "17 3 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    gc = next(c for c in pod["containers"] if c["name"] == "gc")
    assert gc["command"] == ["python"] and gc["args"][0] == "-c"
    assert "from mlflow.cli import gc" in gc["args"][1]
    assert gc["args"][2:] == ["--older-than", "30d"]
    # The database URI is its only secret; no MLflow login, no call to the server.
    env = {e["name"]: e for e in gc["env"]}
    assert list(env) == ["MLFLOW_BACKEND_STORE_URI"]
    assert "secretKeyRef" in env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]
    proxies = [c["name"] for c in pod.get("initContainers") or []]
    assert proxies == (["cloud-sql-proxy"] if stack in ("dev", "staging", "prod") else [])
    # The server's NetworkPolicy admits the ingress controller only; the collector admits none.
    policy = capture.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow").inputs
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": pod_labels(cron)}} not in peers and len(peers) == 1
    closed = capture.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow-gc").inputs
    assert closed["spec"] == {
        "podSelector": {"matchLabels": pod_labels(cron)},
        "policyTypes": ["Ingress"],
    }


def pod_labels(cron: dict[str, Any]) -> dict[str, str]:
    return cast(
        dict[str, str], cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    )


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"mlflow__gc_schedule": "daily"}, ["mlflow.gc_schedule", "'daily'", "five fields"]),
        ({"mlflow__gc_older_than": "30 days"}, ["mlflow.gc_older_than", "such as 30d"]),
    ],
)
def test_bad_gc_settings_are_refused(overrides: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(project_config(with_overrides(stack_config("local"), **overrides)))
    assert any(all(f in line for f in fragments) for line in refused.value.problems)
