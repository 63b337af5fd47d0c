"""The stack variants of render.VARIANTS (a shipped stack with a switch flipped) render
strictly valid objects that checkov passes, like the shipped stacks."""

from __future__ import annotations

import json
import subprocess

import kubernetes_validate
import pytest
import yaml

from components.config import parse_config
from infra.config import project_config
from tests.harness import Capture
from tests.manifests import crds
from tests.manifests.render import (
    VARIANTS,
    kubernetes_objects,
    kubernetes_version,
    render_variant,
    variant_config,
    write_manifests,
)
from tests.manifests.test_manifests import SKIPS_FILE, _checkov


@pytest.fixture(scope="module")
def variants() -> dict[str, Capture]:
    return {name: render_variant(name) for name in VARIANTS}


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_objects_are_valid_for_the_targeted_kubernetes(variants, variant):
    version = kubernetes_version(parse_config(project_config(variant_config(variant))))
    objects = kubernetes_objects(variants[variant])
    ingresses = [o for o in objects if o["kind"] == "Ingress"]
    assert ingresses and all(o["spec"]["ingressClassName"] == "nginx" for o in ingresses)
    for obj in objects:
        if crds.is_custom(obj):
            continue  # the shipped stacks' CRD test covers the same custom resources
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{variant}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


@pytest.mark.integration
@pytest.mark.parametrize("variant", VARIANTS)
def test_checkov_finds_nothing_in_variants(variants, variant, tmp_path):
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed: `make tools` (or .ci/run) installs it")
    write_manifests(kubernetes_objects(variants[variant]), tmp_path)
    skips = yaml.safe_load(SKIPS_FILE.read_text())
    options = ["--framework", "kubernetes", "--output", "json", "--compact"]
    result = subprocess.run(
        [checkov, "-d", str(tmp_path), *options, "--skip-check", ",".join(skips)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['check_name']} ({c['resource']})"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert sum(r.get("summary", {}).get("passed", 0) for r in reports) > 50
