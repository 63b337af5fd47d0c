// cert-manager's controller for the test node: upstream's controllers, issuers and ingress-shim
// (module github.com/cert-manager/cert-manager v1.21.2) run by an entrypoint of our own, because
// upstream's (cmd/controller) is a separate module the Go proxy does not serve. It takes the
// flags the upstream chart passes, with upstream's defaults (v1.21.2's
// internal/apis/config/controller/v1alpha1/defaults.go), and runs what upstream's entrypoint
// runs: the metrics and /livez servers, leader election, then every enabled controller.
// Left out: the Venafi issuer (its client library, github.com/Venafi/vcert/v5, is withheld by
// the Go module proxy: 403 "not available"), which is why upstream's configuration packages
// (they import it) are not used either; the experimental CertificateSigningRequest and Gateway
// API controllers; --config files, pprof and metrics TLS.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	"github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	ingresses "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	cracme "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/acme"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	crvault "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/vault"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	certmetrics "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	logsapi "k8s.io/component-base/logs/api/v1"

	mlflownode "github.com/cert-manager/cert-manager/mlflow-platform-node"

	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"
)

// defaultControllers: upstream's default set without Venafi's.
var defaultControllers = []string{
	issuers.ControllerName, clusterissuers.ControllerName, certmetrics.ControllerName,
	ingresses.ControllerName, acmeorders.ControllerName, acmechallenges.ControllerName,
	cracme.CRControllerName, approver.ControllerName, crca.CRControllerName,
	crselfsigned.CRControllerName, crvault.CRControllerName, trigger.ControllerName,
	issuing.ControllerName, keymanager.ControllerName, requestmanager.ControllerName,
	readiness.ControllerName, revisionmanager.ControllerName,
}

type settings struct {
	logging                  logsapi.LoggingConfiguration
	kubeconfig               string
	namespace                string
	clusterResourceNamespace string
	controllers              []string
	leaderElect              bool
	leaseNamespace           string
	lease, renew, retry      time.Duration
	solverImage              string
	solverLabels             map[string]string
	solverRuntimeClass       string
	dnsRecursiveOnly         bool
	dnsNameservers           []string
	issuerName, issuerKind   string
	issuerGroup              string
	ownerRef                 bool
	featureGates             map[string]bool
	maxChallenges            int
	metricsAddress           string
}

func main() {
	mlflownode.Main("controller", func(ctx context.Context, args []string) error {
		s, err := parse(args)
		if err != nil {
			return err
		}
		return run(ctx, s)
	})
}

func parse(args []string) (*settings, error) {
	s := &settings{}
	logsapi.SetRecommendedLoggingConfiguration(&s.logging)
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	logf.AddFlags(&s.logging, fs)
	fs.StringVar(&s.kubeconfig, "kubeconfig", "", "kubeconfig (out of cluster only)")
	fs.StringVar(&s.namespace, "namespace", "", "the only namespace to watch (default: all)")
	fs.StringVar(&s.clusterResourceNamespace, "cluster-resource-namespace", "kube-system", "")
	fs.StringSliceVar(&s.controllers, "controllers", []string{"*"}, "")
	fs.BoolVar(&s.leaderElect, "leader-elect", true, "")
	fs.StringVar(&s.leaseNamespace, "leader-election-namespace", "kube-system", "")
	fs.DurationVar(&s.lease, "leader-election-lease-duration", 60*time.Second, "")
	fs.DurationVar(&s.renew, "leader-election-renew-deadline", 40*time.Second, "")
	fs.DurationVar(&s.retry, "leader-election-retry-period", 15*time.Second, "")
	fs.StringVar(&s.solverImage, "acme-http01-solver-image", "", "")
	fs.StringToStringVar(&s.solverLabels, "acme-http01-solver-extra-labels", nil, "")
	fs.StringVar(&s.solverRuntimeClass, "acme-http01-solver-runtime-class-name", "", "")
	fs.BoolVar(&s.dnsRecursiveOnly, "dns01-recursive-nameservers-only", false, "")
	fs.StringSliceVar(&s.dnsNameservers, "dns01-recursive-nameservers", nil, "")
	fs.StringVar(&s.issuerName, "default-issuer-name", "", "")
	fs.StringVar(&s.issuerKind, "default-issuer-kind", "Issuer", "")
	fs.StringVar(&s.issuerGroup, "default-issuer-group", "cert-manager.io", "")
	fs.BoolVar(&s.ownerRef, "enable-certificate-owner-ref", false, "")
	fs.Var(mlflownode.FeatureGates(&s.featureGates), "feature-gates", "")
	fs.IntVar(&s.maxChallenges, "max-concurrent-challenges", 60, "")
	fs.StringVar(&s.metricsAddress, "metrics-listen-address", "0.0.0.0:9402", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(s.featureGates); err != nil {
		return nil, err
	}
	return s, logf.ValidateAndApply(&s.logging)
}

// enabled reads --controllers as upstream does: "*" is the default set, "-name" removes one;
// a controller watching one namespace runs no cluster-scoped controller.
func (s *settings) enabled() sets.Set[string] {
	on, off := sets.New[string](), sets.New[string]()
	for _, name := range s.controllers {
		switch {
		case name == "*":
			on.Insert(defaultControllers...)
		case strings.HasPrefix(name, "-"):
			off.Insert(strings.TrimPrefix(name, "-"))
		default:
			on.Insert(name)
		}
	}
	if on.Len() == 0 && off.Len() > 0 {
		on.Insert(defaultControllers...)
	}
	if s.namespace != "" {
		off.Insert(clusterissuers.ControllerName)
	}
	return on.Difference(off)
}

func run(rootCtx context.Context, s *settings) error {
	factory, err := contextFactory(rootCtx, s)
	if err != nil {
		return err
	}
	cctx, err := factory.Build()
	if err != nil {
		return err
	}
	g, rootCtx := errgroup.WithContext(rootCtx)
	if err := serveMetrics(rootCtx, g, s.metricsAddress, cctx); err != nil {
		return err
	}
	health := healthz.NewServer(20 * time.Second)
	healthListener, err := (&net.ListenConfig{}).Listen(rootCtx, "tcp", "0.0.0.0:9403")
	if err != nil {
		return err
	}
	g.Go(func() error { return health.Start(rootCtx, healthListener) })
	elected := make(chan struct{})
	if s.leaderElect {
		g.Go(func() error { return leaderElection(rootCtx, s, factory, health, elected) })
	} else {
		close(elected)
	}
	select {
	case <-rootCtx.Done():
		return g.Wait()
	case <-elected:
	}
	if err := startControllers(rootCtx, g, s, factory); err != nil {
		return err
	}
	cctx.SharedInformerFactory.Start(rootCtx.Done())
	cctx.KubeSharedInformerFactory.Start(rootCtx.Done())
	cctx.HTTP01ResourceMetadataInformersFactory.Start(rootCtx.Done())
	return g.Wait()
}

func startControllers(ctx context.Context, g *errgroup.Group, s *settings, factory *controller.ContextFactory) error {
	enabled := s.enabled()
	log := logf.FromContext(ctx)
	log.Info("enabled controllers", "controllers", sets.List(enabled))
	known := controller.Known()
	for _, name := range sets.List(enabled) {
		constructor, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not built into this binary", name)
		}
		iface, err := constructor(factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		g.Go(func() error { return iface.Run(5, ctx) })
	}
	return nil
}

func contextFactory(ctx context.Context, s *settings) (*controller.ContextFactory, error) {
	acme, err := acmeOptions(s)
	if err != nil {
		return nil, err
	}
	return controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         s.kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          s.namespace,
		ACMEOptions:        acme,
		SchedulerOptions:   controller.SchedulerOptions{MaxConcurrentChallenges: s.maxChallenges},
		IssuerOptions: controller.IssuerOptions{
			ClusterIssuerAmbientCredentials: true,
			IssuerAmbientCredentials:        false,
			ClusterResourceNamespace:        s.clusterResourceNamespace,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerName:                 s.issuerName,
			DefaultIssuerKind:                 s.issuerKind,
			DefaultIssuerGroup:                s.issuerGroup,
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           s.ownerRef,
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
}

// acmeOptions: the HTTP-01 solver pods' settings and the DNS-01 resolvers.
func acmeOptions(s *settings) (controller.ACMEOptions, error) {
	nameservers := s.dnsNameservers
	if len(nameservers) == 0 {
		nameservers = dnsutil.RecursiveNameservers
	}
	return controller.ACMEOptions{
		HTTP01SolverImage:                 s.solverImage,
		HTTP01SolverResourceRequestCPU:    resource.MustParse("10m"),
		HTTP01SolverResourceRequestMemory: resource.MustParse("64Mi"),
		HTTP01SolverResourceLimitsCPU:     resource.MustParse("100m"),
		HTTP01SolverResourceLimitsMemory:  resource.MustParse("64Mi"),
		ACMEHTTP01SolverRunAsNonRoot:      true,
		HTTP01SolverExtraLabels:           s.solverLabels,
		HTTP01SolverRuntimeClassName:      s.solverRuntimeClass,
		DNS01Nameservers:                  nameservers,
		DNS01CheckRetryPeriod:             10 * time.Second,
		DNS01CheckAuthoritative:           !s.dnsRecursiveOnly,
	}, nil
}

func serveMetrics(ctx context.Context, g *errgroup.Group, address string, cctx *controller.Context) error {
	if address == "0" {
		return nil
	}
	ln, err := server.Listen(ctx, "tcp", address)
	if err != nil {
		return err
	}
	informers := cctx.SharedInformerFactory.Certmanager().V1()
	cctx.Metrics.SetupACMECollector(cctx.SharedInformerFactory.Acme().V1().Challenges().Lister())
	cctx.Metrics.SetupCertificateCollector(informers.Certificates().Lister())
	cctx.Metrics.SetupIssuerCollector(informers.Issuers().Lister())
	cctx.Metrics.SetupClusterIssuerCollector(informers.ClusterIssuers().Lister())
	srv := cctx.Metrics.NewServer(ln)
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown) //nolint:contextcheck
	})
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// leaderElection holds the Lease upstream's controller holds (cert-manager-controller in the
// leader election namespace); losing it ends the process, as upstream's does.
func leaderElection(ctx context.Context, s *settings, factory *controller.ContextFactory, health *healthz.Server, elected chan struct{}) error {
	cctx, err := factory.Build("leader-election")
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return err
	}
	lock, err := resourcelock.NewWithLabels(resourcelock.LeasesResourceLock,
		s.leaseNamespace, "cert-manager-controller",
		cctx.Client.CoreV1(), cctx.Client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: host + "-external-cert-manager-controller", EventRecorder: cctx.Recorder},
		map[string]string{"app.kubernetes.io/managed-by": "cert-manager"})
	if err != nil {
		return err
	}
	lost := make(chan error, 1)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   s.lease,
		RenewDeadline:   s.renew,
		RetryPeriod:     s.retry,
		ReleaseOnCancel: true,
		WatchDog:        health.LeaderHealthzAdaptor,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost <- errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	elector.Run(ctx)
	select {
	case err := <-lost:
		return err
	default:
		return nil
	}
}
