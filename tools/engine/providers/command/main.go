// Command pulumi-resource-command serves command:local:Command, the one resource of the command
// package that this project uses (the minikube cluster component runs minikube through it).
//
// The pulumi-command provider module is not served by the module proxy at any version tried
// (see "Builds" in CONTRIBUTING.md), so the engine tests use this small
// provider instead. It keeps the upstream contract for the inputs we use: `create` runs on
// create, `update` (or else `create`) on update, `delete` on delete, each through `interpreter`
// (default /bin/sh -c) in `dir` with `environment` and `stdin`; the previous stdout/stderr are
// in PULUMI_COMMAND_STDOUT/PULUMI_COMMAND_STDERR; `stdout`/`stderr` outputs lose one trailing
// newline; a change of `triggers` replaces the resource. Asset and archive capture are not
// implemented and are refused in Check; output is not streamed to the engine log.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"mlflow-platform/tools/engine/providers/internal/base"
)

const commandType = "command:local:Command"

// version is set by build.sh (-ldflags -X main.version=...) to the pulumi-command SDK's pin.
var version = "0.0.0-dev"

var inputKeys = []string{
	"create", "update", "delete", "dir", "environment", "interpreter", "stdin", "triggers",
	"logging", "addPreviousOutputInEnv", "assetPaths", "archivePaths",
}

type commandProvider struct {
	base.Provider
}

func (commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if req.GetType() != commandType {
		return nil, fmt.Errorf("unsupported resource type %q", req.GetType())
	}
	var failures []*pulumirpc.CheckFailure
	for _, key := range []string{"assetPaths", "archivePaths"} {
		if _, ok := req.GetNews().GetFields()[key]; ok {
			failures = append(failures, &pulumirpc.CheckFailure{
				Property: key, Reason: key + " is not supported by this test provider",
			})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	changed := base.Changed(req.GetOlds(), req.GetNews(), inputKeys)
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	// As upstream, whose schema marks triggers replaceOnChanges: new triggers, new resource.
	replaces := base.Changed(req.GetOlds(), req.GetNews(), []string{"triggers"})
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, Replaces: replaces,
	}, nil
}

func text(fields map[string]*structpb.Value, key string) string {
	return fields[key].GetStringValue()
}

// run executes script as the inputs describe; previous holds the last stdout/stderr, if any.
func run(script string, inputs, previous map[string]*structpb.Value) (string, string, error) {
	interpreter := []string{"/bin/sh", "-c"}
	if list := inputs["interpreter"].GetListValue().GetValues(); len(list) > 0 {
		interpreter = interpreter[:0]
		for _, part := range list {
			interpreter = append(interpreter, part.GetStringValue())
		}
	}
	cmd := exec.Command(interpreter[0], append(interpreter[1:], script)...)
	cmd.Dir = text(inputs, "dir")
	cmd.Env = os.Environ()
	for key, value := range inputs["environment"].GetStructValue().GetFields() {
		cmd.Env = append(cmd.Env, key+"="+value.GetStringValue())
	}
	addPrevious, set := inputs["addPreviousOutputInEnv"]
	if previous != nil && (!set || addPrevious.GetBoolValue()) {
		cmd.Env = append(cmd.Env,
			"PULUMI_COMMAND_STDOUT="+text(previous, "stdout"),
			"PULUMI_COMMAND_STDERR="+text(previous, "stderr"))
	}
	cmd.Stdin = strings.NewReader(text(inputs, "stdin"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out, errOut := strings.TrimSuffix(stdout.String(), "\n"), strings.TrimSuffix(stderr.String(), "\n")
	if err != nil {
		return out, errOut, fmt.Errorf("command failed: %w: %s", err, errOut)
	}
	return out, errOut, nil
}

// apply runs script (unless previewing) and returns the inputs plus stdout and stderr.
func apply(script string, props *structpb.Struct, previous map[string]*structpb.Value, preview bool) (*structpb.Struct, error) {
	outputs := base.Copy(props)
	if preview {
		outputs["stdout"] = structpb.NewStringValue(plugin.UnknownStringValue)
		outputs["stderr"] = structpb.NewStringValue(plugin.UnknownStringValue)
		return &structpb.Struct{Fields: outputs}, nil
	}
	stdout, stderr := "", ""
	if script != "" {
		var err error
		if stdout, stderr, err = run(script, props.GetFields(), previous); err != nil {
			return nil, err
		}
	}
	outputs["stdout"], outputs["stderr"] = structpb.NewStringValue(stdout), structpb.NewStringValue(stderr)
	return &structpb.Struct{Fields: outputs}, nil
}

func (commandProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	props := req.GetProperties()
	outputs, err := apply(text(props.GetFields(), "create"), props, nil, req.GetPreview())
	if err != nil {
		return nil, err
	}
	// A fresh ID per create, as upstream: other resources use it as a trigger for replacement.
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: hex.EncodeToString(id), Properties: outputs}, nil
}

func (commandProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	news := req.GetNews()
	script := text(news.GetFields(), "update")
	if script == "" {
		script = text(news.GetFields(), "create")
	}
	outputs, err := apply(script, news, req.GetOlds().GetFields(), req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: outputs}, nil
}

func (commandProvider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	state := req.GetProperties().GetFields()
	if script := text(state, "delete"); script != "" {
		if _, _, err := run(script, state, state); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func main() {
	base.Serve("command", commandProvider{base.Provider{Name: "command", Version: version}})
}
