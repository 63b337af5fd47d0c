"""Every Kubernetes object each stack renders is schema-valid (strict) and passes checkov."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.config import parse_config
from infra.config import project_config
from tests.harness import ROOT, STACKS, Capture, stack_config
from tests.manifests import crds
from tests.manifests.render import kubernetes_objects, kubernetes_version, write_manifests

SKIPS_FILE = Path(__file__).with_name("checkov_skips.yaml")


@pytest.mark.parametrize("stack", STACKS)
def test_objects_are_valid_for_the_targeted_kubernetes(
    stacks: dict[str, Capture], stack: str
) -> None:
    version = kubernetes_version(parse_config(project_config(stack_config(stack))))
    objects = kubernetes_objects(stacks[stack])
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "Deployment", "Service", "Ingress", "ConfigMap", "Secret"} <= kinds
    for obj in objects:
        if crds.is_custom(obj):
            continue  # test_custom_resources_match_their_crds
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{stack}: {obj['kind']}/{obj['metadata']['name']}: {exc.message} "
                f"at {list(exc.path)}"
            )


def test_strict_validation_rejects_unknown_fields(stacks: dict[str, Capture]) -> None:
    deployment = next(o for o in kubernetes_objects(stacks["local"]) if o["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.35.0", strict=True)


def _checkov() -> str | None:
    for candidate in (
        ROOT / ".tools" / "checkov" / "bin" / "checkov",
        Path(sys.executable).parent / "checkov",
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("checkov")


@pytest.mark.integration
@pytest.mark.parametrize("stack", STACKS)
def test_checkov_finds_nothing(stacks: dict[str, Capture], stack: str, tmp_path: Path) -> None:
    write_manifests(kubernetes_objects(stacks[stack]), tmp_path)
    assert_checkov_passes(tmp_path)


def assert_checkov_passes(directory: Path) -> None:
    """checkov over the manifests in `directory`: no failed check, and enough checks run."""
    skips = yaml.safe_load(SKIPS_FILE.read_text())
    passed, failed = run_checkov(directory, skips)
    assert not failed, "\n".join(failed)
    assert passed > 50, "checkov ran no meaningful checks"


def run_checkov(directory: Path, skips: list[str] | dict[str, str]) -> tuple[int, list[str]]:
    """checkov over the manifests under `directory` with `skips` skipped: the number of
    passed checks and a line per failed one."""
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed: `make tools` (or .ci/run) installs it")
    options = ["--framework", "kubernetes", "--output", "json", "--compact"]
    skip = ["--skip-check", ",".join(skips)] if skips else []
    result = subprocess.run(
        [checkov, "-d", str(directory), *options, *skip],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['check_name']} ({c['resource']}, {c['file_path']})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    return sum(r.get("summary", {}).get("passed", 0) for r in reports), failed


def _custom_resources(stacks: dict[str, Capture]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (stack, obj)
        for stack in STACKS
        for obj in kubernetes_objects(stacks[stack])
        if crds.is_custom(obj)
    ]


def test_custom_resources_match_their_crds(stacks: dict[str, Capture]) -> None:
    if not crds.CRD_DIR.exists():
        pytest.skip("cert-manager's CRDs are fetched by `make controlplane`")
    schemas = crds.load_schemas()
    resources = _custom_resources(stacks)
    assert {o["kind"] for _, o in resources} == {"ClusterIssuer", "Certificate", "PodMonitoring"}
    for stack, obj in resources:
        try:
            crds.validate(obj, schemas)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{stack}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def test_crd_validation_rejects_unknown_fields(stacks: dict[str, Capture]) -> None:
    if not crds.CRD_DIR.exists():
        pytest.skip("cert-manager's CRDs are fetched by `make controlplane`")
    issuer = next(o for _, o in _custom_resources(stacks) if o["kind"] == "ClusterIssuer")
    broken = json.loads(json.dumps(issuer))
    broken["spec"]["selfSignd"] = {}
    with pytest.raises(jsonschema.ValidationError):
        crds.validate(broken, crds.load_schemas())
