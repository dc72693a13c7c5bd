package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vdsproject/vds/roles"
)

// batchJSON is a batch in the JSON output of ingest and list.
type batchJSON struct {
	ID       string       `json:"id"`
	Stream   string       `json:"stream"`
	Seq      uint64       `json:"seq"`
	Version  uint32       `json:"version"`
	Rows     uint32       `json:"rows,omitempty"` // ingest, list
	T0       uint64       `json:"t0"`
	T1       uint64       `json:"t1"`
	Existing bool         `json:"existing,omitempty"` // ingest: already stored
	Revoked  *bool        `json:"revoked,omitempty"`  // list
	Columns  []columnJSON `json:"columns,omitempty"`  // list
	// list: the storage server's precomputed proof tables (columns with
	// one, the timestamps counting as one, and the bytes per column).
	ProofColumns     uint32 `json:"proof_columns,omitempty"`
	ProofBytesColumn uint64 `json:"proof_bytes_per_column,omitempty"`
}

type columnJSON struct {
	Name  string `json:"name"`
	Scale uint8  `json:"scale"`
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

// displayAll escapes names for printing (roles.Display).
func displayAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = roles.Display(n)
	}
	return out
}

// plural is "1 batch", "2 batches".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
