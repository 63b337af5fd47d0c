"""Run Pulumi programs and components under mocks and keep everything the engine was asked.

`RecordingMonitor` sees each RegisterResource request as the engine would: type, name,
parent, dependencies, `protect`, and inputs with secrets still wrapped, so tests can check
both what is created and how it is wired.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.workload.mlflow.migration import BACKUP_SCRIPT

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("local", "dev", "staging", "prod")
PROJECT = "mlflow-platform"
MOCK_PASSWORD_PREFIX = "mock-S3cret-"
# What `gcloud sql backups list --format=value(id)` prints for the backup before an upgrade.
MOCK_BACKUP_ID = "1764086400123"
MOCK_DEVELOPER = "developer@example.com"  # who runs `pulumi up` (gcloud's account)
MOCK_GKE_DNS_ENDPOINT = "gke-0123456789abcdef-mock.europe-west1.gke.goog"
# A kubeconfig with a token user and the contexts the tests deploy into.
MOCK_KUBECONFIG_PATH = ROOT / "tests" / "data" / "kubeconfig.yaml"
MOCK_KUBECONFIG = MOCK_KUBECONFIG_PATH.read_text()


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    protect: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    raw_inputs: dict[str, Any]  # secrets still wrapped
    import_id: str = ""
    provider: str = ""  # the provider reference (urn::id) the engine waits for
    delete_before_replace: bool = False

    @property
    def inputs(self) -> dict[str, Any]:
        return cast(dict[str, Any], unwrap_secrets(self.raw_inputs))


@dataclass
class Capture:
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)  # name -> (value, secret)
    # component URN -> its registered outputs, name -> (value, secret)
    component_outputs: dict[str, dict[str, tuple[Any, bool]]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
        return found[0]

    @property
    def types(self) -> set[str]:
        return {r.type for r in self.registrations}

    def ancestors(self, reg: Registration) -> Iterator[Registration]:
        urns = {r.urn: r for r in self.registrations}
        parent = reg.parent
        while parent in urns:
            yield urns[parent]
            parent = urns[parent].parent

    def depends_on(self, reg: Registration, target: Registration) -> bool:
        """Transitive: through explicit/property dependencies, parents and children."""
        urns = {r.urn: r for r in self.registrations}
        children: dict[str, list[str]] = {}
        for r in self.registrations:
            children.setdefault(r.parent, []).append(r.urn)
        seen: set[str] = set()
        stack = [reg.urn]
        while stack:
            urn = stack.pop()
            if urn in seen or urn not in urns:
                continue
            seen.add(urn)
            r = urns[urn]
            direct = set(r.dependencies)
            for deps in r.property_dependencies.values():
                direct.update(deps)
            for dep in direct:
                # Depending on a component means depending on all of its children.
                stack.append(dep)
                stack.extend(_descendants(dep, children))
            stack.append(r.parent)
            if r.provider:  # a resource waits for its provider, and so for what that needs
                stack.append(r.provider.rsplit("::", 1)[0])
        return target.urn in seen and target.urn != reg.urn


def _descendants(urn: str, children: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    todo = list(children.get(urn, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children.get(child, []))
    return out


def unwrap_secrets(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def redacted(value: Any) -> Any:
    """`value` as a plain log or state file would show it: every secret replaced."""
    if rpc.is_rpc_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks, capture: Capture, stack: str) -> None:
        super().__init__(mocks)
        self.capture = capture
        self.stack = stack

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine makes them (the stock mock monitor names every stack "stack" and keeps
        # only the parent's own type): the type is qualified by every ancestor's type below the
        # Stack. Policies read the stack from URNs; the engine tests compare URNs with these.
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.stack}::{PROJECT}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        # pulumi's MockMonitor is unannotated.
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.capture.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=request.custom,
                protect=bool(request.protect),
                dependencies=list(request.dependencies),
                property_dependencies={
                    k: list(v.urns) for k, v in request.propertyDependencies.items()
                },
                raw_inputs=rpc.deserialize_properties(request.object) if request.custom else {},
                import_id=request.importId,
                provider=request.provider,
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        self.capture.component_outputs[request.urn] = {
            key: (unwrap_secrets(value), rpc.is_rpc_secret(value)) for key, value in outputs.items()
        }
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]  # unannotated


def with_auto_name(obj: dict[str, Any], resource_name: str) -> dict[str, Any]:
    """What the Kubernetes provider does to an object without metadata.name: name it
    <resource name>-<suffix> (the suffix is random there, stable here)."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("name"):
        return obj
    suffix = hashlib.sha256(resource_name.encode()).hexdigest()[:8]
    return {**obj, "metadata": {**metadata, "name": f"{resource_name}-{suffix}"}}


class PlatformMocks(pulumi_mocks.Mocks):
    """Plausible provider outputs for every resource type the platform registers."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = unwrap_secrets(args.inputs)
        state: dict[str, Any] = {**args.inputs}
        state.setdefault("name", args.name)
        project = inputs.get("project", "mock-project")
        t = args.typ
        if t == "random:index/randomPassword:RandomPassword":
            state["result"] = f"{MOCK_PASSWORD_PREFIX}{args.name}"
        elif t == "gcp:sql/databaseInstance:DatabaseInstance":
            state.update(
                connectionName=f"{project}:{inputs.get('region')}:{args.name}",
                privateIpAddress="10.99.0.3",
                publicIpAddress="34.0.0.3",
            )
        elif t == "gcp:compute/address:Address":
            state["address"] = "34.0.0.10"
        elif t == "gcp:storage/bucket:Bucket":
            state["url"] = f"gs://{inputs['name']}"
        elif t == "gcp:serviceaccount/account:Account":
            email = f"{inputs['accountId']}@{project}.iam.gserviceaccount.com"
            state.update(email=email, name=f"projects/{project}/serviceAccounts/{email}")
        elif t == "gcp:container/cluster:Cluster":
            state.update(endpoint="203.0.113.10", masterAuth={"clusterCaCertificate": "Q0E="})
            endpoints = state.setdefault("controlPlaneEndpointsConfig", {})
            endpoints.setdefault("dnsEndpointConfig", {})["endpoint"] = MOCK_GKE_DNS_ENDPOINT
        elif t == "command:local:Command":
            stdout = MOCK_KUBECONFIG if args.name.endswith("-kubeconfig") else "192.168.49.2\n"
            if args.name.endswith("-upgrade-backup"):
                # What the step's create prints: the backup's id, or nothing on a new instance.
                stdout = MOCK_BACKUP_ID + "\n" if inputs["create"] == BACKUP_SCRIPT else ""
            state["stdout"] = stdout
        elif t.startswith("kubernetes:"):
            state = with_auto_name(state, args.name)
        return f"{args.name}-id", state

    # Mocks.call is annotated to return (outputs, failures), but MockMonitor.Invoke takes a plain
    # dict too, and iterates the failures of a tuple (so (outputs, None) would fail).
    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "gcp:organizations/getClientOpenIdUserInfo:getClientOpenIdUserInfo":
            return {"email": MOCK_DEVELOPER, "id": MOCK_DEVELOPER}
        return {}


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` block of stacks/Pulumi.<stack>.yaml."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return dict(data["config"])


def secure(value: Any) -> dict[str, Any]:
    """A value as `pulumi config set --secret` stores it in a stack file (here the "cipher
    text" is the value itself: the engine stand-in decrypts it by unwrapping)."""
    return {"secure": value}


def _holds_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_holds_secure(v) for v in value.values())
    return isinstance(value, list) and any(_holds_secure(v) for v in value)


def _decrypted(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return value["secure"]
        return {k: _decrypted(v) for k, v in value.items()}
    return [_decrypted(v) for v in value] if isinstance(value, list) else value


def engine_secret_keys(config: dict[str, Any]) -> list[str]:
    """The keys the engine reports as secret: each top-level key with a `secure:` value inside."""
    return [key for key, value in config.items() if _holds_secure(value)]


def engine_config(config: dict[str, Any]) -> dict[str, str]:
    """Flatten config the way the Pulumi CLI hands it to a program: secrets decrypted, objects
    as JSON text."""
    plain = {key: _decrypted(value) for key, value in config.items()}
    return {
        key: json.dumps(value)
        if isinstance(value, (dict, list))
        else (str(value).lower() if isinstance(value, bool) else str(value))
        for key, value in plain.items()
    }


def with_overrides(config: dict[str, Any], **paths: Any) -> dict[str, Any]:
    """Copy of `config` with dotted paths (`database__tier` → database.tier) replaced.

    A value of `DELETE` removes the key.
    """
    result: dict[str, Any] = json.loads(json.dumps(config))
    for dotted, value in paths.items():
        parts = dotted.split("__")
        # A key with its own namespace (`mlflow_platform:ingress`) is taken as written.
        key = parts[0] if ":" in parts[0] else f"{PROJECT}:{parts[0]}"
        if len(parts) == 1:
            if value is DELETE:
                result.pop(key, None)
            else:
                result[key] = value
            continue
        node = result.setdefault(key, {})
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return result


class _Delete:
    """An override that removes the key. Its repr is stable: test ids that show it must be the
    same in every xdist worker (an object's address is not)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


async def _resolve(outputs: dict[str, Any]) -> dict[str, tuple[Any, bool]]:
    resolved = {}
    for key, value in outputs.items():
        out = pulumi.Output.from_input(value)
        resolved[key] = (await out.future(), await out.is_secret())
    return resolved


def run_under_mocks(
    body: Callable[[], Any],
    config: dict[str, Any] | None = None,
    stack: str = "test",
    capture: Capture | None = None,
    mocks: pulumi_mocks.Mocks | None = None,
) -> Capture:
    """Run `body` as a Pulumi program under mocks; return what it registered and exported.

    Pass `capture` to keep what was registered even when `body` raises; `mocks` to answer for
    resource types PlatformMocks does not know.
    """
    capture = capture if capture is not None else Capture()
    mocks = mocks if mocks is not None else PlatformMocks()
    # A fresh root Stack per program: set_mocks keeps an existing one, whose outputs would carry
    # an earlier program's exports into this capture.
    pulumi.runtime.settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=RecordingMonitor(mocks, capture, stack),
    )
    pulumi.runtime.set_all_config(engine_config(config or {}), engine_secret_keys(config or {}))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        body()
        root = pulumi.runtime.get_root_resource()
        outputs = dict(getattr(root, "outputs", {}) or {})
        resolved: pulumi.Output[dict[str, tuple[Any, bool]]] = pulumi.Output.from_input(
            _resolve(outputs)
        )
        return resolved.apply(capture.outputs.update)

    program()
    return capture


def run_stack(
    stack: str, config: dict[str, Any] | None = None, capture: Capture | None = None
) -> Capture:
    """Evaluate infra/ exactly as `pulumi up -s <stack>` would, under mocks, with `config` as
    the stack file the program finds (it reads which values are `secure:` there)."""
    import infra.config
    from infra.program import run

    config = config if config is not None else stack_config(stack)
    with tempfile.TemporaryDirectory() as stacks:
        (Path(stacks) / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
        bundled, infra.config.STACKS = infra.config.STACKS, Path(stacks)
        try:
            return run_under_mocks(run, config, stack, capture)
        finally:
            infra.config.STACKS = bundled
