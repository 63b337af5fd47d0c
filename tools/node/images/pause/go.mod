module mlflow-platform/tools/node/images/pause

go 1.22
