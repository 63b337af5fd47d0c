"""Each component on its own, under mocks: what it registers and the inputs that matter."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pulumi
import pytest

from components.config import AuthorizedNetwork
from components.infrastructure.cluster import (
    ExistingCluster,
    ExistingClusterArgs,
    MinikubeCluster,
    MinikubeClusterArgs,
)
from components.infrastructure.gke import GkeCluster, GkeClusterArgs
from components.infrastructure.identity import WorkloadIdentity, WorkloadIdentityArgs
from components.infrastructure.network import REQUIRED_APIS, Network, NetworkArgs, ProjectServices
from components.shared import versions
from components.stores.cloud_sql import CloudSqlPostgres, CloudSqlPostgresArgs
from components.stores.database import DatabaseEndpoint
from components.stores.postgres import InClusterPostgres, InClusterPostgresArgs
from components.stores.storage import GcsArtifactStore, GcsArtifactStoreArgs
from components.workload.ingress.controller import IngressController
from components.workload.ingress.controller_args import IngressControllerArgs
from components.workload.mlflow.server import MlflowServer
from components.workload.mlflow.server_args import ArtifactVolume, MlflowServerArgs
from tests.harness import (
    MOCK_GKE_DNS_ENDPOINT,
    MOCK_KUBECONFIG,
    MOCK_PASSWORD_PREFIX,
    Capture,
    Registration,
    redacted,
    run_under_mocks,
    with_auto_name,
)

K8S = "kubernetes:"


def _children_of(capture: Capture, component_type: str) -> list[Registration]:
    component = capture.one(component_type)
    return [r for r in capture.registrations if component in capture.ancestors(r)]


def test_minikube_cluster_starts_and_deletes_the_profile() -> None:
    args = MinikubeClusterArgs(
        profile="mlflow-t",
        kubernetes_version="v1.35.0",
        cpus=4,
        memory_mb=6144,
        addons=["gcp-auth"],
    )
    cap = run_under_mocks(lambda: MinikubeCluster("c", args))
    commands = {r.name: r.inputs for r in cap.of_type("command:local:Command")}
    start = commands["c-minikube"]
    assert start["create"].startswith("minikube start -p mlflow-t ")
    for flag in (
        "--kubernetes-version=v1.35.0",
        "--cpus=4",
        "--memory=6144",
        "--driver=docker",
        "--addons=gcp-auth",
    ):
        assert flag in start["create"]
    assert start["delete"] == "minikube delete -p mlflow-t"
    # A changed start command (size, version, ...) is refused: never replaced in place.
    assert "triggers" not in start
    assert start["update"].endswith("exit 1") and "destroy the stack" in start["update"]
    assert "--context=mlflow-t" in commands["c-kubeconfig"]["create"]
    provider = cap.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "mlflow-t"
    assert provider.inputs["kubeconfig"] == MOCK_KUBECONFIG
    assert redacted(provider.raw_inputs)["kubeconfig"] == "[secret]"
    assert all(r.parent for r in _children_of(cap, "mlflow-platform:cluster:MinikubeCluster"))


def _gke_args(**kw: Any) -> GkeClusterArgs:
    base = dict(
        project="proj-123",
        region="europe-west1",
        network="net",
        subnetwork="sub",
        pods_range_name="pods",
        services_range_name="services",
        kubernetes_version="1.35",
    )
    return GkeClusterArgs(**{**base, **kw})


def test_gke_autopilot_is_private_vpc_native_and_protected() -> None:
    cap = run_under_mocks(lambda: GkeCluster("gke", _gke_args(deletion_protection=True)))
    cluster = cap.one("gcp:container/cluster:Cluster").inputs
    assert cluster["enableAutopilot"] is True
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["ipAllocationPolicy"]["clusterSecondaryRangeName"] == "pods"
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["releaseChannel"]["channel"] == "REGULAR"
    assert cluster["deletionProtection"] is True
    assert cluster["minMasterVersion"] == "1.35"
    assert not cap.of_type("gcp:container/nodePool:NodePool")
    kubeconfig = cap.one("pulumi:providers:kubernetes").inputs["kubeconfig"]
    assert (
        "command: gke-gcloud-auth-plugin" in kubeconfig
        and f"server: https://{MOCK_GKE_DNS_ENDPOINT}" in kubeconfig
    )


def test_gke_control_plane_has_no_ip_endpoint_by_default() -> None:
    """Before: no authorized networks, the API's public IP open to the internet. After: only
    the DNS endpoint, where IAM checks each request; the kubeconfig trusts the system's roots."""
    cap = run_under_mocks(lambda: GkeCluster("gke", _gke_args()))
    cluster = cap.one("gcp:container/cluster:Cluster").inputs
    assert cluster["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": True},
        "ipEndpointsConfig": {"enabled": False},
    }
    assert "masterAuthorizedNetworksConfig" not in cluster
    assert "enablePrivateEndpoint" not in cluster["privateClusterConfig"]
    kubeconfig = cap.one("pulumi:providers:kubernetes").inputs["kubeconfig"]
    assert "certificate-authority-data" not in kubeconfig and "203.0.113.10" not in kubeconfig


@pytest.mark.parametrize("mode", ["authorized-networks", "private"])
def test_gke_ip_endpoint_admits_only_the_authorized_networks(mode: str) -> None:
    office = AuthorizedNetwork("office", "198.51.100.0/24")
    cap = run_under_mocks(
        lambda: GkeCluster(
            "gke", _gke_args(control_plane=mode, master_authorized_networks=[office])
        )
    )
    cluster = cap.one("gcp:container/cluster:Cluster").inputs
    assert cluster["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [{"displayName": "office", "cidrBlock": "198.51.100.0/24"}],
        "gcpPublicCidrsAccessEnabled": False,
    }
    endpoints = cluster["controlPlaneEndpointsConfig"]
    assert endpoints["ipEndpointsConfig"] == {"enabled": True}
    assert endpoints["dnsEndpointConfig"] == {"allowExternalTraffic": False}
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is (mode == "private")
    kubeconfig = cap.one("pulumi:providers:kubernetes").inputs["kubeconfig"]
    assert "server: https://203.0.113.10" in kubeconfig
    assert "certificate-authority-data: Q0E=" in kubeconfig


@pytest.mark.parametrize(
    ("mode", "datapath"), [("standard", "ADVANCED_DATAPATH"), ("autopilot", None)]
)
def test_gke_standard_runs_dataplane_v2_so_network_policies_are_enforced(
    mode: str, datapath: str | None
) -> None:
    cap = run_under_mocks(lambda: GkeCluster("gke", _gke_args(mode=mode)))
    assert cap.one("gcp:container/cluster:Cluster").inputs.get("datapathProvider") == datapath


def test_gke_standard_gets_its_own_node_pool_and_service_account() -> None:
    cap = run_under_mocks(
        lambda: GkeCluster("gke", _gke_args(mode="standard", private_nodes=False))
    )
    cluster = cap.one("gcp:container/cluster:Cluster").inputs
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["workloadIdentityConfig"]["workloadPool"] == "proj-123.svc.id.goog"
    assert "privateClusterConfig" not in cluster
    pool = cap.one("gcp:container/nodePool:NodePool").inputs
    assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert pool["nodeConfig"]["serviceAccount"].startswith("gke-nodes@")
    assert pool["nodeConfig"]["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
    roles = {r.inputs["role"] for r in cap.of_type("gcp:projects/iAMMember:IAMMember")}
    assert "roles/logging.logWriter" in roles and "roles/owner" not in roles


def test_existing_cluster_uses_the_given_context(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(MOCK_KUBECONFIG)
    cap = run_under_mocks(lambda: ExistingCluster("c", ExistingClusterArgs(str(kubeconfig), "ctx")))
    provider = cap.one("pulumi:providers:kubernetes").inputs
    assert provider["context"] == "ctx" and provider["kubeconfig"] == MOCK_KUBECONFIG


def test_existing_cluster_names_a_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"cluster\.kubeconfig"):
        run_under_mocks(lambda: ExistingCluster("c", ExistingClusterArgs(str(tmp_path / "x"), "c")))


def _sql_args(**kw: Any) -> CloudSqlPostgresArgs:
    base = dict(
        project="proj-123",
        region="europe-west1",
        tier="db-custom-2-7680",
        availability_type="REGIONAL",
        deletion_protection=True,
        private_ip=True,
        network_id="projects/proj-123/global/networks/n",
    )
    return CloudSqlPostgresArgs(**{**base, **kw})


def test_cloud_sql_private_ip_uses_private_services_access() -> None:
    cap = run_under_mocks(lambda: CloudSqlPostgres("db", _sql_args()))
    address = cap.one("gcp:compute/globalAddress:GlobalAddress").inputs
    assert address["purpose"] == "VPC_PEERING" and address["addressType"] == "INTERNAL"
    connection = cap.one("gcp:servicenetworking/connection:Connection").inputs
    assert connection["service"] == "servicenetworking.googleapis.com"
    instance = cap.one("gcp:sql/databaseInstance:DatabaseInstance")
    settings = instance.inputs["settings"]
    assert instance.inputs["databaseVersion"] == "POSTGRES_16"
    assert settings["edition"] == "ENTERPRISE"
    assert settings["ipConfiguration"]["ipv4Enabled"] is False
    assert settings["ipConfiguration"]["privateNetwork"].endswith("/networks/n")
    assert settings["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["backupConfiguration"]["pointInTimeRecoveryEnabled"] is True
    assert settings["deletionProtectionEnabled"] is True and instance.protect
    assert cap.depends_on(instance, cap.one("gcp:servicenetworking/connection:Connection"))
    user = cap.one("gcp:sql/user:User")
    assert redacted(user.raw_inputs)["password"] == "[secret]"
    assert cap.one("random:index/randomPassword:RandomPassword").inputs["length"] >= 32


def test_cloud_sql_public_ip_only_admits_authorized_networks() -> None:
    args = _sql_args(
        private_ip=False,
        network_id=None,
        deletion_protection=False,
        availability_type="ZONAL",
        authorized_networks=[AuthorizedNetwork("office", "203.0.113.0/24")],
    )
    cap = run_under_mocks(lambda: CloudSqlPostgres("db", args))
    assert not cap.of_type("gcp:compute/globalAddress:GlobalAddress")
    ip = cap.one("gcp:sql/databaseInstance:DatabaseInstance").inputs["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is True and ip["sslMode"] == "ENCRYPTED_ONLY"
    assert ip["authorizedNetworks"] == [{"name": "office", "value": "203.0.113.0/24"}]
    assert not cap.one("gcp:sql/databaseInstance:DatabaseInstance").protect


def test_in_cluster_postgres_is_pinned_persistent_and_non_root() -> None:
    cap = run_under_mocks(lambda: InClusterPostgres("pg", InClusterPostgresArgs()))
    sts = cap.one(K8S + "apps/v1:StatefulSet").inputs
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == versions.POSTGRES_IMAGE
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert (
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    )
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["POSTGRES_PASSWORD"]["valueFrom"]
    secret = cap.one(K8S + "core/v1:Secret")
    assert secret.inputs["stringData"]["POSTGRES_PASSWORD"].startswith(MOCK_PASSWORD_PREFIX)
    assert MOCK_PASSWORD_PREFIX not in str(redacted(secret.raw_inputs))
    # A rotation restarts the pod (auto-named Secret) and the hook applies the new password.
    assert "name" not in secret.inputs["metadata"]
    hook = container["lifecycle"]["postStart"]["exec"]["command"]
    assert hook[:2] == ["sh", "-c"] and "ALTER ROLE" in hook[2]
    assert MOCK_PASSWORD_PREFIX not in str(hook)
    assert cap.one(K8S + "core/v1:Namespace").inputs["metadata"]["name"] == "mlflow-db"
    assert cap.one(K8S + "core/v1:Service").inputs["spec"]["ports"][0]["port"] == 5432
    policy = cap.one(K8S + "networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "mlflow"
    }


def test_gcs_bucket_is_private_versioned_and_lifecycled() -> None:
    args = GcsArtifactStoreArgs(
        project="p",
        location="EU",
        bucket_name="b-1",
        force_destroy=False,
        protect=True,
        noncurrent_version_retention_days=90,
    )
    cap = run_under_mocks(lambda: GcsArtifactStore("a", args))
    bucket = cap.one("gcp:storage/bucket:Bucket")
    assert bucket.inputs["uniformBucketLevelAccess"] is True
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    assert bucket.inputs["versioning"] == {"enabled": True}
    rule = bucket.inputs["lifecycleRules"][0]
    assert rule["condition"]["daysSinceNoncurrentTime"] == 90 and rule["action"]["type"] == "Delete"
    assert bucket.inputs["forceDestroy"] is False and bucket.protect


def test_workload_identity_is_keyless_and_bucket_scoped() -> None:
    args = WorkloadIdentityArgs(
        project="proj-123",
        account_id="mlflow-prod",
        namespace="mlflow",
        kubernetes_service_account="mlflow",
        bucket_name="b",
        cloud_sql=True,
    )
    cap = run_under_mocks(lambda: WorkloadIdentity("id", args))
    binding = cap.one("gcp:serviceaccount/iAMMember:IAMMember").inputs
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == "serviceAccount:proj-123.svc.id.goog[mlflow/mlflow]"
    bucket_iam = cap.one("gcp:storage/bucketIAMMember:BucketIAMMember").inputs
    assert bucket_iam["bucket"] == "b" and bucket_iam["role"] == "roles/storage.objectAdmin"
    assert cap.one("gcp:projects/iAMMember:IAMMember").inputs["role"] == "roles/cloudsql.client"
    assert not cap.of_type("gcp:serviceaccount/key:Key")


def test_ingress_controller_pins_the_chart_and_sizes_uploads() -> None:
    args = IngressControllerArgs(
        service_type="NodePort",
        http_node_port=30080,
        values={"controller": {"config": {"use-gzip": "true"}}},
    )
    cap = run_under_mocks(lambda: IngressController("ingress", args))
    release = cap.one(K8S + "helm.sh/v3:Release").inputs
    assert release["chart"] == "ingress-nginx" and release["version"] == "4.15.1"
    assert release["repositoryOpts"]["repo"] == "https://kubernetes.github.io/ingress-nginx"
    controller = release["values"]["controller"]
    assert controller["service"] == {
        "type": "NodePort",
        "nodePorts": {"http": 30080, "https": 30443},
    }
    assert controller["config"]["proxy-body-size"] == "5g"
    assert controller["config"]["use-gzip"] == "true"  # user values merge over ours
    # The namespace is ours, not Helm's (`helm uninstall` leaves the namespaces it created).
    namespace = cap.one(K8S + "core/v1:Namespace")
    assert release["namespace"] == namespace.inputs["metadata"]["name"] == "ingress-nginx"
    assert "createNamespace" not in release
    assert namespace.urn in cap.one(K8S + "helm.sh/v3:Release").dependencies


def test_ingress_controller_installs_from_a_local_chart() -> None:
    args = IngressControllerArgs(service_type="LoadBalancer", chart_path="./charts/ingress-nginx")
    cap = run_under_mocks(lambda: IngressController("ingress", args))
    release = cap.one(K8S + "helm.sh/v3:Release").inputs
    assert release["chart"] == "./charts/ingress-nginx" and "repositoryOpts" not in release
    assert release["values"]["controller"]["service"] == {"type": "LoadBalancer"}


def _endpoint(private: bool) -> DatabaseEndpoint:
    return DatabaseEndpoint(
        host=pulumi.Output.from_input("10.0.0.3"),
        port=5432,
        database="mlflow",
        user="mlflow",
        password=pulumi.Output.secret("pw"),
        sslmode="disable" if private else "require",
        connection_name=pulumi.Output.from_input("p:r:i"),
        private_ip=private,
    )


def _pod(cap: Capture) -> dict[str, Any]:
    return cast(
        dict[str, Any], cap.one(K8S + "apps/v1:Deployment").inputs["spec"]["template"]["spec"]
    )


def test_mlflow_server_workload_with_cloud_sql_proxy_sidecar() -> None:
    args = MlflowServerArgs(
        host="mlflow.example.com",
        backend=_endpoint(private=True),
        artifacts_destination="gs://b/mlflow-artifacts",
        replicas=2,
        max_replicas=4,
        google_service_account="sa@p.iam.gserviceaccount.com",
    )
    cap = run_under_mocks(lambda: MlflowServer("mlflow", args))
    pod = _pod(cap)
    (proxy,) = pod["initContainers"]
    assert proxy["name"] == "cloud-sql-proxy" and proxy["restartPolicy"] == "Always"
    # The schema is migrated by the Job, whose pod has the same Auth Proxy sidecar.
    job_pod = cap.one(K8S + "batch/v1:Job").inputs["spec"]["template"]["spec"]
    assert job_pod["initContainers"] == [proxy]
    (migrate,) = job_pod["containers"]
    assert proxy["image"] == versions.CLOUD_SQL_PROXY_IMAGE
    assert {"--private-ip", "--structured-logs", "--port=5432", "p:r:i"} <= set(proxy["args"])
    assert migrate["command"] == ["python"] and "upgrade.callback" in migrate["args"][1]
    server = pod["containers"][0]
    assert server["image"] == "ghcr.io/mlflow/mlflow:v3.17.2-full"
    assert server["args"][:5] == ["server", "--host", "0.0.0.0", "--port", "5000"]
    assert "--serve-artifacts" in server["args"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"]["path"] == "/health"
    sc = server["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert (
        cap.one(K8S + "core/v1:ConfigMap").inputs["data"]["TRACKING_DATABASE_HOST"] == "127.0.0.1"
    )
    sa = cap.one(K8S + "core/v1:ServiceAccount").inputs
    assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"].startswith("sa@")
    strategy = cap.one(K8S + "apps/v1:Deployment").inputs["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert cap.one(K8S + "policy/v1:PodDisruptionBudget").inputs["spec"]["minAvailable"] == 1
    hpa = cap.one(K8S + "autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4)
    policy = cap.one(K8S + "networking.k8s.io/v1:NetworkPolicy", "mlflow").inputs["spec"]
    peer = policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
    assert peer == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert policy["ingress"][0]["ports"] == [{"port": 5000, "protocol": "TCP"}]
    ingress = cap.one(K8S + "networking.k8s.io/v1:Ingress").inputs
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"] == "5g"


def test_mlflow_server_single_replica_with_volume_has_no_pdb_or_hpa() -> None:
    args = MlflowServerArgs(
        host="mlflow.local",
        backend=dataclasses.replace(_endpoint(private=False), connection_name=None),
        artifact_volume=ArtifactVolume("1Gi"),
    )
    cap = run_under_mocks(lambda: MlflowServer("mlflow", args))
    assert not cap.of_type(K8S + "policy/v1:PodDisruptionBudget")
    assert not cap.of_type(K8S + "autoscaling/v2:HorizontalPodAutoscaler")
    pod = _pod(cap)
    assert "initContainers" not in pod  # no Auth Proxy, no login: the Job migrates
    job_pod = cap.one(K8S + "batch/v1:Job").inputs["spec"]["template"]["spec"]
    assert [c["name"] for c in job_pod["containers"]] == ["db-migrate"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts == {
        "tmp": "/tmp",
        "artifacts": "/mlartifacts",
        "prometheus-multiproc": "/var/lib/mlflow-metrics",
    }
    claim = cap.one(K8S + "core/v1:PersistentVolumeClaim").inputs
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert (
        cap.one(K8S + "core/v1:ConfigMap").inputs["data"]["TRACKING_ARTIFACTS_DESTINATION"]
        == "/mlartifacts"
    )


def test_mlflow_config_and_secret_are_auto_named_so_changes_roll_the_pods() -> None:
    args = MlflowServerArgs(
        host="mlflow.local", backend=_endpoint(private=False), artifact_volume=ArtifactVolume("1Gi")
    )
    cap = run_under_mocks(lambda: MlflowServer("mlflow", args))
    config_map = cap.one(K8S + "core/v1:ConfigMap").inputs
    secret = cap.one(K8S + "core/v1:Secret").inputs
    # No fixed name: a new value makes a new object with a new name, which changes the pod
    # template. A fixed name would be replaced under running pods that keep the old values.
    assert "name" not in config_map["metadata"] and "name" not in secret["metadata"]
    server = _pod(cap)["containers"][0]
    assert (
        server["envFrom"][0]["configMapRef"]["name"]
        == with_auto_name(config_map, "mlflow")["metadata"]["name"]
    )
    uri = next(e for e in server["env"] if e["name"] == "MLFLOW_BACKEND_STORE_URI")
    assert uri["valueFrom"]["secretKeyRef"]["name"].startswith("mlflow-")


def test_mlflow_server_needs_exactly_one_artifact_store() -> None:
    args = MlflowServerArgs(host="h", backend=_endpoint(private=False))
    with pytest.raises(ValueError, match="exactly one"):
        run_under_mocks(lambda: MlflowServer("mlflow", args))


def test_network_is_vpc_native_with_nat() -> None:
    args = NetworkArgs(
        project="p",
        region="europe-west1",
        name="mlflow",
        subnet_cidr="10.10.0.0/20",
        pods_cidr="10.16.0.0/14",
        services_cidr="10.20.0.0/20",
    )
    cap = run_under_mocks(lambda: Network("net", args))
    assert cap.one("gcp:compute/network:Network").inputs["autoCreateSubnetworks"] is False
    subnet = cap.one("gcp:compute/subnetwork:Subnetwork").inputs
    assert {r["rangeName"] for r in subnet["secondaryIpRanges"]} == {"pods", "services"}
    assert subnet["privateIpGoogleAccess"] is True
    assert cap.of_type("gcp:compute/routerNat:RouterNat")


def test_project_services_are_never_disabled_on_destroy() -> None:
    cap = run_under_mocks(lambda: ProjectServices("apis", "p"))
    services = cap.of_type("gcp:projects/service:Service")
    assert {s.inputs["service"] for s in services} == set(REQUIRED_APIS)
    assert all(s.inputs["disableOnDestroy"] is False for s in services)


def test_public_ip_cloud_sql_is_reached_through_the_auth_proxy(stacks: dict[str, Capture]) -> None:
    """Before: the dev server connected to the instance's public IP with sslmode=require, which
    encrypts but accepts any certificate. After: the Auth Proxy (IAM client certificate, the
    instance's certificate verified) on 127.0.0.1, to the public IP (no --private-ip)."""
    capture = stacks["dev"]
    pod = _pod(capture)
    (proxy,) = [c for c in pod["initContainers"] if c["name"] == "cloud-sql-proxy"]
    assert "--private-ip" not in proxy["args"]
    assert proxy["args"][-1] == "my-mlflow-dev:europe-west1:mlflow-dev"
    uri = capture.one(K8S + "core/v1:Secret", "mlflow").inputs["stringData"]["backend-store-uri"]
    assert "@127.0.0.1:5432/mlflow?sslmode=disable" in uri and "34.0.0.3" not in uri
