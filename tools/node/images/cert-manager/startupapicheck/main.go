// cert-manager's startupapicheck for the test node: the Helm hook that waits until the
// cert-manager API answers (a dry-run create of a Certificate through the webhook), with
// upstream's checker (pkg/util/cmapichecker, module github.com/cert-manager/cert-manager
// v1.21.2) and an entrypoint of our own: upstream's (cmd/startupapicheck) is a separate module
// the Go proxy does not serve. It takes what the chart passes: `check api --wait=D [-v]`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/cmapichecker"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	mlflownode "github.com/cert-manager/cert-manager/mlflow-platform-node"
)

func main() {
	mlflownode.Main("startupapicheck", run)
}

func run(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("startupapicheck", pflag.ContinueOnError)
	waitFor := fs.Duration("wait", 0, "how long to keep trying (0: once)")
	interval := fs.Duration("interval", 5*time.Second, "time between tries")
	fs.BoolP("verbose", "v", false, "log every failed try")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if got := fs.Args(); len(got) != 2 || got[0] != "check" || got[1] != "api" {
		return fmt.Errorf("only `check api` is supported, got %v", got)
	}
	restConfig, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	checker, err := cmapichecker.New(restConfig, os.Getenv("POD_NAMESPACE"))
	if err != nil {
		return err
	}
	log := logf.FromContext(ctx, "checkAPI")
	start := time.Now()
	var last error
	err = wait.PollUntilContextCancel(ctx, *interval, true, func(ctx context.Context) (bool, error) {
		if last = checker.Check(ctx); last == nil {
			return true, nil
		}
		if simple := cmapichecker.TranslateToSimpleError(last); simple != nil {
			last = simple
		}
		log.Info("not ready", "err", last)
		if time.Since(start) > *waitFor {
			return false, context.DeadlineExceeded
		}
		return false, nil
	})
	if err != nil {
		return errors.Join(err, last)
	}
	fmt.Println("The cert-manager API is ready")
	return nil
}
