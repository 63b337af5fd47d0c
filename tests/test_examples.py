"""examples/: programs that use the components as a library, checked without an engine (the
engine deploys them in tests/engine/test_engine_example.py)."""

from __future__ import annotations

import ast
import runpy
import sys
from pathlib import Path
from typing import Protocol

import pytest

from tests.examples import EXISTING_CLUSTER, promised_outputs
from tests.harness import MOCK_KUBECONFIG_PATH, PROJECT, Capture, run_under_mocks

PROGRAM = EXISTING_CLUSTER / "__main__.py"
# What composes the platform from its stack schema: an example composes the components itself.
PLATFORM_MODULES = ("infra", "components.config")


def _imports(tree: ast.Module) -> list[tuple[int, str, list[str]]]:
    """(index among the module's statements, module, names) of each top-level import."""
    found = []
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom):
            found.append((index, node.module or "", [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((index, a.name, []) for a in node.names)
    return found


def test_the_example_imports_public_components_only_in_one_block() -> None:
    tree = ast.parse(PROGRAM.read_text())
    imports = _imports(tree)
    every = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(n in tree.body for n in every), "every import at the module's top level"
    ours = [(i, m, names) for i, m, names in imports if m.split(".")[0] in ("components", "infra")]
    assert ours, "the example uses the components"
    for _, module, names in ours:
        assert not module.startswith(PLATFORM_MODULES), module
        assert all(not name.startswith("_") for name in names), (module, names)
    # One block, so the lead's move of the modules rewrites one place.
    positions = [i for i, _, _ in ours]
    assert positions == list(range(positions[0], positions[0] + len(positions))), positions


class RunExample(Protocol):
    """The example fixture: runs the program with the given config keys (without the project)."""

    def __call__(self, **config: str) -> Capture: ...


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> RunExample:
    """Runs the example's program under mocks, the way `pulumi up` starts it."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # the program puts the checkout first

    def run(**config: str) -> Capture:
        stack = {f"{PROJECT}:{key}": value for key, value in config.items()}
        return run_under_mocks(lambda: runpy.run_path(str(PROGRAM), run_name="__main__"), stack)

    return run


def test_the_example_composes_the_four_components_and_no_platform(example: RunExample) -> None:
    cap = example(context="ctx", kubeconfig=str(MOCK_KUBECONFIG_PATH), namespace="tracking")
    components = {t.rsplit(":", 1)[1] for t in cap.types if t.startswith("mlflow-platform:")}
    assert components == {
        "ExistingCluster",
        "InClusterPostgres",
        "IngressController",
        "MlflowServer",
        "VolumeArtifactStore",
    }
    provider = cap.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "ctx"
    kubernetes = [r for r in cap.registrations if r.type.startswith("kubernetes:")]
    assert all(r.provider.startswith(provider.urn) for r in kubernetes), "all on the given cluster"
    namespaces = {r.inputs["metadata"]["name"] for r in cap.of_type("kubernetes:core/v1:Namespace")}
    assert namespaces == {"tracking", "tracking-db", "ingress-nginx"}


def test_the_example_wires_the_namespaces_and_the_login_database(example: RunExample) -> None:
    cap = example(context="ctx", kubeconfig=str(MOCK_KUBECONFIG_PATH), namespace="tracking")
    policies = {
        r.name: r.inputs["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
        for r in cap.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name in ("mlflow", "mlflow-postgres")
    }
    allowed = {name: labels["kubernetes.io/metadata.name"] for name, labels in policies.items()}
    assert allowed == {"mlflow": "ingress-nginx", "mlflow-postgres": "tracking"}
    values = cap.one("kubernetes:helm.sh/v3:Release").inputs["values"]["controller"]
    assert values["scope"] == {"enabled": True, "namespace": "tracking"}
    assert values["service"]["type"] == "NodePort"
    postgres = cap.one("kubernetes:apps/v1:StatefulSet", "mlflow-postgres").inputs
    env = {
        e["name"]: e.get("value")
        for e in postgres["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["EXTRA_DATABASES"] == "mlflow_auth"


def test_the_example_exports_what_its_readme_promises(example: RunExample) -> None:
    cap = example(context="ctx", kubeconfig=str(MOCK_KUBECONFIG_PATH), host="mlflow.test")
    assert list(cap.outputs) == promised_outputs(EXISTING_CLUSTER)
    values = {name: value for name, (value, _) in cap.outputs.items()}
    assert values["namespace"] == "mlflow"
    assert values["url"] == "http://mlflow.test:30080"
    assert values["service_url"] == "http://mlflow.mlflow.svc.cluster.local"
    assert values["database_host"] == "mlflow-postgres.mlflow-db.svc.cluster.local"
    assert values["admin_username"] == "admin"
    secret = {name for name, (_, is_secret) in cap.outputs.items() if is_secret}
    assert secret == {"admin_password"}


def test_the_example_needs_a_context_and_names_a_missing_kubeconfig(
    example: RunExample, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="context"):
        example(kubeconfig=str(MOCK_KUBECONFIG_PATH))
    with pytest.raises(FileNotFoundError, match="no such file"):
        example(context="ctx", kubeconfig=str(tmp_path / "missing"))
