"""mlflow-platform: one stack = one environment of MLflow on Kubernetes.

stack config ──validate──▶ Platform
                             ├─ cluster        (minikube | GKE | existing)
                             ├─ database       (Cloud SQL | in-cluster PostgreSQL)
                             ├─ artifact store (GCS | volume)
                             ├─ identity       (Workload Identity on GKE)
                             ├─ ingress-nginx
                             └─ MLflow tracking server
"""

import os
import sys

# The checkout's root, so the program also runs from a venv that holds only the deploy lock
# (`make deploy-venv`, `pulumi install`), where the project itself is not installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from infra.collector import paused_while_declaring

with paused_while_declaring():
    from infra.program import main

    main()
