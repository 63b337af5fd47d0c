"""The stack variants of render.VARIANTS (a shipped stack with a switch flipped) render
strictly valid objects that checkov passes, like the shipped stacks."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from components.config import parse_config
from infra.config import project_config
from tests.harness import Capture
from tests.manifests import crds
from tests.manifests.render import (
    VARIANTS,
    kubernetes_objects,
    kubernetes_version,
    variant_config,
    write_manifests,
)
from tests.manifests.requires import require
from tests.manifests.test_manifests import assert_checkov_passes


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_objects_are_valid_for_the_targeted_kubernetes(
    variants: dict[str, Capture], variant: str
) -> None:
    version = kubernetes_version(parse_config(project_config(variant_config(variant))))
    objects = kubernetes_objects(variants[variant])
    ingresses = [o for o in objects if o["kind"] == "Ingress"]
    assert ingresses and all(o["spec"]["ingressClassName"] == "nginx" for o in ingresses)
    for obj in objects:
        if crds.is_custom(obj):
            continue  # test_variant_custom_resources_match_their_crds
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{variant}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_custom_resources_match_their_crds(
    variants: dict[str, Capture], variant: str
) -> None:
    require(crds.CRD_DIR.exists(), "the CRDs are fetched by `make controlplane`")
    schemas = crds.load_schemas()
    custom = [o for o in kubernetes_objects(variants[variant]) if crds.is_custom(o)]
    assert "ClusterIssuer" in {o["kind"] for o in custom}
    for obj in custom:
        try:
            crds.validate(obj, schemas)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{variant}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


@pytest.mark.integration
@pytest.mark.parametrize("variant", VARIANTS)
def test_checkov_finds_nothing_in_variants(
    variants: dict[str, Capture], variant: str, tmp_path: Path
) -> None:
    write_manifests(kubernetes_objects(variants[variant]), tmp_path)
    assert_checkov_passes(tmp_path)
