// Command pulumi-language-python (as build.sh installs it) stands in front of the Python
// language host built from sdk/v3@v3.79.0, which build.sh puts in .tools/engine/libexec.
//
// It starts that host with its own arguments and relays every gRPC call to it unchanged but
// one. CLI 3.259 starts a Python policy pack (`--policy-pack DIR`) with RunPlugin and names
// the pack in the request's `info` (a ProgramInfo: program directory DIR, entry point "."),
// leaving the deprecated `program` field empty. Host v3.79.0 predates `info`: it runs
// `python <program> <args>` in the request's `pwd`, which is the stack's program directory,
// so `python ""` ran the stack's own program (infra/__main__.py) instead of the pack, and the
// CLI failed with "could not read plugin". The shim sets `program` to DIR joined with the
// entry point when it is empty, so the host runs `python DIR <engine address>`: the pack's
// __main__.py. The shim also sets PYTHONUNBUFFERED=1 for the plugin: pulumi-policy (1.21)
// writes its gRPC port to stdout without flushing, so on a pipe it stays in Python's buffer
// and the CLI waits for it forever unless the user's own shell happens to set that variable
// (found by a CI run from an empty environment: every policy-pack preview hung). Nothing else
// is changed, so what the old host does not implement still answers Unimplemented and the CLI
// takes its fallbacks as before.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

const runPlugin = "/pulumirpc.LanguageRuntime/RunPlugin"

// frame is one gRPC message, relayed as the bytes it arrived as.
type frame struct{ data []byte }

// rawCodec leaves messages encoded: the shim decodes only the RunPlugin request.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*frame).data, nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*frame).data = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// unbuffered is appended last to the plugin's environment, so it wins over any value there.
const unbuffered = "PYTHONUNBUFFERED=1"

// fillProgram names the plugin in `program` the way host v3.79.0 reads it, from `info`, and
// makes the plugin's stdout unbuffered (the port it announces must reach the CLI).
func fillProgram(f *frame) error {
	var req pulumirpc.RunPluginRequest
	if err := proto.Unmarshal(f.data, &req); err != nil {
		return err
	}
	info := req.GetInfo()
	if req.GetProgram() == "" && info.GetProgramDirectory() != "" {
		req.Program = filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
	}
	if len(req.Env) == 0 {
		// An empty list means "inherit" to the host (exec.Cmd): keep that, plus ours.
		req.Env = os.Environ()
	}
	req.Env = append(req.Env, unbuffered)
	data, err := proto.Marshal(&req)
	f.data = data
	return err
}

// relay forwards one call (any method, any streaming shape) to the host and its answers back.
func relay(host *grpc.ClientConn) grpc.StreamHandler {
	return func(_ any, in grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(in)
		ctx, cancel := context.WithCancel(in.Context())
		defer cancel()
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			ctx = metadata.NewOutgoingContext(ctx, md.Copy())
		}
		desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
		out, err := host.NewStream(ctx, desc, method)
		if err != nil {
			return err
		}
		go func() {
			for {
				f := &frame{}
				if err := in.RecvMsg(f); err != nil {
					if errors.Is(err, io.EOF) {
						_ = out.CloseSend()
					} else {
						cancel() // the caller went away: so does the call to the host
					}
					return
				}
				if method == runPlugin {
					if err := fillProgram(f); err != nil {
						cancel()
						return
					}
				}
				if out.SendMsg(f) != nil {
					return // the host's status comes from RecvMsg below
				}
			}
		}()
		if header, err := out.Header(); err == nil && len(header) > 0 {
			if err := in.SendHeader(header); err != nil {
				return err
			}
		}
		for {
			f := &frame{}
			if err := out.RecvMsg(f); err != nil {
				in.SetTrailer(out.Trailer())
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err // a status error: its code and message reach the CLI unchanged
			}
			if err := in.SendMsg(f); err != nil {
				return err
			}
		}
	}
}

// hostCommand starts the real language host, ../libexec/pulumi-language-python from this
// binary, with the CLI's arguments. The host looks for its exec script next to itself unless
// told otherwise: it is told the one next to the shim, where build.sh installs it.
func hostCommand() (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return nil, err
	}
	bin := filepath.Dir(self)
	path := filepath.Join(bin, "..", "libexec", "pulumi-language-python")
	executor := "-use-executor=" + filepath.Join(bin, "pulumi-language-python-exec")
	return exec.Command(path, append([]string{executor}, os.Args[1:]...)...), nil
}

func run() (int, error) {
	host, err := hostCommand()
	if err != nil {
		return 1, err
	}
	host.Stdin, host.Stderr = os.Stdin, os.Stderr
	stdout, err := host.StdoutPipe()
	if err != nil {
		return 1, err
	}
	if err := host.Start(); err != nil {
		return 1, fmt.Errorf("starting the language host %s: %w", host.Path, err)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = host.Process.Signal(s)
		}
	}()

	// Like every plugin, the host prints its port first.
	lines := bufio.NewReader(stdout)
	port, readErr := lines.ReadString('\n')
	go func() { _, _ = io.Copy(os.Stdout, lines) }()
	if readErr != nil {
		_ = host.Wait()
		return max(exitCode(host.ProcessState), 1), errors.New("the language host printed no port")
	}

	callOptions := grpc.WithDefaultCallOptions(
		grpc.ForceCodec(rawCodec{}),
		grpc.MaxCallRecvMsgSize(math.MaxInt32),
		grpc.MaxCallSendMsgSize(math.MaxInt32),
	)
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port),
		grpc.WithTransportCredentials(insecure.NewCredentials()), callOptions)
	if err != nil {
		_ = host.Process.Kill()
		return 1, err
	}
	defer conn.Close()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = host.Process.Kill()
		return 1, err
	}
	server := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(relay(conn)),
		grpc.MaxRecvMsgSize(math.MaxInt32),
		grpc.MaxSendMsgSize(math.MaxInt32),
	)
	go func() { _ = server.Serve(listener) }()
	fmt.Printf("%d\n", listener.Addr().(*net.TCPAddr).Port)

	// The host exits when the CLI is done with it (or interrupts it): so does the shim.
	_ = host.Wait()
	server.Stop()
	return exitCode(host.ProcessState), nil
}

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python shim: %v\n", err)
	}
	os.Exit(code)
}

// exitCode is the host's exit status; 1 if a signal ended it.
func exitCode(state *os.ProcessState) int {
	if code := state.ExitCode(); code >= 0 {
		return code
	}
	return 1
}
