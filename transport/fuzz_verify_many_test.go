package transport_test

import (
	"bytes"
	"testing"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/transport"
)

// fuzzRoundTrip checks that whatever decodes as T re-encodes to the same
// bytes.
func fuzzRoundTrip[T any](f *testing.F, seeds ...*T) {
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

func FuzzDecodeVerifyManyRequest(f *testing.F) {
	fuzzRoundTrip(f, &transport.VerifyManyRequest{}, &transport.VerifyManyRequest{Items: []transport.VerifyRequest{}})
}

func FuzzDecodeVerifyManyResult(f *testing.F) {
	fuzzRoundTrip(f, &transport.VerifyManyResult{Items: []transport.VerifyManyItem{
		{Result: &transport.VerifyResult{Columns: []string{"v"}, Values: []string{"1.5"}, Raw: []string{"15"}}},
		{Err: &transport.WireError{Code: "bad_proof", Message: "answer does not verify"}},
	}})
}
