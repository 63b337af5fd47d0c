"""components/workload/mlflow."""
