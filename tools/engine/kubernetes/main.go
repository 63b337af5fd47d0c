// Command pulumi-resource-kubernetes serves the upstream provider with the schema that
// tools/engine/build.sh derives from the module's schema.json (schema-embed.json, git-ignored).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var mapping []byte

func main() {
	// version.Version is set by build.sh (-ldflags -X) to the pinned Python SDK's version.
	provider.Serve("kubernetes", version.Version, schema, mapping)
}
