package transport

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/roles"
)

// specMessages maps the CDDL rule names of SPEC §8.3 to the Go types that
// are on the wire under them.
var specMessages = map[string]any{
	"ColumnInfo": roles.ColumnInfo{}, "Header": roles.Header{}, "SignedHeader": roles.SignedHeader{},
	"BatchData": roles.BatchData{}, "StoreBatchRequest": roles.StoreBatchRequest{}, "UpdateBatchRequest": roles.UpdateBatchRequest{},
	"Revocation": roles.Revocation{}, "State": roles.State{}, "StreamHead": roles.StreamHead{}, "SignedState": roles.SignedState{},
	"SigningKey": roles.SigningKey{}, "OwnerKeys": roles.OwnerKeys{}, "KeyTime": roles.KeyTime{}, "Handover": roles.Handover{},
	"Query": roles.Query{}, "Witness": roles.WitnessWire{}, "WindowProof": roles.WindowProof{}, "Answer": roles.Answer{},
	"StreamEntry": roles.StreamEntry{}, "StreamQuery": roles.StreamQuery{}, "StreamProof": roles.StreamProof{},
	"EdgeRows": roles.EdgeRows{}, "StreamPart": roles.StreamPart{}, "StreamAnswer": roles.StreamAnswer{}, "StreamRequest": roles.StreamRequest{},
	"HeldRequest": HeldRequest{}, "HeldList": HeldList{},
	"Empty": Empty{}, "HealthRequest": HealthRequest{}, "Health": Health{}, "BatchRef": BatchRef{}, "StreamRef": StreamRef{}, "EpochRange": EpochRange{},
	"StateList": StateList{}, "BatchInfo": roles.BatchInfo{}, "BatchList": BatchList{}, "CRSFile": CRSFile{},
	"ColumnValues": ColumnValues{}, "NewBatch": NewBatch{}, "CreateResult": CreateResult{},
	"Row": roles.Row{}, "AppendRequest": AppendRequest{}, "AppendResponse": AppendResponse{},
	"UpdateRequest": UpdateRequest{}, "UpdateResult": UpdateResult{}, "UpdatePlan": UpdatePlan{},
	"VerifyRequest": VerifyRequest{}, "VerifyResult": VerifyResult{},
	"VerifyStreamRequest": VerifyStreamRequest{}, "VerifyStreamResult": VerifyStreamResult{},
	"VerifyManyRequest": VerifyManyRequest{}, "VerifyManyItem": VerifyManyItem{}, "VerifyManyResult": VerifyManyResult{},
	"WireError": WireError{},
}

// TestSpecCDDL checks that SPEC §8.3 lists every message with exactly the
// CBOR keys of its Go type, optional ("? key") exactly where the encoder
// omits a zero value: the SPEC cannot drift from the code.
func TestSpecCDDL(t *testing.T) {
	doc, err := os.ReadFile("../docs/SPEC.md")
	require.NoError(t, err)
	text := string(doc)
	start := strings.Index(text, "```cddl\n")
	require.GreaterOrEqual(t, start, 0, "no cddl block in SPEC.md")
	end := strings.Index(text[start+8:], "```")
	require.Greater(t, end, 0)
	block := text[start+8 : start+8+end]
	// Strip comments, then find "Name = { … }" rules.
	var lines []string
	for _, l := range strings.Split(block, "\n") {
		if i := strings.Index(l, ";"); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	block = strings.Join(lines, "\n")
	rule := regexp.MustCompile(`(?s)([A-Z][A-Za-z]*)\s*=\s*\{([^{}]*)\}`)
	member := regexp.MustCompile(`(\?\s*)?([a-z_0-9]+)\s*:`)
	found := map[string]bool{}
	for _, m := range rule.FindAllStringSubmatch(block, -1) {
		name, body := m[1], m[2]
		v, ok := specMessages[name]
		if !ok {
			t.Errorf("SPEC §8.3 defines %s, which no Go type here is mapped to", name)
			continue
		}
		found[name] = true
		var spec []string
		for _, mm := range member.FindAllStringSubmatch(body, -1) {
			spec = append(spec, keyString(mm[2], mm[1] != ""))
		}
		require.Equal(t, goKeys(reflect.TypeOf(v)), sortedCopy(spec), "CDDL of %s in SPEC §8.3", name)
	}
	for name := range specMessages {
		require.True(t, found[name], "SPEC §8.3 has no rule for %s", name)
	}
}

func keyString(key string, optional bool) string {
	if optional {
		return "? " + key
	}
	return key
}

func goKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("cbor")
		if tag == "-" || !f.IsExported() {
			continue
		}
		parts := strings.Split(tag, ",")
		opt := false
		for _, o := range parts[1:] {
			opt = opt || o == "omitempty" || o == "omitzero"
		}
		keys = append(keys, keyString(parts[0], opt))
	}
	return sortedCopy(keys)
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
