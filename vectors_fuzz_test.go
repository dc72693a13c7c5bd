package vds_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// verifierMethods are the methods the golden vectors call.
var verifierMethods = []string{"verify_dc_query", "verify_da_audit", "verify_time_proofs", "verify_stream", "verify_many", "update_global_pk"}

// FuzzVerifierRequests feeds mutations of every golden request to the
// verifier service of the vectors' system (holding epochs 0–2): whatever
// the body, the service answers — a result, or an error whose wire code
// names a sentinel, never "internal" — and does not panic.
func FuzzVerifierRequests(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join(vectorDir, "cases.json"))
	if err != nil {
		f.Fatal(err)
	}
	var cf struct {
		Cases []vCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &cf); err != nil {
		f.Fatal(err)
	}
	var base *vCase
	for i, c := range cf.Cases {
		if c.Name == "point/honest" {
			base = &cf.Cases[i]
		}
		for m, name := range verifierMethods {
			if name == c.Method {
				f.Add(uint8(m), mustHex(f, c.Request))
			}
		}
	}
	if base == nil {
		f.Fatal("no case point/honest")
	}
	var sys vSystem
	sb, err := os.ReadFile(filepath.Join(vectorDir, "system.json"))
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(sb, &sys); err != nil {
		f.Fatal(err)
	}
	crsFile, err := os.ReadFile(filepath.Join(vectorDir, sys.CRSFile))
	if err != nil {
		f.Fatal(err)
	}
	crs, err := commitment.Load(bytes.NewReader(crsFile))
	if err != nil {
		f.Fatal(err)
	}
	var keys roles.OwnerKeys
	if err := codec.Default().Unmarshal(mustHex(f, sys.OwnerKeys), &keys); err != nil {
		f.Fatal(err)
	}
	sts := make([]roles.SignedState, len(base.HeldStates))
	for i, h := range base.HeldStates {
		if err := codec.Default().Unmarshal(mustHex(f, h), &sts[i]); err != nil {
			f.Fatal(err)
		}
	}
	now := time.UnixMilli(base.Now)
	vk := crs.VerifierKey()
	f.Fuzz(func(t *testing.T, m uint8, body []byte) {
		v, err := roles.NewVerifier(vk, keys, roles.WithInitialState(&sts[0]), roles.WithVerifierClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(sts); i++ {
			if err := v.AcceptState(context.Background(), &sts[i]); err != nil {
				t.Fatal(err)
			}
		}
		h := transport.NewHTTPHandler([]*transport.Service{transport.VerifierService(v)})
		req := httptest.NewRequest(http.MethodPost, "/v1/verifier/"+verifierMethods[int(m)%len(verifierMethods)], bytes.NewReader(body))
		req.Header.Set("Content-Type", transport.ContentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			return
		}
		var we transport.WireError
		if err := codec.Default().Unmarshal(rec.Body.Bytes(), &we); err != nil {
			t.Fatalf("status %d with an undecodable error body: %v", rec.Code, err)
		}
		if we.Code == "" || we.Code == "internal" {
			t.Fatalf("status %d, code %q: %s", rec.Code, we.Code, we.Message)
		}
	})
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
