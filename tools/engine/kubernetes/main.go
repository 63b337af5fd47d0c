// Command pulumi-resource-kubernetes serves the upstream provider with the schema that
// tools/engine/build.sh generates next to this file (schema-embed.json, git-ignored).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var mapping []byte

// version is set by build.sh (-ldflags -X main.version=...) to the Python SDK's version.
var version = "0.0.0-dev"

func main() {
	provider.Serve("kubernetes", version, schema, mapping)
}
