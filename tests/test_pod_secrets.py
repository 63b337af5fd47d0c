"""No secret on a command line, and each container holds only the secrets it uses.

Over every workload the stacks render (the four stacks, OIDC sign-in, the user's own secrets):
no variable read from a Secret is expanded into `command` or `args` (the kubelet would put its
value in the process's argv, visible in /proc/<pid>/cmdline and `ps`), no argument carries a
URI with a password, and each MLflow container's secret variables are exactly its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.harness import STACKS, Capture, run_stack, secure, stack_config, with_overrides
from tests.test_exposure import OIDC

WORKLOAD_TYPES = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
)
URI_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")

BACKEND = "MLFLOW_BACKEND_STORE_URI"
ADMIN_PASSWORD = "MLFLOW_AUTH_ADMIN_PASSWORD"
CSRF_KEY = "MLFLOW_FLASK_SERVER_SECRET_KEY"
# Each MLflow container's secret variables, and nothing more.
OWN_SECRETS = {
    "mlflow": {BACKEND, CSRF_KEY},
    "auth-admin": {ADMIN_PASSWORD},
    "db-migrate": {BACKEND},
    "auth-db-migrate": set(),
    "gc": {BACKEND},
}


def _pod(props: dict[str, Any]) -> dict[str, Any]:
    spec = props["spec"]
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"]["spec"]
    return dict(spec["template"]["spec"])


def containers(capture: Capture) -> Iterator[tuple[str, dict[str, Any]]]:
    """(workload name, container) for every container of every rendered workload."""
    for workload_type in WORKLOAD_TYPES:
        for reg in capture.of_type(workload_type):
            pod = _pod(reg.inputs)
            for container in [*pod.get("initContainers", []), *pod["containers"]]:
                yield reg.name, container


def secret_variables(container: dict[str, Any]) -> set[str]:
    return {e["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}


def _argv(container: dict[str, Any]) -> list[str]:
    return [str(a) for a in [*container.get("command", []), *container.get("args", [])]]


# name -> (stack, overrides)
RENDERED: dict[str, tuple[str, dict[str, Any]]] = {
    **{stack: (stack, {}) for stack in STACKS},
    "prod-oidc": ("prod", {"auth": OIDC}),
    "dev-extra-secret": (
        "dev",
        {"mlflow__extra_secret_env": {"OPENAI_API_KEY": secure("sk-s3cret")}},
    ),
}


@pytest.fixture(scope="module", params=sorted(RENDERED))
def rendered(request: pytest.FixtureRequest, stacks: dict[str, Capture]) -> Capture:
    stack, overrides = RENDERED[request.param]
    if not overrides:
        return stacks[stack]
    return run_stack(stack, with_overrides(stack_config(stack), **overrides))


def test_no_secret_reaches_a_command_line(rendered: Capture) -> None:
    seen = 0
    for workload, container in containers(rendered):
        argv = _argv(container)
        for name in secret_variables(container):
            expanded = [a for a in argv if f"$({name})" in a]
            assert not expanded, (workload, container["name"], name, expanded)
        assert not [a for a in argv if URI_WITH_PASSWORD.search(a)], (workload, container["name"])
        seen += 1
    assert seen >= 4


def test_each_mlflow_container_holds_only_its_own_secrets(rendered: Capture) -> None:
    found = {
        c["name"]: secret_variables(c)
        for workload, c in containers(rendered)
        if c["name"] in OWN_SECRETS
    }
    extra = {"OPENAI_API_KEY"} if "OPENAI_API_KEY" in str(rendered.registrations) else set()
    basic_auth = "auth-admin" in found
    assert set(found) >= {"mlflow", "db-migrate", "gc"}
    for name, variables in found.items():
        expected = OWN_SECRETS[name] | (extra if name == "mlflow" else set())
        if name == "mlflow" and not basic_auth:
            expected -= {CSRF_KEY}
        assert variables == expected, (name, variables)


def test_the_server_reads_the_database_uri_from_mlflows_own_variable(
    stacks: dict[str, Capture],
) -> None:
    from mlflow.cli import server

    option = next(p for p in server.params if p.name == "backend_store_uri")
    assert option.envvar == BACKEND  # what `mlflow server` reads when no flag is given
    for _, container in containers(stacks["prod"]):
        assert "--backend-store-uri" not in _argv(container), container["name"]


def test_the_collector_reaches_the_artifacts_where_the_server_keeps_them(
    stacks: dict[str, Capture],
) -> None:
    """Volume (local): the same claim at the same path, on the server's node (ReadWriteOnce).
    Bucket (dev): nothing mounted; the server's service account reaches it."""
    local = stacks["local"]
    server = local.one("kubernetes:apps/v1:Deployment", "mlflow").inputs
    gc_pod = _pod(local.one("kubernetes:batch/v1:CronJob").inputs)
    claim = next(v for v in _pod(server)["volumes"] if v["name"] == "artifacts")
    assert claim in gc_pod["volumes"]
    (gc,) = gc_pod["containers"]
    assert {"name": "artifacts", "mountPath": "/mlartifacts"} in gc["volumeMounts"]
    (term,) = gc_pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == server["spec"]["selector"]["matchLabels"]
    assert gc_pod["serviceAccountName"] == _pod(server)["serviceAccountName"]
    dev_gc = _pod(stacks["dev"].one("kubernetes:batch/v1:CronJob").inputs)
    assert "affinity" not in dev_gc
    assert {v["name"] for v in dev_gc["volumes"]} == {"tmp"}
