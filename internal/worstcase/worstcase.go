// Package worstcase builds the largest messages each request limit of the
// transport allows (SPEC §8), and messages just past the structural
// limits, for the benchmarks and the security tests: every array at its
// maximum, every point present, every name at its longest.
//
// The messages are well-formed but not valid: headers carry a signature no
// key made, so a server decodes them as far as an unauthenticated peer can
// make it, and no further.
package worstcase

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"strings"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// g1 and g2 are valid points (multiples of the generators), so that
// decoding checks each of them in full.
var g1, g2 = func() (codec.G1, codec.G2) {
	_, _, a, b := bls.Generators()
	var p bls.G1Affine
	var q bls.G2Affine
	p.ScalarMultiplication(&a, big.NewInt(7))
	q.ScalarMultiplication(&b, big.NewInt(7))
	return codec.G1(p), codec.G2(q)
}()

func scalar(i int) codec.Scalar {
	var e fr.Element
	e.SetUint64(uint64(i) + 1)
	e.Neg(&e) // a full-width element
	return codec.Scalar(e)
}

// name returns a distinct name of exactly size bytes.
func name(i, size int) string {
	p := fmt.Sprintf("c%d-", i)
	return p + strings.Repeat("x", max(size-len(p), 0))
}

// Header returns a signed header at the limits: MaxColumns columns with
// names of MaxNameLen bytes, n rows, every commitment present, a forged
// signature.
func Header(n int, l roles.Limits) roles.SignedHeader {
	h := roles.Header{Format: roles.FormatVersion, KeyID: strings.Repeat("k", 16),
		Stream: name(0, l.MaxNameLen), Seq: math.MaxUint64, Version: math.MaxUint32, Rows: uint32(n),
		FirstTime: 1, LastTime: math.MaxUint64, TimeCommit: g2}
	for i := range l.MaxColumns {
		h.Columns = append(h.Columns, roles.ColumnInfo{Name: name(i, l.MaxNameLen), Scale: roles.MaxScale, Bits: 255})
		h.Commits = append(h.Commits, g1)
	}
	for i := range h.CRS {
		h.CRS[i], h.Owner[i] = 0xa5, 0x5a
	}
	return roles.SignedHeader{Header: h, Sig: bytes.Repeat([]byte{7}, 64)}
}

// Query returns a query at the limits: MaxColumns names of MaxNameLen
// bytes, n weights and a nonce of MaxNonceLen bytes (no kind has all of
// them; the decoder does not care).
func Query(n int, l roles.Limits) roles.Query {
	q := roles.Query{Kind: roles.QueryWeighted, Row: math.MaxUint32, From: math.MaxUint32, To: math.MaxUint32,
		TimeFrom: math.MaxUint64, TimeTo: math.MaxUint64, Nonce: bytes.Repeat([]byte{1}, l.MaxNonceLen)}
	for i := range l.MaxColumns {
		q.Columns = append(q.Columns, name(i, l.MaxNameLen))
	}
	q.Weights = make(codec.ScalarVector, n)
	for i := range q.Weights {
		q.Weights[i] = fr.Element(scalar(i))
	}
	return q
}

// Answer returns an answer at the limits: the query and header above,
// MaxColumns values, a proof and a window proof with four boundary times.
func Answer(n int, l roles.Limits) roles.Answer {
	a := roles.Answer{Query: Query(n, l), Header: Header(n, l), Epoch: math.MaxUint64,
		Witness: roles.WitnessWire{W: codec.G1OrIdentity(g1), U: scalar(0)}}
	for i := range l.MaxColumns {
		a.Values = append(a.Values, scalar(i))
	}
	p := g1
	a.Proof = &p
	a.Window = &roles.WindowProof{First: math.MaxUint32, Last: math.MaxUint32,
		Times: []uint64{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}, Proof: g1}
	return a
}

// VerifyRequest returns the largest request of verify_dc_query,
// verify_da_audit and verify_time_proofs.
func VerifyRequest(n int, l roles.Limits) *transport.VerifyRequest {
	return &transport.VerifyRequest{Query: Query(n, l), Answer: Answer(n, l)}
}

// StreamQuery returns a stream query at the limits: a stream name and
// MaxColumns column names of MaxNameLen bytes.
func StreamQuery(l roles.Limits) roles.StreamQuery {
	q := roles.StreamQuery{Stream: name(0, l.MaxNameLen), Kind: roles.QueryWindow, TimeFrom: math.MaxUint64, TimeTo: math.MaxUint64}
	for i := range l.MaxColumns {
		q.Columns = append(q.Columns, name(i, l.MaxNameLen))
	}
	return q
}

// StreamAnswer returns a stream answer at the limits: MaxStreamBatches
// parts, each with the header above, a witness, MaxColumns values and edge
// rows; a run of MaxStreamBatches+2 entries and Merkle proofs of 128 hashes
// each.
func StreamAnswer(n int, l roles.Limits) roles.StreamAnswer {
	a := roles.StreamAnswer{Query: StreamQuery(l), State: *State(l)}
	var h roles.Hash
	for i := range h {
		h[i] = 0xee
	}
	a.Proof = roles.StreamProof{Index: math.MaxUint64, Root: h, Entries: math.MaxUint64}
	for range 128 {
		a.Proof.Path = append(a.Proof.Path, h)
		a.Proof.RunProof = append(a.Proof.RunProof, h)
	}
	for i := range l.MaxStreamBatches + 2 {
		a.Proof.Run = append(a.Proof.Run, roles.StreamEntry{Seq: math.MaxUint64 - uint64(i), Version: math.MaxUint32, Batch: roles.BatchID(h),
			T0: math.MaxUint64, T1: math.MaxUint64, Revoked: true})
	}
	hdr := Header(n, l)
	part := roles.StreamPart{Header: &hdr, Witness: &roles.WitnessWire{W: codec.G1OrIdentity(g1), U: scalar(0)},
		Edge: &roles.EdgeRows{First: math.MaxUint32, Last: math.MaxUint32, Times: []uint64{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}}}
	for i := range l.MaxColumns {
		part.Values = append(part.Values, scalar(i))
	}
	for range l.MaxStreamBatches {
		a.Parts = append(a.Parts, part)
	}
	p := g1
	a.Pi = &p
	a.Seg, a.Segs = math.MaxUint32, math.MaxUint32
	return a
}

// VerifyStreamRequest returns a verify_stream request at the limits: the
// answer above, and as many more segments of that size as
// MaxStreamSegments and transport.MaxVerifyStreamBytes allow.
func VerifyStreamRequest(n int, l roles.Limits) *transport.VerifyStreamRequest {
	sq := StreamQuery(l)
	a := StreamAnswer(n, l)
	r := &transport.VerifyStreamRequest{Query: sq, Answer: a}
	b, err := codec.Default().Marshal(&a)
	if err != nil {
		panic(err) // fixed values: unreachable
	}
	one := int64(len(b))
	for len(r.Rest)+1 < l.MaxStreamSegments && int64(len(r.Rest)+2)*one+4096 <= transport.MaxVerifyStreamBytes {
		r.Rest = append(r.Rest, a)
	}
	return r
}

// StreamRequest returns a stream request at the limits: the stream query
// above, the largest segment number and MaxHeldBatches held digests.
func StreamRequest(l roles.Limits) roles.StreamRequest {
	r := roles.StreamRequest{Query: StreamQuery(l), Seg: math.MaxUint32}
	for i := range roles.MaxHeldBatches {
		var id roles.BatchID
		for j := range id {
			id[j] = byte(0x80 | i)
		}
		r.Held = append(r.Held, id)
	}
	return r
}

// State returns a signed state at the limits (with a revocation entry).
func State(l roles.Limits) *roles.SignedState {
	st := &roles.SignedState{State: roles.State{Format: roles.FormatVersion, Epoch: math.MaxUint64, Acc: g1,
		Revoked: &roles.Revocation{X: scalar(0)}}, IssuedAt: math.MinInt64, KeyID: name(0, l.MaxNameLen), Sig: bytes.Repeat([]byte{7}, 64),
		Head: roles.StreamHead{Streams: math.MaxUint64, Entries: math.MaxUint64}}
	return st
}

// BatchData returns the data of a batch at the limits: n timestamps and
// MaxColumns columns of n scalars.
func BatchData(n int, l roles.Limits) roles.BatchData {
	d := roles.BatchData{TimeGamma: scalar(0)}
	for i := range n {
		d.Times = append(d.Times, math.MaxUint64-uint64(n-i))
	}
	for c := range l.MaxColumns {
		col := make(codec.ScalarVector, n)
		for i := range col {
			col[i] = fr.Element(scalar(c*n + i))
		}
		d.Columns = append(d.Columns, col)
		d.Gammas = append(d.Gammas, scalar(c))
	}
	return d
}

// StoreBatch returns the largest request of store_batch.
func StoreBatch(n int, l roles.Limits) *roles.StoreBatchRequest {
	return &roles.StoreBatchRequest{Header: Header(n, l), Data: BatchData(n, l), State: State(l)}
}

// UpdateBatch returns the largest request of the storage server's
// update_batch.
func UpdateBatch(n int, l roles.Limits) *roles.UpdateBatchRequest {
	return &roles.UpdateBatchRequest{State: *State(l), Header: Header(n, l), Data: BatchData(n, l)}
}

// NewBatch returns the largest request of the owner's create_batch.
func NewBatch(n int, l roles.Limits) *transport.NewBatch {
	b := &transport.NewBatch{Stream: name(0, l.MaxNameLen)}
	for i := range n {
		b.Timestamps = append(b.Timestamps, math.MaxUint64-uint64(n-i))
	}
	for c := range l.MaxColumns {
		v := make([]int64, n)
		for i := range v {
			v[i] = math.MinInt64
		}
		b.Columns = append(b.Columns, transport.ColumnValues{Name: name(c, l.MaxNameLen), Scale: roles.MaxScale, Bits: 255, Values: v})
	}
	return b
}

// Requests returns the largest request of every method whose limit depends
// on n and the limits, by service and method name.
func Requests(n int, l roles.Limits) map[string]map[string]any {
	verify := VerifyRequest(n, l)
	q := Query(n, l)
	sq := StreamQuery(l)
	sr := StreamRequest(l)
	return map[string]map[string]any{
		transport.ServiceVerifier: {
			"verify_dc_query": verify, "verify_da_audit": verify, "verify_time_proofs": verify,
			"update_global_pk": State(l),
			"verify_stream":    VerifyStreamRequest(n, l),
			"held_batches":     &transport.HeldRequest{Stream: name(0, l.MaxNameLen), From: math.MaxUint64, To: math.MaxUint64},
		},
		transport.ServiceStorage: {
			"store_batch": StoreBatch(n, l), "update_batch": UpdateBatch(n, l), "add_revoked_item": State(l),
			"generate_dc_proof": &q, "generate_da_proof": &q, "generate_time_proofs": &q,
			"generate_stream_proof": &sq, "generate_stream_segment": &sr,
		},
		transport.ServiceOwner: {
			"create_batch": NewBatch(n, l),
			"update_batch": &transport.UpdateRequest{New: *NewBatch(n, l)},
			"check_update": &transport.UpdateRequest{New: *NewBatch(n, l)},
		},
	}
}

// Tags of the wire types, as they appear in an encoding: the tag head and
// the head of the byte string inside.
var (
	g1Head     = []byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x58, 48}
	scalarHead = []byte{0xda, 0x56, 0x44, 0x53, 0x03, 0x58, 32}
)

// Spoil overwrites every G1 point and every scalar in an encoded message
// with bytes that cannot decode (a compressed point with all flags set, a
// scalar above r). A decoder that rejects the spoiled message for its size
// rather than for a bad point or scalar looked at its size first.
func Spoil(msg []byte) []byte {
	out := bytes.Clone(msg)
	for _, h := range [][]byte{g1Head, scalarHead} {
		size := int(h[len(h)-1])
		for i := 0; ; {
			j := bytes.Index(out[i:], h)
			if j < 0 {
				break
			}
			at := i + j + len(h)
			for k := at; k < at+size && k < len(out); k++ {
				out[k] = 0xff
			}
			i = at
		}
	}
	return out
}

// OversizedHeader returns an encoded verify_dc_query request whose header
// carries k commitments (and k column names), every point spoiled.
func OversizedHeader(n int, l roles.Limits, k int) ([]byte, error) {
	r := VerifyRequest(n, l)
	h := &r.Answer.Header.Header
	h.Columns, h.Commits = nil, make([]codec.G1, k)
	for i := range k {
		h.Columns = append(h.Columns, roles.ColumnInfo{Name: fmt.Sprint(i)})
		h.Commits[i] = g1
	}
	return marshalSpoiled(r)
}

// OversizedValues returns an encoded verify_dc_query request whose answer
// carries k values, every scalar spoiled.
func OversizedValues(n int, l roles.Limits, k int) ([]byte, error) {
	r := VerifyRequest(n, l)
	r.Answer.Values = make([]codec.Scalar, k)
	for i := range r.Answer.Values {
		r.Answer.Values[i] = scalar(i)
	}
	return marshalSpoiled(r)
}

func marshalSpoiled(v any) ([]byte, error) {
	c, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: 1 << 30, MaxArrayElements: 1 << 24})
	if err != nil {
		return nil, err
	}
	b, err := c.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Spoil(b), nil
}
