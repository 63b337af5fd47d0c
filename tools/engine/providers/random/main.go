// Command pulumi-resource-random serves random:index/randomPassword:RandomPassword, the one
// resource of the random package that this project uses.
//
// The pulumi-random provider module is not served by the module proxy at any version tried
// (see "Builds" in CONTRIBUTING.md), so the engine tests use this small
// provider instead: same type token, same inputs, same `result` output, replaced whenever an
// input changes. It reports the pinned SDK's version so the engine pairs them.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"mlflow-platform/tools/engine/providers/internal/base"
)

const passwordType = "random:index/randomPassword:RandomPassword"

// version is set by build.sh (-ldflags -X main.version=...) to the pulumi-random SDK's pin.
var version = "0.0.0-dev"

// Inputs of RandomPassword; a change to any of them replaces the password.
var inputKeys = []string{
	"length", "special", "upper", "lower", "numeric", "number", "overrideSpecial",
	"minLower", "minUpper", "minNumeric", "minSpecial", "keepers",
}

type randomProvider struct {
	base.Provider
}

func (randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if req.GetType() != passwordType {
		return nil, fmt.Errorf("unsupported resource type %q", req.GetType())
	}
	news := req.GetNews().GetFields()
	length, ok := news["length"]
	if !ok || length.GetNumberValue() < 1 {
		return &pulumirpc.CheckResponse{Failures: []*pulumirpc.CheckFailure{
			{Property: "length", Reason: "length must be at least 1"},
		}}, nil
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	replaces := base.Changed(req.GetOlds(), req.GetNews(), inputKeys)
	if len(replaces) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Replaces: replaces, Diffs: replaces,
	}, nil
}

func flag(fields map[string]*structpb.Value, key string) bool {
	value, ok := fields[key]
	return !ok || value.GetBoolValue()
}

func generate(fields map[string]*structpb.Value) (string, error) {
	var alphabet strings.Builder
	if flag(fields, "lower") {
		alphabet.WriteString("abcdefghijklmnopqrstuvwxyz")
	}
	if flag(fields, "upper") {
		alphabet.WriteString("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	}
	if flag(fields, "numeric") && flag(fields, "number") {
		alphabet.WriteString("0123456789")
	}
	if flag(fields, "special") {
		special := "!@#$%&*()-_=+[]{}<>:?"
		if override, ok := fields["overrideSpecial"]; ok {
			special = override.GetStringValue()
		}
		alphabet.WriteString(special)
	}
	chars := alphabet.String()
	if chars == "" {
		return "", fmt.Errorf("every character class is disabled")
	}
	length := int(fields["length"].GetNumberValue())
	out := make([]byte, length)
	for i := range out {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			return "", err
		}
		out[i] = chars[n.Int64()]
	}
	return string(out), nil
}

func (randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs := req.GetProperties().GetFields()
	outputs := base.Copy(req.GetProperties())
	result := plugin.UnknownStringValue
	if !req.GetPreview() {
		password, err := generate(inputs)
		if err != nil {
			return nil, err
		}
		result = password
	}
	outputs["result"] = structpb.NewStringValue(result)
	return &pulumirpc.CreateResponse{Id: "none", Properties: &structpb.Struct{Fields: outputs}}, nil
}

func (randomProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func main() {
	base.Serve("random", randomProvider{base.Provider{Name: "random", Version: version}})
}
