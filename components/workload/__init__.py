"""components/workload."""
