"""components/workload/ingress."""
