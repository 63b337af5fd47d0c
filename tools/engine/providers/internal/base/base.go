// Package base holds what the stand-in providers share: plugin info, a schema with just the
// package name and version, provider configuration with no settings, and input diffing.
package base

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Provider answers the package-level calls. Version is the pinned Python SDK's version, so the
// engine pairs the SDK with this plugin.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer
	Name    string
	Version string
}

func (p Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: p.Version}, nil
}

func (p Provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"` + p.Name + `","version":"` + p.Version + `"}`}, nil
}

func (Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (Provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (Provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: false, SupportsPreview: true}, nil
}

func (Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Changed lists the keys among `keys` whose value differs between olds and news.
func Changed(olds, news *structpb.Struct, keys []string) []string {
	var changed []string
	for _, key := range keys {
		before, hadBefore := olds.GetFields()[key]
		after, hasAfter := news.GetFields()[key]
		if hadBefore != hasAfter || (hasAfter && !proto.Equal(before, after)) {
			changed = append(changed, key)
		}
	}
	return changed
}

// Copy returns the fields of s in a new map, for outputs built from the inputs.
func Copy(s *structpb.Struct) map[string]*structpb.Value {
	out := map[string]*structpb.Value{}
	for key, value := range s.GetFields() {
		out[key] = value
	}
	return out
}

// Serve runs the provider's gRPC server the way the engine expects a plugin to.
func Serve(name string, server pulumirpc.ResourceProviderServer) {
	err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return server, nil
	})
	if err != nil {
		panic(err)
	}
}
