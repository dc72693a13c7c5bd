package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
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
	asJSON := c.fs.Bool("json", false, "print one JSON document")
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

// printJSON writes v as one JSON document on stdout.
func printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(escapeJSON(b), '\n'))
	return err
}

// escapeJSON escapes, as \uXXXX, every character of a JSON document that
// could act on a terminal (format and bidirectional characters, which
// encoding/json leaves as they are): names in the output come from remote
// peers. The document means the same: such characters only occur inside
// strings.
func escapeJSON(b []byte) []byte {
	var out []byte
	for _, r := range string(b) {
		if r == '\n' || unicode.IsPrint(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			out = fmt.Appendf(out, "\\u%04x\\u%04x", r1, r2)
			continue
		}
		out = fmt.Appendf(out, "\\u%04x", r)
	}
	return out
}
