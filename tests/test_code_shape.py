"""The shape the code keeps: short functions, one home per default, components that declare
what they output and are named after their class."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from pathlib import Path

import pulumi
import pytest

from components import config as c
from components.config.introspect import Model
from components.config.mlflow_server import default_max_replicas
from components.shared.base import Component, declared_outputs, type_token
from infra.component_docs import component_modules
from tests.harness import ROOT, run_stack

MAX_FUNCTION_LINES = 60
SOURCE_DIRS = ("components", "infra", "policy", "bootstrap", "examples")
# The library's modules, and the composition root's component.
COMPONENT_MODULES = component_modules()


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def _functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _length(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    assert fn.end_lineno is not None  # ast.parse sets it on every statement
    return fn.end_lineno - fn.lineno + 1


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name} ({_length(fn)} lines)"
        for path in _sources()
        for fn in _functions(path)
        if _length(fn) > MAX_FUNCTION_LINES
    ]
    assert not long, "\n".join(long)


def test_mypy_checks_every_source_folder() -> None:
    """`make lint`'s mypy line names the folders this file's shape checks cover, and the tests."""
    lint = (ROOT / "Makefile").read_text().split("\nlint:", 1)[1]
    mypy = next(line for line in lint.splitlines() if "/bin/mypy " in line)
    assert mypy.split("/bin/mypy ", 1)[1].split() == [*SOURCE_DIRS, "tests"]


def test_complexity_is_capped_by_the_linter() -> None:
    """`make lint` runs ruff's mccabe check (C901) with this ceiling on every source file."""
    import tomllib

    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "C90" in lint["select"]
    assert lint["mccabe"]["max-complexity"] == 10
    for pattern, ignored in lint.get("per-file-ignores", {}).items():
        assert not any(code.startswith("C90") for code in ignored), pattern


def test_schema_files_stay_small() -> None:
    sizes = {
        p.name: len(p.read_text().splitlines()) for p in (ROOT / "components/config").glob("*.py")
    }
    assert sizes and all(n < 300 for n in sizes.values()), sizes


def _component_classes() -> list[type[pulumi.ComponentResource]]:
    """Every ComponentResource the component modules define (the test below checks that each is
    a Component)."""
    found: list[type[pulumi.ComponentResource]] = []
    for module_name in COMPONENT_MODULES:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, pulumi.ComponentResource)
                and cls.__module__ == module.__name__
                and cls is not Component
            ):
                found.append(cls)
    return found


def test_every_component_is_a_component_named_after_its_class() -> None:
    classes = _component_classes()
    assert len(classes) >= 12
    for cls in classes:
        assert issubclass(cls, Component), cls
        # The token's module part is the file's name, or where a file was renamed after stacks
        # were created, the name it had (URNs carry it).
        module = cls.token_module or cls.__module__.split(".")[-1]
        assert cls.token_module != cls.__module__.split(".")[-1], (
            f"{cls}: token_module is redundant"
        )
        assert type_token(cls) == f"mlflow-platform:{module}:{cls.__name__}"


def _class_node(cls: type) -> ast.ClassDef:
    tree = ast.parse(Path(inspect.getfile(cls)).read_text())
    return next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)


def test_declared_outputs_are_documented_and_registered_last() -> None:
    for cls in _component_classes():
        node = _class_node(cls)
        body = node.body
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AnnAssign) and "Output" in ast.unparse(stmt.annotation):
                doc = body[i + 1] if i + 1 < len(body) else None
                assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant), (
                    f"{cls.__name__}.{ast.unparse(stmt.target)} has no docstring"
                )
        init = next(
            (n for n in body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
        )
        if init is None:
            continue  # an abstract base: its subclasses register
        assert ast.unparse(init.body[-1]) == "self.register_declared_outputs()", cls.__name__


def test_the_platform_registers_its_outputs_and_the_kubeconfig_stays_secret() -> None:
    capture = run_stack("local")
    platform = capture.one("mlflow-platform:platform:Platform")
    outputs = capture.component_outputs[platform.urn]
    # None-valued outputs (ingress_ip off GKE) are not sent to the engine.
    assert set(outputs) <= set(declared_outputs(type_by_name("Platform")))
    assert {"url", "namespace", "database_address", "artifact_store", "kubeconfig"} <= set(outputs)
    assert outputs["kubeconfig"][1] is True, "the kubeconfig output must be a secret"
    assert outputs["url"][1] is False


def type_by_name(name: str) -> type:
    return next(cls for cls in _component_classes() if cls.__name__ == name)


# --- one home per default ---------------------------------------------------------------------

# (argument dataclass, schema block, environment whose defaults it takes, renamed fields)
ARGS_AND_SCHEMA = [
    ("infrastructure.cluster.MinikubeClusterArgs", c.MinikubeClusterConfig, None, {}),
    ("infrastructure.gke.GkeClusterArgs", c.GkeClusterConfig, "prod", {}),
    ("infrastructure.gke.GkeNodePoolArgs", c.GkeNodePoolConfig, None, {}),
    ("stores.cloud_sql.CloudSqlPostgresArgs", c.CloudSqlConfig, None, {}),
    (
        "stores.cloud_sql.CloudSqlPostgresArgs",
        c.BackupConfig,
        "prod",
        {
            "backups_enabled": "enabled",
            "point_in_time_recovery": "point_in_time_recovery",
            "retained_backups": "retained_backups",
            "transaction_log_retention_days": "transaction_log_retention_days",
            "backup_start_time": "start_time",
        },
    ),
    ("stores.postgres.InClusterPostgresArgs", c.InClusterPostgresConfig, None, {}),
    ("stores.storage.GcsArtifactStoreArgs", c.GcsArtifactsConfig, None, {}),
    ("stores.storage.VolumeArtifactStoreArgs", c.VolumeArtifactsConfig, None, {}),
    ("workload.mlflow.server_args.ArtifactVolume", c.VolumeArtifactsConfig, None, {}),
    ("workload.mlflow.server_args.ContainerResources", c.ResourcesConfig, None, {}),
    ("workload.mlflow.server_args.MlflowServerArgs", c.MlflowConfig, "dev", {}),
    (
        "workload.mlflow.server_args.MlflowServerArgs",
        c.IngressConfig,
        None,
        {
            "ingress_namespace": "namespace",
            "ingress_controller": "controller",
            "proxy_body_size": "proxy_body_size",
        },
    ),
    ("workload.ingress.controller_args.IngressControllerArgs", c.IngressConfig, None, {}),
    (
        "workload.ingress.controller_args.IngressControllerArgs",
        c.HelmChartConfig,
        None,
        {f"chart_{k}": k for k in ("repository", "name", "version", "path")},
    ),
]


# Schema fields whose "unset" means a value computed from other fields.
DERIVED = {
    (c.MlflowConfig, "max_replicas"): lambda env: default_max_replicas(
        c.field_default(c.MlflowConfig, "replicas", env)
    ),
}


@pytest.mark.parametrize(("dotted", "model", "env", "renamed"), ARGS_AND_SCHEMA)
def test_argument_defaults_agree_with_the_schema(
    dotted: str, model: Model, env: c.Environment | None, renamed: dict[str, str]
) -> None:
    module, _, name = dotted.rpartition(".")
    args_class = getattr(importlib.import_module(f"components.{module}"), name)
    schema_fields = c.fields_of(model)
    compared = 0
    for field in dataclasses.fields(args_class):
        schema_name = renamed.get(field.name, field.name if not renamed else None)
        if schema_name not in schema_fields or field.default is dataclasses.MISSING:
            continue
        expected = c.field_default(model, schema_name, env)
        if (model, schema_name) in DERIVED:
            expected = DERIVED[model, schema_name](env)
        assert field.default == expected, (
            f"{dotted}.{field.name}: {field.default!r} != {expected!r}"
        )
        compared += 1
    assert compared, f"{dotted} shares no default with {model.__name__}"
