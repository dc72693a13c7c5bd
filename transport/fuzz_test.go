package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"testing"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// FuzzReadRequestHead checks the Unix framing's request head parser: no
// panic, and on success the parts add up to the declared length.
func FuzzReadRequestHead(f *testing.F) {
	frame := func(service, method string, body int) []byte {
		head := append(append(append([]byte{byte(len(service))}, service...), byte(len(method))), method...)
		b := binary.BigEndian.AppendUint32(nil, uint32(len(head)+body))
		return append(append(b, head...), make([]byte, body)...)
	}
	f.Add(frame("storage", "store_batch", 3))
	f.Add(frame("", "", 0))
	f.Add([]byte{0, 0, 0, 1, 9})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		size, service, method, err := readRequestHead(r)
		if err != nil {
			return
		}
		declared := int64(binary.BigEndian.Uint32(data))
		if size < 0 || size+2+int64(len(service))+int64(len(method)) != declared {
			t.Fatalf("head of %d bytes parsed as %q/%q and a body of %d", declared, service, method, size)
		}
	})
}

var (
	fuzzOnce sync.Once
	fuzzSvc  *Service
	fuzzReq  [][]byte
)

// fuzzStorage returns a storage service on a small CRS and encodings of
// store_batch and update_batch requests with forged headers.
func fuzzStorage(f *testing.F) (*Service, [][]byte) {
	fuzzOnce.Do(func() {
		crs, err := commitment.Setup(8, rand.Reader)
		if err != nil {
			panic(err)
		}
		o, err := roles.NewDataOwner(context.Background(), crs, memory.NewOwnerStore(), StorageClient{T: NewInProc(nil)})
		if err != nil {
			panic(err)
		}
		srv, err := roles.NewStorageServer(crs, o.Keys(), memory.NewServerStore())
		if err != nil {
			panic(err)
		}
		fuzzSvc = StorageService(srv)
		_, _, g1, g2 := bls.Generators()
		keys := o.Keys()
		h := roles.SignedHeader{Header: roles.Header{Format: roles.FormatVersion, CRS: srv.CRSDigest(), Owner: keys.ID(),
			KeyID: keys.Signing[0].ID, Stream: "s", Rows: 2, Columns: []roles.ColumnInfo{{Name: "v"}}, FirstTime: 1, LastTime: 2,
			TimeCommit: codec.G2(g2), Commits: []codec.G1{codec.G1(g1)}}, Sig: make([]byte, 64)}
		d := roles.BatchData{Times: []uint64{1, 2}, Columns: []codec.ScalarVector{make(codec.ScalarVector, 2)}, Gammas: make([]codec.Scalar, 1)}
		st, err := o.LatestState(context.Background())
		if err != nil {
			panic(err)
		}
		for _, v := range []any{&roles.StoreBatchRequest{Header: h, Data: d}, &roles.UpdateBatchRequest{State: *st, Header: h, Data: d}} {
			b, err := codec.Default().Marshal(v)
			if err != nil {
				panic(err)
			}
			fuzzReq = append(fuzzReq, b)
		}
	})
	return fuzzSvc, fuzzReq
}

// FuzzStagedBatchDecode feeds the storage service's store_batch and
// update_batch (header decoded and checked before the data) with arbitrary
// bodies: no panic, no success without the owner's signature, and every
// failure a wire error with a known code.
func FuzzStagedBatchDecode(f *testing.F) {
	svc, seeds := fuzzStorage(f)
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	o := buildOptions(nil)
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := []string{"store_batch", "update_batch"}[which%2]
		m, _ := svc.Method(name)
		_, we := serveBody(context.Background(), m, ServiceStorage, &o, data)
		if we == nil {
			t.Fatalf("%s accepted a request no owner signed", name)
		}
		if we.Code == "internal" {
			t.Fatalf("%s: internal error: %s", name, we.Message)
		}
	})
}

// FuzzHealthRequest feeds the health method arbitrary requests: a request
// that decodes re-encodes to bytes that decode to the same request (an
// explicit "ready": false is the only other form, and means the same), and
// the method answers it or refuses it with a known code, never panics.
func FuzzHealthRequest(f *testing.F) {
	svc, _ := fuzzStorage(f)
	m, _ := svc.Method("health")
	for _, r := range []any{&Empty{}, &HealthRequest{}, &HealthRequest{Ready: true}} {
		b, err := codec.Default().Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xa1, 0x65, 'r', 'e', 'a', 'd', 'y', 0xf4}) // {"ready": false}: not canonical (omitempty)
	o := buildOptions(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r HealthRequest
		if err := m.Codec.Unmarshal(data, &r); err == nil {
			b, err := codec.Default().Marshal(&r)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			var again HealthRequest
			if err := m.Codec.Unmarshal(b, &again); err != nil || again != r {
				t.Fatalf("%x decodes to %+v, which encodes to %x, which decodes to %+v (%v)", data, r, b, again, err)
			}
		}
		out, we := serveBody(context.Background(), m, ServiceStorage, &o, data)
		if we != nil {
			if we.Code == "internal" {
				t.Fatalf("internal error: %s", we.Message)
			}
			return
		}
		var h Health
		if err := codec.Default().Unmarshal(out, &h); err != nil {
			t.Fatalf("the answer does not decode: %v", err)
		}
		if (h.Ready != nil) != r.Ready {
			t.Fatalf("asked for readiness %v, got %v", r.Ready, h.Ready)
		}
	})
}
