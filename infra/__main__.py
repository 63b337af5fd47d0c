"""mlflow-platform: one stack = one environment of MLflow on Kubernetes.

stack config ──validate──▶ Platform
                             ├─ cluster        (minikube | GKE | existing)
                             ├─ database       (Cloud SQL | in-cluster PostgreSQL)
                             ├─ artifact store (GCS | volume)
                             ├─ identity       (Workload Identity on GKE)
                             ├─ ingress-nginx
                             └─ MLflow tracking server
"""

from infra.collector import paused_while_declaring

with paused_while_declaring():
    from infra.program import main

    main()
