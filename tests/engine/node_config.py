"""The files a real node runs from: containerd's, the CNI network's, the kubelet's, kube-proxy's,
CoreDNS's and the image registry's. Each host quirk is set here, with the reason next to it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

# The kubelet refuses a loopback node IP and this kernel has no `dummy` link type, so the node
# gets a /32 on `lo`: reachable from the host and, through the bridge's gateway, from pods.
NODE_IP = "10.250.0.1"
NODE_NAME = "mlflow-node"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
BRIDGE = "mlflowcni0"
CNI_BIN = Path("/usr/lib/cni")
CLUSTER_DOMAIN = "cluster.local"
PAUSE = "pause:3.10"


@dataclass(frozen=True)
class NodePaths:
    """Everything the node writes lives under one directory (a pytest temp dir)."""

    root: Path

    def __getattr__(self, name: str) -> Path:
        return self.root / name.replace("_", "-")

    @property
    def containerd_socket(self) -> Path:
        return self.root / "run" / "containerd.sock"


def containerd_config(paths: NodePaths, registry: str) -> str:
    # restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so lowering a process's
    # oom_score_adj is refused; without this every sandbox fails in runc with "can't get final
    # child's PID from pipe".
    # SystemdCgroup = false: no systemd here; the kubelet uses the cgroupfs driver to match.
    return f"""version = 2
root = "{paths.containerd_root}"
state = "{paths.containerd_state}"
[grpc]
  address = "{paths.containerd_socket}"
[ttrpc]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{paths.containerd_opt}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{registry}/{PAUSE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{paths.cni_conf}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{paths.registry_hosts}"
"""


def registry_hosts(registry: str) -> str:
    """containerd's hosts.toml for our registry: plain http on loopback."""
    return f"""server = "http://{registry}"
[host."http://{registry}"]
  capabilities = ["pull", "resolve"]
"""


def registry_mirror(upstream: str, registry: str) -> str:
    """containerd's hosts.toml for an upstream registry the node cannot reach: images are pulled
    from ours (same repository and tag); the upstream server is never reached offline."""
    return f"""server = "https://{upstream}"
[host."http://{registry}"]
  capabilities = ["pull", "resolve"]
"""


def cni_network(paths: NodePaths) -> str:
    # `firewall`: a Docker engine on the same host sets the FORWARD policy to DROP; this plugin
    # admits the pods' traffic ahead of that policy. NetworkPolicies are not enforced: the
    # bridge plugin has no policy engine.
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "mlflow-node-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(paths.cni_ipam),
                    },
                },
                {"type": "firewall", "backend": "iptables"},
                {"type": "portmap", "capabilities": {"portMappings": True}},
                {"type": "loopback"},
            ],
        },
        indent=2,
    )


@dataclass(frozen=True)
class Ports:
    kubelet: int
    kubelet_healthz: int
    proxy_metrics: int
    proxy_healthz: int


def kubelet_config(paths: NodePaths, ports: Ports) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # The host has cgroup v1 hierarchies; 1.36 refuses them unless told not to.
        "failCgroupV1": False,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{paths.containerd_socket}",
        "address": NODE_IP,
        "port": ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": ports.kubelet_healthz,
        # Only the API server (on this host) calls the kubelet, for logs and exec.
        "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},
        "clusterDomain": CLUSTER_DOMAIN,
        "clusterDNS": [NODE_IP],
        "failSwapOn": False,
        "resolvConf": "/etc/resolv.conf",
        "podCIDR": POD_CIDR,
        "maxPods": 30,
        "serializeImagePulls": False,
        # A shared developer disk: never evict or collect images because of its fill level.
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "enforceNodeAllocatable": [],
        "cgroupsPerQOS": True,
        "localStorageCapacityIsolation": True,
        "shutdownGracePeriod": "0s",
        # Container logs stay in the node's directory (the kubelet still links each one from
        # /var/log/containers; host.py removes those links).
        "podLogsDir": str(paths.pod_logs),
    }
    return yaml.safe_dump(config)


def kube_proxy_config(paths: NodePaths, ports: Ports) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(paths.proxy_kubeconfig)},
        "mode": "iptables",
        "clusterCIDR": POD_CIDR,
        "hostnameOverride": NODE_NAME,
        "metricsBindAddress": f"127.0.0.1:{ports.proxy_metrics}",
        "healthzBindAddress": f"127.0.0.1:{ports.proxy_healthz}",
        # Leave the host's conntrack table size alone.
        "conntrack": {"maxPerCore": 0},
        # NodePorts on the node's address only, not on every address of a developer's machine.
        "nodePortAddresses": [f"{NODE_IP}/32"],
    }
    return yaml.safe_dump(config)


def corefile(kubeconfig: Path, context: str) -> str:
    """CoreDNS answers the cluster's names (Services, pods) on the node's address; nothing else."""
    return f"""{CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
    bind {NODE_IP}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} {context}
        pods insecure
    }}
    cache 5
    errors
}}
"""


def registry_config(storage: Path, address: str) -> str:
    return yaml.safe_dump(
        {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
            "http": {"addr": address},
        }
    )
