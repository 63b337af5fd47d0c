"""The local stack as committed (stacks/Pulumi.local.yaml), through the real engine.

`pulumi preview` needs no cluster and no cloud account. For `pulumi up`/`destroy`, minikube
itself cannot run here (no Docker), so a stand-in `minikube` executable goes first on PATH: it
records each call and answers `kubectl config view` with a kubeconfig for the control plane on
loopback. Everything between (the command provider running minikube, the kubeconfig read back as
a secret, the Kubernetes provider built from it, the workload, the upstream ingress-nginx and
cert-manager charts) is the real thing. The only config changes are the charts' paths: the charts
cannot be downloaded here, so they are read from shared/charts (tests/engine/upstream_charts.py).

The dev, staging and prod stacks need GCP credentials and the pulumi-gcp provider, which is not
built here; their previews run in CI against a real project (.github/workflows/preview.yml).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto

from components.shared import versions
from tests.engine import controlplane
from tests.engine.inventory import inventory
from tests.engine.platform_checks import (
    assert_platform_removed,
    assert_platform_running,
    plaintext_paths,
    previewed,
)
from tests.engine.toolchain import (
    ENGINE_BIN,
    copy_project,
    exported_state,
    require_engine,
    workspace_options,
)
from tests.engine.upstream_charts import assert_cert_manager_installed, upstream_chart
from tests.harness import ROOT, Capture, stack_config

pytestmark = pytest.mark.engine

PROFILE = stack_config("local")["mlflow-platform:cluster"]["profile"]

FAKE_MINIKUBE = """#!/bin/sh
# Stand-in for minikube: records the call, answers what the cluster component asks.
printf '%s\\n' "$*" >> {log}
case "$1 $3" in
  "status "*) exit "$(cat {state} 2>/dev/null || echo 85)" ;;
  "start "*) echo 0 > {state} ;;
  "stop "*) echo 7 > {state} ;;
  "delete "*) rm -f {state} ;;
  "-p kubectl") cat {kubeconfig} ;;
  "-p ip") echo 127.0.0.1 ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


def _minikube_stand_in(plane: controlplane.ControlPlane, directory: Path) -> Path:
    """Writes bin/minikube; returns the file its calls are recorded in."""
    (directory / "bin").mkdir(parents=True)
    kubeconfig = json.loads(plane.kubeconfig.read_text())
    kubeconfig["contexts"][0]["name"] = kubeconfig["current-context"] = PROFILE
    (directory / "kubeconfig").write_text(json.dumps(kubeconfig))
    log = directory / "calls"
    script = directory / "bin" / "minikube"
    script.write_text(
        FAKE_MINIKUBE.format(
            log=shlex.quote(str(log)),
            kubeconfig=shlex.quote(str(directory / "kubeconfig")),
            state=shlex.quote(str(directory / "state")),
        )
    )
    script.chmod(0o755)
    return log


def test_local_stack_previews_with_no_cluster_and_no_cloud_account(
    tmp_path: Path, stacks: dict[str, Capture]
) -> None:
    require_engine()
    if not (ENGINE_BIN / "pulumi-resource-command").exists():
        pytest.skip("providers not built: run `make engine`")
    project = copy_project(tmp_path / "project")
    stack = auto.create_stack("local", work_dir=str(project), opts=workspace_options(tmp_path))
    summary, planned = previewed(stack)
    assert set(summary) == {"create"}, summary
    # The real engine plans exactly the resources the unit tests examine under mocks (plus
    # the default providers it adds for random and command).
    assert set().union(*planned.values()) == {"create"}
    defaults = {urn for urn in planned if urn.split("::")[2].startswith("pulumi:providers:")}
    assert {urn.rsplit("::", 1)[1] for urn in defaults} == {"default_1_2_1", "default_4_21_4"}
    assert set(planned) - defaults == {r.urn for r in stacks["local"].registrations}


def test_local_stack_up_and_destroy_start_and_delete_the_profile(
    cluster: controlplane.ControlPlane, tmp_path: Path
) -> None:
    calls = _minikube_stand_in(cluster, tmp_path / "minikube")
    project = copy_project(tmp_path / "project")
    options = workspace_options(tmp_path, extra_path=[tmp_path / "minikube" / "bin"])
    stack = auto.create_stack("local", work_dir=str(project), opts=options)
    for key, chart in (("ingress", "ingress-nginx"), ("tls", "cert-manager")):
        chart_path = auto.ConfigValue(str(upstream_chart(chart)))
        stack.set_config(f"mlflow-platform:{key}.chart.path", chart_path, path=True)
    objects_before = inventory(cluster)

    result = stack.up()
    assert result.summary.result == "succeeded"
    started = calls.read_text().splitlines()
    assert started[0] == (
        f"start -p {PROFILE} --kubernetes-version={versions.MINIKUBE_KUBERNETES_VERSION} "
        "--cpus=2 --memory=4096 --driver=docker --wait=all"
    )
    assert sorted(started[1:]) == sorted(
        [
            f"-p {PROFILE} kubectl -- config view --raw --flatten --minify --context={PROFILE}",
            f"-p {PROFILE} ip",
        ]
    )
    assert result.outputs["kubeconfig"].secret
    # The kubeconfig carries the cluster credentials: a secret in the state too.
    leaks = plaintext_paths(exported_state(stack), controlplane.TOKEN)
    assert not leaks, f"cluster credentials in the state in plaintext at {leaks}"
    assert_platform_running(cluster, "mlflow.local")
    assert_cert_manager_installed(cluster)

    assert set(stack.preview().change_summary) == {"same"}

    # A reboot stops the profile; `make start` (and `make up`) bring it back with its saved
    # settings, and Pulumi sees the same cluster: nothing to change.
    path = f"{tmp_path / 'minikube' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(["minikube", "stop", "-p", PROFILE], env={"PATH": path}, check=True)
    restart = subprocess.run(
        [sys.executable, "-m", "infra.laptop", "start", "local"],
        env={**os.environ, "PATH": path},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert restart.returncode == 0, restart.stderr
    assert calls.read_text().splitlines()[-2:] == [f"status -p {PROFILE}", f"start -p {PROFILE}"]
    assert set(stack.preview().change_summary) == {"same"}

    # minikube cannot resize an existing profile: a new size is refused before anything is
    # touched, with the way out in the message.
    stack.set_config("mlflow-platform:cluster.cpus", auto.ConfigValue("4"), path=True)
    before = calls.read_text()
    with pytest.raises(auto.CommandError, match="cannot change its version, size"):
        stack.up()
    assert calls.read_text() == before, "minikube was called"
    assert_platform_running(cluster, "mlflow.local")

    stack.destroy()
    assert calls.read_text().splitlines()[-1] == f"delete -p {PROFILE}"
    assert_platform_removed(cluster, stack, objects_before)
