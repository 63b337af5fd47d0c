"""The upstream charts of every Helm release, rendered by the real `helm` with the values each
shipped stack and each variant registers: the keys are the chart's, the values pass the chart's
schema, every rendered object (CRDs included) validates strictly, and checkov passes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.config import parse_config
from infra.config import project_config
from tests.harness import STACKS, Capture, stack_config
from tests.manifests import charts, crds
from tests.manifests.render import (
    ALLOWLIST,
    VARIANTS,
    kubernetes_version,
    variant_config,
    write_manifests,
)
from tests.manifests.requires import require
from tests.manifests.test_manifests import run_checkov

# helm renders about 50 charts here (about 20 s): kept out of `make test-unit` with checkov.
pytestmark = pytest.mark.integration

SOURCES = (*STACKS, *VARIANTS)
CONTROLLER_CHARTS = {"ingress-nginx", "nginx-ingress"}
CHART_SKIPS = yaml.safe_load(Path(__file__).with_name("chart_checkov_skips.yaml").read_text())

Render = Callable[[str], list[charts.Rendered]]


@pytest.fixture(scope="module")
def render(stacks: dict[str, Capture], variants: dict[str, Capture]) -> Render:
    """source (a stack or a variant) -> its releases rendered, each once per worker."""
    charts.require_helm()
    cache: dict[str, list[charts.Rendered]] = {}

    def rendered(source: str) -> list[charts.Rendered]:
        if source not in cache:
            config = stack_config(source) if source in STACKS else variant_config(source)
            version = kubernetes_version(parse_config(project_config(config)))
            capture = stacks[source] if source in STACKS else variants[source]
            cache[source] = [charts.render(r, version) for r in charts.releases(capture)]
        return cache[source]

    return rendered


@pytest.mark.parametrize("source", SOURCES)
def test_the_pinned_charts_are_the_charts_rendered(render: Render, source: str) -> None:
    found = render(source)
    names = {r.release.chart for r in found}
    assert len(found) == 2 and "cert-manager" in names and names & CONTROLLER_CHARTS, names
    for r in found:
        expected = charts.expected_local_version(r.release)
        assert charts.local_version(r.release) == expected, (r.release.chart, r.release.version)


@pytest.mark.parametrize("source", SOURCES)
def test_every_key_the_platform_sets_is_read_by_the_chart(render: Render, source: str) -> None:
    for r in render(source):
        sources = charts.key_sources(r)
        assert sources, r.release.chart
        unread = [".".join(path) for path, where in sources.items() if where is None]
        assert not unread, f"{r.release.chart}: keys the chart neither declares nor reads: {unread}"


def test_a_key_the_chart_does_not_read_is_caught(render: Render) -> None:
    for r in render("local") + render("local-f5-nginx"):
        if r.release.chart in CONTROLLER_CHARTS:
            values = {**r.release.values, "controller": {**r.release.values["controller"]}}
            values["controller"]["replicaCuont"] = 3
            release = charts.Release(**{**r.release.__dict__, "values": values})
            sources = charts.key_sources(charts.Rendered(release, r.kube_version, r.text))
            assert sources[("controller", "replicaCuont")] is None
            assert sources[("controller", "replicaCount")] == "values.yaml"


@pytest.mark.parametrize("source", SOURCES)
def test_the_values_pass_the_charts_schema(render: Render, source: str) -> None:
    checked = set()
    for r in render(source):
        if (r.release.chart_dir / "values.schema.json").exists():
            assert charts.schema_errors(r.release, r.kube_version) == [], r.release.chart
            checked.add(r.release.chart)
    assert "cert-manager" in checked
    assert "nginx-ingress" in checked or "f5-nginx" not in source


def test_the_offline_schema_has_no_online_refs_and_rejects_bad_values(render: Render) -> None:
    f5 = next(r for r in render("local-f5-nginx") if r.release.chart == "nginx-ingress")
    schema, _ = charts.values_schema(f5.release.chart_dir, f5.kube_version)
    assert "https://raw.githubusercontent.com" not in json.dumps(schema)
    controller = f5.release.values["controller"]
    # resources is a $ref to Kubernetes' ResourceRequirements: its fields are checked offline.
    bad: dict[str, Any]
    for bad in ({"resources": {"requestz": {}}}, {"replicaCount": "two"}):
        broken = {**f5.release.values, "controller": {**controller, **bad}}
        release = charts.Release(**{**f5.release.__dict__, "values": broken})
        assert charts.schema_errors(release, f5.kube_version), bad


def _validate(obj: dict[str, Any], version: str, custom: dict[tuple[str, str], Any]) -> None:
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    if (obj["apiVersion"], obj["kind"]) in custom:
        try:
            crds.validate(obj, custom)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{name}: {exc.message}")
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{name}: {exc.message} at {list(exc.path)}")
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(f"{name}: {obj['apiVersion']} is no API of Kubernetes {version}")


# Renderings already validated in this worker: cert-manager's is the same in every stack.
VALIDATED: set[tuple[str, str]] = set()


@pytest.mark.parametrize("source", SOURCES)
def test_rendered_objects_are_valid_for_the_targeted_kubernetes(
    render: Render, source: str
) -> None:
    for r in render(source):
        if (r.text, r.kube_version) in VALIDATED:
            continue
        objects = r.objects
        kinds = {o["kind"] for o in objects}
        assert {"Deployment", "Service", "ServiceAccount"} <= kinds, r.release.chart
        # Custom resources against the chart's own CRDs, else the ones `make controlplane` got.
        custom = crds.schemas_of([o for o in objects if o["kind"] == "CustomResourceDefinition"])
        if any(crds.is_custom(o) for o in objects):
            require(crds.CRD_DIR.exists(), "the CRDs are fetched by `make controlplane`")
            custom = {**crds.load_schemas(), **custom}
        for obj in objects:
            _validate(obj, r.kube_version, custom)
        VALIDATED.add((r.text, r.kube_version))


def _controller(render: Render, source: str) -> list[dict[str, Any]]:
    return next(r for r in render(source) if r.release.chart in CONTROLLER_CHARTS).objects


def test_the_charts_render_the_variants_settings(render: Render) -> None:
    for source in ("prod-allowlist", "prod-f5-nginx-allowlist"):
        services = [o for o in _controller(render, source) if o["kind"] == "Service"]
        balancers = [s for s in services if s["spec"].get("type") == "LoadBalancer"]
        assert [s["spec"].get("loadBalancerSourceRanges") for s in balancers] == [ALLOWLIST]
    for source in ("local-service-monitor", "local-f5-nginx-service-monitor"):
        monitors = [o for o in _controller(render, source) if o["kind"] == "ServiceMonitor"]
        assert [m["metadata"]["labels"].get("release") for m in monitors] == ["prom"], source
    for source in ("local", "local-f5-nginx"):
        assert not [o for o in _controller(render, source) if o["kind"] == "ServiceMonitor"]
    cert_manager = next(r for r in render("local") if r.release.chart == "cert-manager")
    crd_names = {
        o["spec"]["names"]["kind"]
        for o in cert_manager.objects
        if o["kind"] == "CustomResourceDefinition"
    }
    assert {"Certificate", "ClusterIssuer", "Issuer"} <= crd_names


@pytest.mark.parametrize("chart", ["ingress-nginx", "nginx-ingress", "cert-manager"])
def test_checkov_passes_the_rendered_charts(render: Render, chart: str, tmp_path: Path) -> None:
    """Every distinct rendering of `chart` over the stacks and variants in one checkov run:
    each failure is a skip with its reason, and each skip is still needed."""
    seen: set[str] = set()
    for source in SOURCES:
        for r in render(source):
            if r.release.chart == chart and r.text not in seen:
                seen.add(r.text)
                write_manifests(r.objects, tmp_path / source)
    passed, failed = run_checkov(tmp_path, [])
    skips = CHART_SKIPS[chart]
    assert [f for f in failed if f.split()[0] not in skips] == []
    assert set(skips) == {f.split()[0] for f in failed}, "a skip no longer needed"
    assert passed > 50, "checkov ran no meaningful checks"
