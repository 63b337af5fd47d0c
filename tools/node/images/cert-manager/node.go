// Package mlflownode is what the test node's cert-manager entrypoints share. The module's path
// lies under github.com/cert-manager/cert-manager for the reason upstream's own entrypoint
// modules' paths do: Go lets only code under that path import cert-manager's internal/ packages
// (the webhook's and cainjector's configuration defaults and validation, the webhook server), which the entrypoints need.
package mlflownode

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
)

// Main runs a component until SIGTERM or SIGINT, logging through upstream's logger; an error
// is logged and the process exits 1.
func Main(component string, run func(context.Context, []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	logf.InitLogs()
	ctx = logf.NewContext(ctx, logf.Log, component)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && ctx.Err() == nil {
		logf.Log.Error(err, component+" failed")
		logf.FlushLogs()
		os.Exit(1)
	}
	logf.FlushLogs()
}

// FeatureGates is the --feature-gates flag (key=bool pairs), as upstream parses it.
func FeatureGates(gates *map[string]bool) pflag.Value {
	return cliflag.NewMapStringBool(gates)
}
