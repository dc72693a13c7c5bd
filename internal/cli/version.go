package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// specVersion is the version of docs/SPEC.md the command speaks.
const specVersion = "v1"

// versionInfo is `vds version -json`.
type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
	Spec    string `json:"spec"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "devel", Go: runtime.Version(), Spec: specVersion}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	return v
}

// RunVersion is `vds version`: the version of vds, of Go and of the SPEC.
func RunVersion(ctx context.Context, args []string) error {
	c := newCommon("version")
	asJSON := c.jsonFlag()
	if err := c.parse(args); err != nil {
		return err
	}
	v := buildVersion()
	if *asJSON {
		return printJSON(v)
	}
	fmt.Printf("vds %s (%s, SPEC %s)\n", v.Version, v.Go, v.Spec)
	return nil
}
