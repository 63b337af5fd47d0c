"""What a stack needs on this machine, checked before `make up|preview|destroy` touches anything.

    python -m infra.preflight STACK            # one message naming what is missing (exit 1)
    python -m infra.preflight STACK --report   # every check, passed or not (`make doctor`)

Each check names the tool and how to get it, so a newcomer without minikube reads one line of
advice instead of a traceback from deep inside `pulumi up`. It reads the stack file only: no
cloud call, nothing installed or started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config import MinikubeClusterConfig, field_default
from components.config.section import PROJECT

STACKS = Path(__file__).resolve().parent.parent / "stacks"
ADC_FILE = Path("~/.config/gcloud/application_default_credentials.json")


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str  # what was found, or how to get what is missing


def program(name: str, how: str) -> Check:
    path = shutil.which(name)
    return Check(name, path is not None, path or f"not on PATH: {how}")


def _quiet(*cmd: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def docker_room(cpus: int, memory_mb: int) -> list[Check]:
    """Docker answers, and gives minikube's node the CPUs and memory the stack asks for."""
    info = _quiet("docker", "info", "--format", "{{.NCPU}} {{.MemTotal}}")
    if info is None or info.returncode != 0:
        how = "start Docker (Docker Desktop, or `sudo systemctl start docker`)"
        return [Check("Docker running", False, how)]
    ncpu, mem_bytes = (int(n) for n in info.stdout.split())
    have_mb = mem_bytes // 2**20
    return [
        Check("Docker running", True, f"{ncpu} CPUs, {have_mb} MiB"),
        Check(
            "room for the profile",
            ncpu >= cpus and have_mb >= memory_mb,
            f"the stack asks for {cpus} CPUs and {memory_mb} MiB (cluster.cpus, "
            f"cluster.memory_mb); Docker has {ncpu} CPUs and {have_mb} MiB",
        ),
    ]


def laptop_checks(cluster: dict[str, Any], environment: Any) -> list[Check]:
    def setting(name: str) -> Any:
        return cluster.get(name, field_default(MinikubeClusterConfig, name, environment))

    checks = [program("minikube", "https://minikube.sigs.k8s.io/docs/start/")]
    if setting("driver") == "docker":
        checks.append(program("docker", "https://docs.docker.com/engine/install/"))
        if checks[-1].ok:
            checks += docker_room(int(setting("cpus")), int(setting("memory_mb")))
    return checks


def gcp_checks() -> list[Check]:
    adc = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or str(ADC_FILE.expanduser())
    return [
        program("gcloud", "https://cloud.google.com/sdk/docs/install"),
        program("gke-gcloud-auth-plugin", "`gcloud components install gke-gcloud-auth-plugin`"),
        Check(
            "Google credentials",
            Path(adc).is_file(),
            adc if Path(adc).is_file() else "run `gcloud auth application-default login`",
        ),
    ]


def existing_cluster_checks(cluster: dict[str, Any]) -> list[Check]:
    kubeconfig = Path(str(cluster.get("kubeconfig", "~/.kube/config"))).expanduser()
    found = kubeconfig.is_file()
    detail = str(kubeconfig) if found else f"{kubeconfig} does not exist (cluster.kubeconfig)"
    return [Check("kubeconfig", found, detail)]


def stack_checks(stack: str, stacks: Path = STACKS) -> list[Check]:
    """Every check the stack needs, in the order a newcomer would fix them."""
    path = stacks / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem.removeprefix("Pulumi.") for p in stacks.glob("*.yaml")))
        return [Check("stack file", False, f"{path} does not exist; stacks here: {known}")]
    config: dict[str, Any] = (yaml.safe_load(path.read_text()) or {}).get("config") or {}

    def section(key: str) -> dict[str, Any]:
        value = config.get(f"{PROJECT}:{key}")
        return value if isinstance(value, dict) else {}

    cluster = section("cluster")
    checks = [program("pulumi", "https://www.pulumi.com/docs/install/ (or `make engine`)")]
    if cluster.get("kind") == "minikube":
        checks += laptop_checks(cluster, config.get(f"{PROJECT}:environment"))
    elif cluster.get("kind") == "existing":
        checks += existing_cluster_checks(cluster)
    uses_gcp = (
        cluster.get("kind") == "gke"
        or section("database").get("kind") == "cloudsql"
        or section("artifacts").get("kind") == "gcs"
    )
    return checks + (gcp_checks() if uses_gcp else [])


def message(stack: str, checks: list[Check]) -> str | None:
    """One message naming everything missing, or None when the machine is ready."""
    missing = [check for check in checks if not check.ok]
    if not missing:
        return None
    lines = [f"Stack {stack} needs on this machine:"]
    lines += [f"  - {check.what}: {check.detail}" for check in missing]
    lines.append(f"Run `make doctor STACK={stack}` to see every check.")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    stack, report = argv[1], "--report" in argv[2:]
    checks = stack_checks(stack)
    if report:
        for check in checks:
            print(f"{'ok' if check.ok else 'MISSING':>8}  {check.what}: {check.detail}")
    problem = message(stack, checks)
    if problem and not report:
        print(problem, file=sys.stderr)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
