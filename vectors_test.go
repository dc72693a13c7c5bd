package vds_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

var updateVectors = flag.Bool("update", false, "rewrite testdata/vectors/v<FormatVersion> from the seed (changes the frozen wire format: on purpose only)")

// vectorDir is where the golden vectors of the current wire format live:
// bumping roles.FormatVersion moves them to a new directory.
var vectorDir = filepath.Join("testdata", "vectors", fmt.Sprintf("v%d", roles.FormatVersion))

// goldenDigests pins the golden vectors of each wire format version: the
// digest (vectorsDigest) of the files the seed generates. -update rewrites
// the files but not this table, so a v1 whose bytes change fails here even
// after -update: a new format gets a new version and a new entry; adding
// cases to a version changes its entry in a commit that says so.
var goldenDigests = map[int]string{
	1: "95170229b847172c4ae58b313a2e8b7235eaa8cf489145f06bf2a35e5a352032", // issue 17: stream segments and held headers; issue 16: key rotation (additions only)
}

// vectorsDigest is SHA-256 over each generated file, in name order, as
// name ‖ 0x00 ‖ u64be(length) ‖ content.
func vectorsDigest(files vectorFiles, names []string) string {
	h := sha256.New()
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(files[name]))))
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestGoldenVectors regenerates the golden vectors from their seed and
// compares them byte for byte with testdata/vectors/v1 (-update rewrites
// them), then runs every case through a fresh verifier service, as a
// remote verifier receives it, and checks its verdict, result values and
// error code. See testdata/vectors/v1/README.md.
func TestGoldenVectors(t *testing.T) {
	files := generateVectors()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Run("pinned", func(t *testing.T) {
		want, ok := goldenDigests[roles.FormatVersion]
		require.True(t, ok, "no pinned digest for format v%d", roles.FormatVersion)
		if got := vectorsDigest(files, names); got != want {
			t.Errorf("the generated v%d vectors have digest %s, pinned %s: the wire format changed (bump roles.FormatVersion), or cases were added on purpose (update goldenDigests)", roles.FormatVersion, got, want)
		}
	})
	t.Run("regenerate", func(t *testing.T) {
		for _, name := range names {
			path := filepath.Join(vectorDir, name)
			if *updateVectors {
				require.NoError(t, os.MkdirAll(vectorDir, 0o755))
				require.NoError(t, os.WriteFile(path, files[name], 0o644))
				continue
			}
			have, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden file: a new format version needs `go test -run TestGoldenVectors . -update`")
			if !bytes.Equal(have, files[name]) {
				t.Errorf("%s differs from what the seed generates: the v%d wire format changed (bump roles.FormatVersion for a new format; -update only on purpose)", path, roles.FormatVersion)
			}
		}
	})
	if t.Failed() {
		return
	}

	var sys vSystem
	readJSON(t, "system.json", &sys)
	crsFile, err := os.ReadFile(filepath.Join(vectorDir, sys.CRSFile))
	require.NoError(t, err)
	crs, err := commitment.Load(bytes.NewReader(crsFile))
	require.NoError(t, err)
	require.Equal(t, sys.CRSDigest, hexDigest(crs.Digest()))
	var keys roles.OwnerKeys
	require.NoError(t, codec.Default().Unmarshal(unhex(t, sys.OwnerKeys), &keys))
	id := keys.ID()
	require.Equal(t, sys.OwnerID, hex.EncodeToString(id[:]))

	t.Run("messages", func(t *testing.T) {
		var f struct {
			Messages []vMessage `json:"messages"`
		}
		readJSON(t, "messages.json", &f)
		require.NotEmpty(t, f.Messages)
		for _, m := range f.Messages {
			t.Run(m.Name, func(t *testing.T) { checkMessage(t, &m) })
		}
	})

	var cf struct {
		Cases []vCase `json:"cases"`
	}
	readJSON(t, "cases.json", &cf)
	require.NotEmpty(t, cf.Cases)
	vk := crs.VerifierKey()
	t.Run("cases", func(t *testing.T) {
		for _, c := range cf.Cases {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				runCase(t, vk, keys, &c)
			})
		}
	})
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), name)
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func hexDigest(d commitment.Digest) string { return hex.EncodeToString(d[:]) }

// checkMessage decodes a message, re-encodes it to the same bytes and
// checks its digest.
func checkMessage(t *testing.T, m *vMessage) {
	raw := unhex(t, m.CBOR)
	var v any
	var digest func() []byte
	switch m.Type {
	case "CRSFile":
		f := new(transport.CRSFile)
		v, digest = f, func() []byte {
			crs, err := commitment.Load(bytes.NewReader(f.CRS))
			require.NoError(t, err)
			d := crs.Digest()
			return d[:]
		}
	case "OwnerKeys":
		k := new(roles.OwnerKeys)
		v, digest = k, func() []byte { require.NoError(t, k.Check()); d := k.ID(); return d[:] }
	case "Header":
		h := new(roles.Header)
		v, digest = h, func() []byte { d, err := h.Digest(); require.NoError(t, err); return d[:] }
	case "SignedHeader":
		h := new(roles.SignedHeader)
		v, digest = h, func() []byte { d, err := h.Header.Digest(); require.NoError(t, err); return d[:] }
	case "State":
		s := new(roles.State)
		v, digest = s, func() []byte { d, err := s.Digest(); require.NoError(t, err); return d[:] }
	case "SignedState":
		s := new(roles.SignedState)
		v, digest = s, func() []byte { d, err := s.State.Digest(); require.NoError(t, err); return d[:] }
	case "StreamEntry":
		e := new(roles.StreamEntry)
		v, digest = e, func() []byte { d := e.Leaf(); return d[:] }
	case "StreamHead":
		v = new(roles.StreamHead)
	case "Query":
		v = new(roles.Query)
	case "Answer":
		v = new(roles.Answer)
	case "StreamQuery":
		v = new(roles.StreamQuery)
	case "StreamAnswer":
		v = new(roles.StreamAnswer)
	case "StreamRequest":
		v = new(roles.StreamRequest)
	default:
		t.Fatalf("unknown message type %q", m.Type)
	}
	require.NoError(t, codec.Default().Unmarshal(raw, v))
	again, err := codec.Default().Marshal(v)
	require.NoError(t, err)
	require.Equal(t, m.CBOR, hex.EncodeToString(again), "decode then encode must give the same bytes")
	if digest != nil {
		require.NotEmpty(t, m.Digest)
		require.Equal(t, m.Digest, hex.EncodeToString(digest()))
	} else {
		require.Empty(t, m.Digest)
	}
}

// runCase runs one case through a fresh verifier service.
func runCase(t *testing.T, vk *commitment.VerifierKey, keys roles.OwnerKeys, c *vCase) {
	ctx := context.Background()
	require.NotEmpty(t, c.HeldStates)
	sts := make([]roles.SignedState, len(c.HeldStates))
	for i, h := range c.HeldStates {
		require.NoError(t, codec.Default().Unmarshal(unhex(t, h), &sts[i]))
	}
	now := time.UnixMilli(c.Now)
	v, err := roles.NewVerifier(vk, keys, roles.WithInitialState(&sts[0]), roles.WithVerifierClock(func() time.Time { return now }))
	require.NoError(t, err, "anchor state")
	for i := 1; i < len(sts); i++ {
		require.NoError(t, v.AcceptState(ctx, &sts[i]), "held state %d", i)
	}
	for i, h := range c.HeldHeaders {
		var sh roles.SignedHeader
		require.NoError(t, codec.Default().Unmarshal(unhex(t, h), &sh))
		_, err := v.HoldHeader(&sh)
		require.NoError(t, err, "held header %d", i)
	}
	h := transport.NewHTTPHandler([]*transport.Service{transport.VerifierService(v)})
	req := httptest.NewRequest(http.MethodPost, "/v1/verifier/"+c.Method, bytes.NewReader(unhex(t, c.Request)))
	req.Header.Set("Content-Type", transport.ContentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.Bytes()

	got := vExpected{Verdict: "ok"}
	if rec.Code != http.StatusOK {
		var we transport.WireError
		require.NoError(t, codec.Default().Unmarshal(body, &we), "error body")
		got = vExpected{Verdict: "error", Error: we.Code}
		t.Logf("error: %s", we.Message)
	} else {
		var res any
		switch c.Method {
		case "verify_dc_query", "verify_da_audit", "verify_time_proofs":
			var r transport.VerifyResult
			require.NoError(t, codec.Default().Unmarshal(body, &r))
			res = fromVerifyResult(&r)
		case "verify_stream":
			var r transport.VerifyStreamResult
			require.NoError(t, codec.Default().Unmarshal(body, &r))
			sr := vStreamResult{Stream: r.Stream, Epoch: r.Epoch, IAT: r.IssuedAt, Cols: r.Columns, Totals: r.Totals, Raw: r.Raw, Rows: r.Rows}
			for _, s := range r.Scales {
				sr.Scales = append(sr.Scales, int(s))
			}
			for _, e := range r.Batches {
				sr.Batches = append(sr.Batches, vEntry{Seq: e.Seq, Ver: e.Version, Batch: e.Batch.String(), T0: e.T0, T1: e.T1, Rev: e.Revoked})
			}
			res = sr
		case "verify_many":
			var r transport.VerifyManyResult
			require.NoError(t, codec.Default().Unmarshal(body, &r))
			var mr vManyResult
			for _, it := range r.Items {
				if it.Err != nil {
					mr.Items = append(mr.Items, vManyItem{Verdict: "error", Error: it.Err.Code})
					continue
				}
				require.NotNil(t, it.Result)
				vr := fromVerifyResult(it.Result)
				mr.Items = append(mr.Items, vManyItem{Verdict: "ok", Result: &vr})
			}
			res = mr
		case "update_global_pk":
			st := v.State()
			res = vStateResult{Epoch: st.State.Epoch, IAT: st.IssuedAt}
		default:
			t.Fatalf("unknown method %q", c.Method)
		}
		got.Result, err = json.Marshal(res)
		require.NoError(t, err)
	}
	require.Equal(t, c.Expected.Verdict, got.Verdict, "verdict (error %q)", got.Error)
	require.Equal(t, c.Expected.Error, got.Error, "error code")
	if c.Expected.Verdict == "ok" {
		var want, have any
		require.NoError(t, json.Unmarshal(c.Expected.Result, &want))
		require.NoError(t, json.Unmarshal(got.Result, &have))
		if !reflect.DeepEqual(want, have) {
			t.Errorf("result\nwant %s\nhave %s", c.Expected.Result, got.Result)
		}
	}
}

func fromVerifyResult(r *transport.VerifyResult) vResult {
	out := vResult{Batch: r.Batch.String(), Epoch: r.Epoch, Kind: uint8(r.Kind), Cols: r.Columns, Values: r.Values, Raw: r.Raw}
	if r.Kind == roles.QueryWindow {
		out.First, out.Last = u32(r.First), u32(r.Last)
	}
	return out
}
