package roles_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// fuzzDecode checks a message decoder: never a panic, and anything accepted
// re-encodes to the very same bytes (no malleability).
func fuzzDecode[T any](f *testing.F, seeds ...any) {
	for _, s := range seeds {
		b, err := codec.Default().Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v T
		if err := codec.Default().Unmarshal(data, &v); err != nil {
			return
		}
		out, err := codec.Default().Marshal(&v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("accepted %x, re-encodes to %x", data, out)
		}
	})
}

// fuzzSeeds returns real messages of a small system.
func fuzzSeeds(f *testing.F) (*roles.Answer, *roles.Answer, *roles.SignedState, *roles.StoreBatchRequest) {
	ctx := context.Background()
	l := newLocal(f)
	b := sampleBatch("fuzz", 4, 1)
	sh, err := l.Owner.CreateBatch(ctx, b)
	if err != nil {
		f.Fatal(err)
	}
	id, _ := sh.Header.Digest()
	ans, err := l.Server.Answer(ctx, &roles.Query{Batch: id, Kind: roles.QueryRange, Columns: []string{"temp", "load"}, From: 1, To: 4})
	if err != nil {
		f.Fatal(err)
	}
	win, err := l.Server.Answer(ctx, &roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: 1005, TimeTo: 1025})
	if err != nil {
		f.Fatal(err)
	}
	st, err := l.Owner.Revoke(ctx, id)
	if err != nil {
		f.Fatal(err)
	}
	data := make([]codec.ScalarVector, len(b.Columns))
	for i, c := range b.Columns {
		for _, v := range c.Values {
			data[i] = append(data[i], roles.FromInt64(v))
		}
	}
	req := &roles.StoreBatchRequest{Header: *sh, Data: roles.BatchData{Times: b.Timestamps, Columns: data, Gammas: make([]codec.Scalar, len(data))}}
	return ans, win, st, req
}

func FuzzDecodeAnswer(f *testing.F) {
	ans, win, _, _ := fuzzSeeds(f)
	fuzzDecode[roles.Answer](f, ans, win)
}

func FuzzDecodeQuery(f *testing.F) {
	ans, win, _, _ := fuzzSeeds(f)
	fuzzDecode[roles.Query](f, &ans.Query, &win.Query,
		&roles.Query{Kind: roles.QueryWeighted, Columns: []string{"a"}, Weights: codec.ScalarVector{roles.FromInt64(-3)}},
		&roles.Query{Kind: roles.QueryAudit, Columns: []string{"a", "b"}, Nonce: []byte("n")})
}

func FuzzDecodeSignedState(f *testing.F) {
	_, _, st, _ := fuzzSeeds(f)
	fuzzDecode[roles.SignedState](f, st)
}

func FuzzDecodeStoreBatchRequest(f *testing.F) {
	_, _, _, req := fuzzSeeds(f)
	fuzzDecode[roles.StoreBatchRequest](f, req)
}
