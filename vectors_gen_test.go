package vds_test

// Generation of the golden vectors of testdata/vectors/v1 (see its README):
// a small system built from a fixed seed, honest answers from the real
// storage server, tampered variants of them, and the expected outcome of
// each computed from the plain data (never from the verifier under test).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// vectorSeed is the text every random input of the vectors derives from.
const vectorSeed = "vds golden vectors v1"

// vectorClockStart is the owner's clock at the first operation:
// 2026-01-01T00:00:00Z. The clock advances one second per operation.
const vectorClockStart = 1767225600000

// seededReader is a deterministic byte stream: SHA-256 in counter mode over
// seed ‖ 0x00 ‖ label ‖ 0x00 ‖ u64be(counter). For test vectors only.
type seededReader struct {
	label string
	ctr   uint64
	buf   []byte
}

func seeded(label string) *seededReader { return &seededReader{label: label} }

func (r *seededReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write([]byte(vectorSeed))
			h.Write([]byte{0})
			h.Write([]byte(r.label))
			h.Write([]byte{0})
			h.Write(binary.BigEndian.AppendUint64(nil, r.ctr))
			r.buf = h.Sum(nil)
			r.ctr++
		}
		c := copy(p[n:], r.buf)
		r.buf = r.buf[c:]
		n += c
	}
	return n, nil
}

// fakeClock is the owner's clock: fixed, advanced by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) tick()          { c.t = c.t.Add(time.Second) }

// deferredStorage lets the owner start before its storage server exists
// (the server needs the owner's keys).
type deferredStorage struct{ roles.StorageClient }

// JSON shapes of the vector files (README.md).

type vSystem struct {
	Format        int            `json:"format"`
	N             int            `json:"n"`
	CRSFile       string         `json:"crs_file"`
	CRSDigest     string         `json:"crs_digest"`
	OwnerKeys     string         `json:"owner_keys"`
	OwnerID       string         `json:"owner_id"`
	KeyIDs        []string       `json:"key_ids"`
	MaxStateAgeMs int64          `json:"max_state_age_ms"`
	Limits        vLimits        `json:"limits"`
	Seed          string         `json:"seed"`
	Counts        map[string]int `json:"counts"`
}

type vLimits struct {
	MaxColumns       int `json:"max_columns"`
	MaxNameLen       int `json:"max_name_len"`
	MaxNonceLen      int `json:"max_nonce_len"`
	MaxStreamBatches int `json:"max_stream_batches"`
}

type vMessage struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	CBOR        string `json:"cbor"`
	Digest      string `json:"digest,omitempty"`
}

type vCase struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Kind        string    `json:"kind"`
	Method      string    `json:"method"`
	HeldStates  []string  `json:"held_states"`
	HeldHeaders []string  `json:"held_headers,omitempty"`
	Now         int64     `json:"now"`
	Request     string    `json:"request"`
	Expected    vExpected `json:"expected"`
}

type vExpected struct {
	Verdict string          `json:"verdict"` // "ok" or "error"
	Result  json.RawMessage `json:"result,omitempty"`
	Error   string          `json:"error,omitempty"`
}

type vResult struct {
	Batch  string   `json:"batch"`
	Epoch  uint64   `json:"epoch"`
	Kind   uint8    `json:"kind"`
	Cols   []string `json:"cols"`
	Values []string `json:"values"`
	Raw    []string `json:"raw"`
	First  *uint32  `json:"first,omitempty"`
	Last   *uint32  `json:"last,omitempty"`
}

type vEntry struct {
	Seq   uint64 `json:"seq"`
	Ver   uint32 `json:"ver"`
	Batch string `json:"batch"`
	T0    uint64 `json:"t0"`
	T1    uint64 `json:"t1"`
	Rev   bool   `json:"rev,omitempty"`
}

type vStreamResult struct {
	Stream  string   `json:"stream"`
	Epoch   uint64   `json:"epoch"`
	IAT     int64    `json:"iat"`
	Cols    []string `json:"cols"`
	Totals  []string `json:"totals"`
	Raw     []string `json:"raw"`
	Scales  []int    `json:"scales"`
	Batches []vEntry `json:"batches"`
	Rows    uint64   `json:"rows"`
}

type vManyItem struct {
	Verdict string   `json:"verdict"`
	Result  *vResult `json:"result,omitempty"`
	Error   string   `json:"error,omitempty"`
}

type vManyResult struct {
	Items []vManyItem `json:"items"`
}

type vStateResult struct {
	Epoch uint64 `json:"epoch"`
	IAT   int64  `json:"iat"`
}

// plainBatch is a batch as the generator made it: its data in the clear.
type plainBatch struct {
	label  string
	stream string
	times  []uint64
	cols   []roles.Column
	hdr    *roles.SignedHeader
	id     roles.BatchID
}

func (b *plainBatch) column(name string) *roles.Column {
	for i := range b.cols {
		if b.cols[i].Name == name {
			return &b.cols[i]
		}
	}
	panic("no column " + name)
}

// generator builds the system and collects the vectors.
type generator struct {
	ctx     context.Context
	clk     *fakeClock
	crs     *commitment.CRS
	crsFile []byte
	owner   *roles.DataOwner
	server  *roles.StorageServer
	sstore  *memory.ServerStore
	signKey ed25519.PrivateKey
	keys    roles.OwnerKeys
	byLabel map[string]*plainBatch
	byID    map[roles.BatchID]*plainBatch

	messages []vMessage
	cases    []vCase
}

// vectorFiles are the generated files, by name relative to the vector
// directory.
type vectorFiles map[string][]byte

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func enc(v any) []byte { return must(codec.Default().Marshal(v)) }

// Stream layout: sensor batches start 200 s apart, rows 10 s apart.
const (
	sensorStart = 1767139200000 // 2025-12-31T00:00:00Z
	batchStride = 200_000
	rowStep     = 10_000
)

func sensorBatch(b, rows int, shift uint64, salt int) *roles.Batch {
	ts := make([]uint64, rows)
	temp := make([]int64, rows)
	count := make([]int64, rows)
	for i := range rows {
		ts[i] = sensorStart + uint64(b)*batchStride + shift + uint64(i)*rowStep
		temp[i] = int64((i*37+b*11+salt*5)%601) - 300 // tenths of a degree, negative too
		count[i] = int64((i*13 + b*7 + salt) % 97)
	}
	return &roles.Batch{Stream: "sensor", Timestamps: ts, Columns: []roles.Column{
		{Name: "temp", Scale: 1, Bits: 16, Values: temp},
		{Name: "count", Scale: 0, Bits: 64, Values: count},
	}}
}

func auxBatch() *roles.Batch {
	return &roles.Batch{Stream: "aux", Timestamps: []uint64{sensorStart + 5, sensorStart + 7, sensorStart + 11, sensorStart + 13},
		Columns: []roles.Column{{Name: "v", Scale: 2, Bits: 40, Values: []int64{12345, -99, 0, 700000}}}}
}

// newOwner starts an owner and its storage server from seeded keys.
func newOwner(ctx context.Context, crs *commitment.CRS, clk *fakeClock, prefix string) (*roles.DataOwner, *roles.StorageServer, *memory.ServerStore, ed25519.PrivateKey) {
	var seed [ed25519.SeedSize]byte
	must(seeded(prefix + "-sign").Read(seed[:]))
	key := ed25519.NewKeyFromSeed(seed[:])
	signer := must(roles.NewEd25519Signer(key))
	d := &deferredStorage{}
	o := must(roles.NewDataOwner(ctx, crs, memory.NewOwnerStore(), d,
		roles.WithSigner(signer), roles.WithRandom(seeded(prefix)), roles.WithClock(clk.now)))
	st := memory.NewServerStore()
	s := must(roles.NewStorageServer(crs, o.Keys(), st, roles.WithoutPrecompute()))
	d.StorageClient = s
	if err := o.Sync(ctx); err != nil {
		panic(err)
	}
	return o, s, st, key
}

func (g *generator) ingest(label string, b *roles.Batch) *plainBatch {
	g.clk.tick()
	r := must(g.owner.Ingest(g.ctx, b))
	return g.record(label, b, r.Header)
}

func (g *generator) record(label string, b *roles.Batch, h *roles.SignedHeader) *plainBatch {
	p := &plainBatch{label: label, stream: b.Stream, times: b.Timestamps, cols: b.Columns, hdr: h, id: must(h.Header.Digest())}
	g.byLabel[label] = p
	g.byID[p.id] = p
	return p
}

func (g *generator) latest() *roles.SignedState { return must(g.owner.LatestState(g.ctx)) }

func (g *generator) message(name, typ, desc string, v any, digest []byte) {
	m := vMessage{Name: name, Type: typ, Description: desc, CBOR: hexOf(enc(v))}
	if digest != nil {
		m.Digest = hexOf(digest)
	}
	g.messages = append(g.messages, m)
}

// held encodes a list of states as a case's held_states.
func held(sts ...*roles.SignedState) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = hexOf(enc(st))
	}
	return out
}

func okWith(v any) vExpected { return vExpected{Verdict: "ok", Result: must(json.Marshal(v))} }
func errWith(code string) vExpected {
	return vExpected{Verdict: "error", Error: code}
}

func (g *generator) add(name, kind, method, desc string, hs []string, now int64, req []byte, exp vExpected) {
	for _, c := range g.cases {
		if c.Name == name {
			panic("duplicate case " + name)
		}
	}
	g.cases = append(g.cases, vCase{Name: name, Description: desc, Kind: kind, Method: method, HeldStates: hs, Now: now, Request: hexOf(req), Expected: exp})
}

// addHeld adds a case whose verifier holds the given headers (hex
// SignedHeader encodings) before the request.
func (g *generator) addHeld(name, kind, method, desc string, hs, headers []string, now int64, req []byte, exp vExpected) {
	g.add(name, kind, method, desc, hs, now, req, exp)
	g.cases[len(g.cases)-1].HeldHeaders = headers
}

// answer asks the storage server.
func (g *generator) answer(q roles.Query) *roles.Answer {
	return must(g.server.Answer(g.ctx, &q))
}

func verifyReq(q roles.Query, a *roles.Answer) []byte {
	return enc(&transport.VerifyRequest{Query: q, Answer: *a})
}

// clone deep-copies an answer through its encoding.
func clone[T any](v *T) *T {
	var out T
	if err := codec.Default().Unmarshal(enc(v), &out); err != nil {
		panic(err)
	}
	return &out
}

// expectBatch computes the result of a query from the plain data.
func expectBatch(b *plainBatch, q *roles.Query, epoch uint64, weights []int64, ans *roles.Answer) vResult {
	r := vResult{Batch: b.id.String(), Epoch: epoch, Kind: uint8(q.Kind), Cols: q.Columns}
	if q.Kind == roles.QueryAudit {
		// A random linear combination: its value is what it is (the proof
		// is what the verifier checks); printed in [0, r).
		for i := range q.Columns {
			x := fr.Element(ans.Values[i])
			s := x.BigInt(new(big.Int)).String()
			r.Values, r.Raw = append(r.Values, s), append(r.Raw, s)
		}
		return r
	}
	var rows []int // 0-based rows and their weights
	var ws []int64
	switch q.Kind {
	case roles.QueryPoint:
		rows, ws = []int{int(q.Row) - 1}, []int64{1}
	case roles.QueryRange:
		for i := q.From; i <= q.To; i++ {
			rows, ws = append(rows, int(i)-1), append(ws, 1)
		}
	case roles.QueryWeighted:
		for i, w := range weights {
			rows, ws = append(rows, i), append(ws, w)
		}
	case roles.QueryWindow:
		first, last := uint32(0), uint32(0)
		for i, t := range b.times {
			if t >= q.TimeFrom && t <= q.TimeTo {
				rows, ws = append(rows, i), append(ws, 1)
				if first == 0 {
					first = uint32(i) + 1
				}
				last = uint32(i) + 1
			}
		}
		if first == 0 { // empty: first is the row after the window
			first = uint32(len(b.times)) + 1
			for i, t := range b.times {
				if t > q.TimeTo {
					first = uint32(i) + 1
					break
				}
			}
			last = first - 1
		}
		r.First, r.Last = &first, &last
	}
	for _, name := range q.Columns {
		c := b.column(name)
		sum := new(big.Int)
		for i, row := range rows {
			sum.Add(sum, new(big.Int).Mul(big.NewInt(c.Values[row]), big.NewInt(ws[i])))
		}
		r.Values = append(r.Values, roles.FormatDecimal(sum, c.Scale))
		r.Raw = append(r.Raw, sum.String())
	}
	return r
}

// expectStream computes the result of a stream query from the plain data
// and the owner's entries.
func (g *generator) expectStream(q *roles.StreamQuery, st *roles.SignedState, entries []roles.StreamEntry) vStreamResult {
	r := vStreamResult{Stream: q.Stream, Epoch: st.State.Epoch, IAT: st.IssuedAt, Cols: q.Columns}
	lo, hi := 0, -1 // the entries that meet the window
	for i, e := range entries {
		if e.T1 >= q.TimeFrom && e.T0 <= q.TimeTo {
			if hi < lo {
				lo = i
			}
			hi = i
		}
	}
	for i := lo; i <= hi; i++ {
		if e := entries[i]; !e.Revoked {
			r.Batches = append(r.Batches, vEntry{Seq: e.Seq, Ver: e.Version, Batch: e.Batch.String(), T0: e.T0, T1: e.T1})
		}
	}
	sums := make([]*big.Int, len(q.Columns))
	scales := make([]uint8, len(q.Columns))
	for i := range sums {
		sums[i] = new(big.Int)
	}
	for i := lo; i <= hi; i++ {
		if entries[i].Revoked {
			continue
		}
		b := g.byID[entries[i].Batch]
		for j, name := range q.Columns {
			c := b.column(name)
			scales[j] = max(scales[j], c.Scale) // every batch has the same scales here
			for row, t := range b.times {
				if t >= q.TimeFrom && t <= q.TimeTo {
					sums[j].Add(sums[j], big.NewInt(c.Values[row]))
				}
			}
		}
		for _, t := range b.times {
			if t >= q.TimeFrom && t <= q.TimeTo {
				r.Rows++
			}
		}
	}
	for j := range sums {
		r.Totals = append(r.Totals, roles.FormatDecimal(sums[j], scales[j]))
		r.Raw = append(r.Raw, sums[j].String())
		r.Scales = append(r.Scales, int(scales[j]))
	}
	return r
}

// replaceOnce replaces the only occurrence of old in b.
func replaceOnce(b, old, new []byte) []byte {
	if n := bytes.Count(b, old); n != 1 {
		panic(fmt.Sprintf("replaceOnce: %d occurrences", n))
	}
	return bytes.Replace(b, old, new, 1)
}

// CBOR heads of the tagged items (codec/wire.go).
var (
	headG1       = []byte{0xda, 0x56, 0x44, 0x53, 0x01, 0x58, 0x30}
	headScalar   = []byte{0xda, 0x56, 0x44, 0x53, 0x03, 0x58, 0x20}
	identityG1   = []byte{0xda, 0x56, 0x44, 0x53, 0x04, 0x40}
	notOnCurveG1 = must(hex.DecodeString("97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bc"))
	notInGroupG1 = must(hex.DecodeString("ae396c9722159d60c661c1495767cba5099e29d748014feebf1c3e32f29ab1c8b677481bfb784d1606814ce8c628f35c"))
)

func g1Item(p *codec.G1) []byte {
	b := (*bls.G1Affine)(p).Bytes()
	return append(slices.Clone(headG1), b[:]...)
}

func scalarItem(s *codec.Scalar) []byte {
	b := (*fr.Element)(s).Bytes()
	return append(slices.Clone(headScalar), b[:]...)
}

// shiftG1 returns p + g: another valid point.
func shiftG1(p *codec.G1) *codec.G1 {
	_, _, g1, _ := bls.Generators()
	var q bls.G1Affine
	q.Add((*bls.G1Affine)(p), &g1)
	c := codec.G1(q)
	return &c
}

// resign signs a modified header with the owner's key.
func resign(key ed25519.PrivateKey, h *roles.Header) roles.SignedHeader {
	id := must(h.Digest())
	return roles.SignedHeader{Header: *h, Sig: ed25519.Sign(key, id[:])}
}

func u32(v uint32) *uint32 { return &v }

// generateVectors builds the whole vector set.
func generateVectors() vectorFiles {
	ctx := context.Background()
	g := &generator{ctx: ctx, clk: &fakeClock{t: time.UnixMilli(vectorClockStart)},
		byLabel: map[string]*plainBatch{}, byID: map[roles.BatchID]*plainBatch{}}
	g.crs = must(commitment.Setup(16, seeded("crs")))
	g.crsFile = must(g.crs.MarshalBinary())
	g.owner, g.server, g.sstore, g.signKey = newOwner(ctx, g.crs, g.clk, "owner")
	g.keys = g.owner.Keys()
	epoch0First := g.latest()

	// Epoch 0: the batches.
	b0 := g.ingest("sensor-0", sensorBatch(0, 16, 0, 0))
	g.ingest("sensor-1", sensorBatch(1, 10, 0, 0))
	g.ingest("sensor-2", sensorBatch(2, 12, 0, 0))
	g.ingest("sensor-3", sensorBatch(3, 8, 0, 0))
	oldHead := g.latest()
	staleQ := roles.StreamQuery{Stream: "sensor", Kind: roles.QueryWindow, Columns: []string{"temp"}, TimeFrom: sensorStart, TimeTo: sensorStart + 10*batchStride}
	staleAns := must(g.server.AnswerStream(ctx, &staleQ))
	g.ingest("sensor-4", sensorBatch(4, 16, 0, 0))
	g.ingest("aux-0", auxBatch())
	s0 := g.latest()
	now0 := s0.IssuedAt + 1000

	// Answers at epoch 0.
	cols2 := []string{"temp", "count"}
	pointQ0 := roles.Query{Batch: b0.id, Kind: roles.QueryPoint, Columns: cols2, Row: 5}
	point0 := g.answer(pointQ0)
	b1 := g.byLabel["sensor-1"]
	rangeQ1 := roles.Query{Batch: b1.id, Kind: roles.QueryRange, Columns: []string{"temp"}, From: 2, To: 9}
	range0 := g.answer(rangeQ1)
	b2 := g.byLabel["sensor-2"]
	pointQ2 := roles.Query{Batch: b2.id, Kind: roles.QueryPoint, Columns: cols2, Row: 3}
	point2e0 := g.answer(pointQ2)

	// Epoch 1: sensor-2 revoked. Epoch 2: sensor-3 updated.
	g.clk.tick()
	s1 := must(g.owner.Revoke(ctx, b2.id))
	g.clk.tick()
	b3 := g.byLabel["sensor-3"]
	nb := sensorBatch(3, 8, 1000, 1)
	h3, s2 := must2(g.owner.Update(ctx, b3.id, nb))
	b3v1 := g.record("sensor-3v1", nb, h3)
	now2 := s2.IssuedAt + 1000
	if c := *s1; true {
		signState(g.signKey, &c)
		if !bytes.Equal(c.Sig, s1.Sig) {
			panic("signState does not sign as the owner does")
		}
	}
	chain := held(s0, s1, s2)
	// side stores sensor-0's data under a modified, validly signed header
	// in a server of its own (bypassing the server's checks), so that its
	// answers are honest but for the header.
	side := func(h roles.Header) (*roles.StorageServer, roles.BatchID) {
		sh := resign(g.signKey, &h)
		id := must(h.Digest())
		stored := must(g.sstore.Batch(ctx, b0.id))
		st := memory.NewServerStore()
		srv := must(roles.NewStorageServer(g.crs, g.keys, st, roles.WithoutPrecompute()))
		for _, s := range []*roles.SignedState{s0, s1, s2} {
			if err := srv.ApplyState(ctx, s); err != nil {
				panic(err)
			}
		}
		if err := st.PutBatch(ctx, &roles.StoredBatch{ID: id, Header: sh, Data: stored.Data}); err != nil {
			panic(err)
		}
		return srv, id
	}

	// Other parties: a second owner, a second CRS.
	other, otherServer, _, _ := newOwner(ctx, g.crs, g.clk, "other")
	g.clk.tick()
	otherHdr := must(other.Ingest(ctx, sensorBatch(0, 16, 0, 0))).Header
	otherID := must(otherHdr.Header.Digest())
	otherCRS := must(commitment.Setup(16, seeded("crs-other")))

	// Messages.
	g.message("crs_file", "CRSFile", "the owner's get_crs response: the CRS file (crs.bin) and the owner's keys", &transport.CRSFile{CRS: g.crsFile, Keys: g.keys}, digestBytes(g.crs.Digest()))
	ownerID := g.keys.ID()
	g.message("owner_keys", "OwnerKeys", "the owner's public keys: accumulator key ĝ^s and one Ed25519 key", &g.keys, ownerID[:])
	d0 := must(b0.hdr.Header.Digest())
	g.message("header/sensor-0", "Header", "header of batch 0 of stream sensor (16 rows, columns temp scale 1 bits 16, count scale 0 bits 64)", &b0.hdr.Header, d0[:])
	g.message("signed_header/sensor-0", "SignedHeader", "the same header, signed", b0.hdr, d0[:])
	d3 := must(b3v1.hdr.Header.Digest())
	g.message("signed_header/sensor-3v1", "SignedHeader", "batch 3 of sensor after its update: version 1", b3v1.hdr, d3[:])
	da := g.byLabel["aux-0"]
	g.message("signed_header/aux-0", "SignedHeader", "the only batch of stream aux (4 rows, column v scale 2 bits 40)", da.hdr, da.id[:])
	for _, s := range []struct {
		name, desc string
		st         *roles.SignedState
	}{
		{"epoch0/first", "epoch 0 as the owner first signs it: f_0 = g, no batch, empty stream head", epoch0First},
		{"epoch0", "epoch 0 re-signed after the last batch was ingested (the stream head counts 6 entries in 2 streams)", s0},
		{"epoch1", "epoch 1: sensor-2 revoked", s1},
		{"epoch2", "epoch 2: sensor-3 updated (version 0 revoked, version 1 in its place)", s2},
	} {
		sd := must(s.st.State.Digest())
		g.message("state/"+s.name, "State", s.desc, &s.st.State, sd[:])
		g.message("signed_state/"+s.name, "SignedState", s.desc, s.st, sd[:])
	}
	g.message("stream_head/epoch2", "StreamHead", "the stream head signed with epoch 2", &s2.Head, nil)
	entries := g.owner.StreamEntries("sensor")
	for _, i := range []int{0, 2, 3} {
		e := entries[i]
		l := e.Leaf()
		g.message(fmt.Sprintf("stream_entry/sensor-%d", i), "StreamEntry", fmt.Sprintf("entry %d of stream sensor at epoch 2 (revoked: %v, version %d)", i, e.Revoked, e.Version), &e, l[:])
	}
	g.message("query/point", "Query", "a point query", &pointQ0, nil)
	g.message("answer/point", "Answer", "the storage server's answer to it at epoch 0", point0, nil)

	// Per-batch queries at epoch 0.
	h0 := held(s0)
	g.add("point/epoch0/honest", "point", "verify_dc_query", "row 5 of sensor-0, both columns, at epoch 0 (the witness is the identity with u = 1 before any revocation)", h0, now0,
		verifyReq(pointQ0, point0), okWith(expectBatch(b0, &pointQ0, 0, nil, nil)))
	g.add("range/epoch0/honest", "range", "verify_dc_query", "rows 2..9 of sensor-1, column temp, at epoch 0", h0, now0,
		verifyReq(rangeQ1, range0), okWith(expectBatch(b1, &rangeQ1, 0, nil, nil)))

	// Epoch 2 answers.
	point := g.answer(pointQ0)
	g.add("point/honest", "point", "verify_dc_query", "row 5 of sensor-0, both columns, at epoch 2 (held: epochs 0, 1, 2)", chain, now2,
		verifyReq(pointQ0, point), okWith(expectBatch(b0, &pointQ0, 2, nil, nil)))
	pointQ1 := roles.Query{Batch: b0.id, Kind: roles.QueryPoint, Columns: []string{"count"}, Row: 16}
	g.add("point/last-row", "point", "verify_dc_query", "row 16 (the last) of sensor-0, column count", chain, now2,
		verifyReq(pointQ1, g.answer(pointQ1)), okWith(expectBatch(b0, &pointQ1, 2, nil, nil)))
	pointQ3 := roles.Query{Batch: b3v1.id, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 1}
	g.add("point/updated-batch", "point", "verify_dc_query", "row 1 of sensor-3 version 1 (the update)", chain, now2,
		verifyReq(pointQ3, g.answer(pointQ3)), okWith(expectBatch(b3v1, &pointQ3, 2, nil, nil)))

	rng := g.answer(rangeQ1)
	g.add("range/honest", "range", "verify_dc_query", "rows 2..9 of sensor-1, column temp", chain, now2,
		verifyReq(rangeQ1, rng), okWith(expectBatch(b1, &rangeQ1, 2, nil, nil)))
	rangeAll := roles.Query{Batch: b0.id, Kind: roles.QueryRange, Columns: cols2, From: 1, To: 16}
	g.add("range/whole-batch", "range", "verify_dc_query", "rows 1..16 (all) of sensor-0, both columns", chain, now2,
		verifyReq(rangeAll, g.answer(rangeAll)), okWith(expectBatch(b0, &rangeAll, 2, nil, nil)))

	b4 := g.byLabel["sensor-4"]
	ws := make([]int64, 16)
	wv := make(codec.ScalarVector, 16)
	for i := range ws {
		ws[i] = int64((i*7)%11) - 5
		wv[i] = roles.FromInt64(ws[i])
	}
	wQ := roles.Query{Batch: b4.id, Kind: roles.QueryWeighted, Columns: cols2, Weights: wv}
	weighted := g.answer(wQ)
	g.add("weighted/honest", "weighted", "verify_dc_query", "weights w_i = ((i−1)·7 mod 11) − 5 (negative ones as r − |w|) over the 16 rows of sensor-4, both columns", chain, now2,
		verifyReq(wQ, weighted), okWith(expectBatch(b4, &wQ, 2, ws, nil)))
	wQ3 := roles.Query{Batch: b1.id, Kind: roles.QueryWeighted, Columns: []string{"count"}, Weights: codec.ScalarVector{roles.FromInt64(3), roles.FromInt64(0), roles.FromInt64(-2)}}
	g.add("weighted/prefix", "weighted", "verify_dc_query", "three weights (3, 0, −2) on the first rows of sensor-1 (10 rows): the others weigh 0", chain, now2,
		verifyReq(wQ3, g.answer(wQ3)), okWith(expectBatch(b1, &wQ3, 2, []int64{3, 0, -2}, nil)))

	nonce := make([]byte, 16)
	must(seeded("audit-nonce").Read(nonce))
	aQ := roles.Query{Batch: b0.id, Kind: roles.QueryAudit, Columns: cols2, Nonce: nonce}
	audit := g.answer(aQ)
	g.add("audit/interactive", "audit", "verify_da_audit", "audit of sensor-0 with a 16-byte nonce from the auditor; values are field elements in [0, r)", chain, now2,
		verifyReq(aQ, audit), okWith(expectBatch(b0, &aQ, 2, nil, audit)))
	s2d := must(s2.State.Digest())
	slot := uint64(now2 / 60000)
	niQ := roles.Query{Batch: b4.id, Kind: roles.QueryAudit, Columns: []string{"temp"}, Nonce: roles.AuditNonce(s2d, slot)}
	niAudit := g.answer(niQ)
	g.add("audit/non-interactive", "audit", "verify_da_audit", fmt.Sprintf("non-interactive audit of sensor-4: nonce = H(\"vds/v1/audit-nonce\", digest of the epoch-2 state, u64(slot = %d)), slot = now / 60000", slot), chain, now2,
		verifyReq(niQ, niAudit), okWith(expectBatch(b4, &niQ, 2, nil, niAudit)))

	t := b0.times
	windows := []struct {
		name, desc string
		from, to   uint64
	}{
		{"inside", "rows 4..11 of sensor-0: the window starts and ends between timestamps", t[3] - 1, t[10] + 1},
		{"first-edge", "from before the batch to row 6: the selection starts at row 1 (the header's t0)", t[0] - 2500, t[5]},
		{"last-edge", "from row 13 to after the batch: the selection ends at row 16 (the header's t1)", t[12], t[15] + 99999},
		{"exact-batch", "exactly [t0, t1] of the header: every row", t[0], t[15]},
		{"single-row", "[t, t] for the timestamp of row 7", t[6], t[6]},
		{"empty-between", "between the timestamps of rows 5 and 6: no row (first = 6, last = 5), zero values, no column proof", t[4] + 1, t[5] - 1},
		{"empty-after", "after the batch's last timestamp: no row (first = 17, last = 16)", t[15] + 1, t[15] + 5},
		{"empty-before", "before the batch's first timestamp: no row (first = 1, last = 0)", t[0] - 10, t[0] - 1},
	}
	var windowQs []roles.Query
	var windowAns []*roles.Answer
	for _, w := range windows {
		q := roles.Query{Batch: b0.id, Kind: roles.QueryWindow, Columns: cols2, TimeFrom: w.from, TimeTo: w.to}
		a := g.answer(q)
		windowQs, windowAns = append(windowQs, q), append(windowAns, a)
		g.add("window/"+w.name, "window", "verify_time_proofs", w.desc, chain, now2, verifyReq(q, a), okWith(expectBatch(b0, &q, 2, nil, nil)))
	}

	g.message("query/range", "Query", "a range query (case range/honest)", &rangeQ1, nil)
	g.message("query/weighted", "Query", "a weighted query: weights as a scalar vector (case weighted/honest)", &wQ, nil)
	g.message("query/audit", "Query", "an audit query with the auditor's nonce (case audit/interactive)", &aQ, nil)
	g.message("query/window", "Query", "a time-window query (case window/inside)", &windowQs[0], nil)
	g.message("answer/audit", "Answer", "the answer of case audit/interactive", audit, nil)
	g.message("answer/window", "Answer", "the answer of case window/inside: boundary rows 3, 4, 11, 12 opened in tw", windowAns[0], nil)
	g.message("answer/window-empty", "Answer", "the answer of case window/empty-between: no column proof, zero values", windowAns[5], nil)

	// Streams.
	sq := func(stream string, cols []string, from, to uint64) roles.StreamQuery {
		return roles.StreamQuery{Stream: stream, Kind: roles.QueryWindow, Columns: cols, TimeFrom: from, TimeTo: to}
	}
	streamReq := func(q roles.StreamQuery, a *roles.StreamAnswer) []byte {
		return enc(&transport.VerifyStreamRequest{Query: q, Answer: *a})
	}
	e2 := g.owner.StreamEntries("sensor")
	streams := []struct {
		name, desc string
		q          roles.StreamQuery
	}{
		{"whole", "the whole sensor stream: parts for sensor-0, 1, 3 (version 1) and 4; sensor-2 is a revoked tombstone in the run", sq("sensor", cols2, sensorStart, sensorStart+10*batchStride)},
		{"edges", "from the middle of sensor-0 to the middle of sensor-4: two edges, two interior batches, the revoked one between", sq("sensor", cols2, sensorStart+55_000, sensorStart+4*batchStride+75_000)},
		{"revoked-only", "a window that meets only the revoked sensor-2: no part, zero totals, no proof", sq("sensor", []string{"temp"}, sensorStart+2*batchStride+5, sensorStart+2*batchStride+50_000)},
		{"updated-only", "a window on sensor-3 version 1 only, cutting its first row", sq("sensor", []string{"count"}, sensorStart+3*batchStride+1001, sensorStart+3*batchStride+150_000)},
		{"gap", "a window between two batches: no entry meets it; the run is the two neighbours", sq("sensor", []string{"temp"}, sensorStart+170_000, sensorStart+190_000)},
		{"aux", "the only batch of stream aux, one column of scale 2", sq("aux", []string{"v"}, 0, sensorStart+100)},
	}
	var whole, edges *roles.StreamAnswer
	var wholeQ, edgesQ roles.StreamQuery
	for _, s := range streams {
		a := must(g.server.AnswerStream(ctx, &s.q))
		switch s.name {
		case "whole":
			whole, wholeQ = a, s.q
		case "edges":
			edges, edgesQ = a, s.q
		}
		es := e2
		if s.q.Stream != "sensor" {
			es = g.owner.StreamEntries(s.q.Stream)
		}
		g.add("stream/"+s.name, "stream", "verify_stream", s.desc, chain, now2, streamReq(s.q, a), okWith(g.expectStream(&s.q, s2, es)))
	}
	g.message("stream_query/whole", "StreamQuery", "the stream query of case stream/whole", &wholeQ, nil)
	g.message("stream_answer/whole", "StreamAnswer", "the answer of case stream/whole", whole, nil)

	// verify_many.
	manyReq := func(qs []roles.Query, as []*roles.Answer) []byte {
		r := transport.VerifyManyRequest{}
		for i := range qs {
			r.Items = append(r.Items, transport.VerifyRequest{Query: qs[i], Answer: *as[i]})
		}
		return enc(&r)
	}
	okItem := func(r vResult) vManyItem { return vManyItem{Verdict: "ok", Result: &r} }
	g.add("many/honest", "many", "verify_many", "a point, a range, a weighted query, an audit and a window in one call", chain, now2,
		manyReq([]roles.Query{pointQ0, rangeQ1, wQ, aQ, windowQs[0]}, []*roles.Answer{point, rng, weighted, audit, windowAns[0]}),
		okWith(vManyResult{Items: []vManyItem{
			okItem(expectBatch(b0, &pointQ0, 2, nil, nil)), okItem(expectBatch(b1, &rangeQ1, 2, nil, nil)),
			okItem(expectBatch(b4, &wQ, 2, ws, nil)), okItem(expectBatch(b0, &aQ, 2, nil, audit)), okItem(expectBatch(b0, &windowQs[0], 2, nil, nil)),
		}}))

	// Tampered answers.
	bad := clone(point)
	one := fr.One()
	v0 := fr.Element(bad.Values[0])
	v0.Add(&v0, &one)
	bad.Values[0] = codec.Scalar(v0)
	g.add("many/one-tampered", "many", "verify_many", "the same call with the point answer's first value changed: that item fails, the others verify", chain, now2,
		manyReq([]roles.Query{pointQ0, rangeQ1, wQ, aQ, windowQs[0]}, []*roles.Answer{bad, rng, weighted, audit, windowAns[0]}),
		okWith(vManyResult{Items: []vManyItem{
			{Verdict: "error", Error: "bad_proof"}, okItem(expectBatch(b1, &rangeQ1, 2, nil, nil)),
			okItem(expectBatch(b4, &wQ, 2, ws, nil)), okItem(expectBatch(b0, &aQ, 2, nil, audit)), okItem(expectBatch(b0, &windowQs[0], 2, nil, nil)),
		}}))
	{
		bw := clone(point)
		bw.Witness.W = codec.G1OrIdentity(*shiftG1((*codec.G1)(&bw.Witness.W)))
		g.add("many/shared-batch-bad-witness", "many", "verify_many", "a point answer whose witness w is replaced by w + g, with an audit and a window on the same batch carrying the honest witness: only the point item fails", chain, now2,
			manyReq([]roles.Query{pointQ0, aQ, windowQs[0]}, []*roles.Answer{bw, audit, windowAns[0]}),
			okWith(vManyResult{Items: []vManyItem{
				{Verdict: "error", Error: "bad_proof"}, okItem(expectBatch(b0, &aQ, 2, nil, audit)), okItem(expectBatch(b0, &windowQs[0], 2, nil, nil)),
			}}))
	}
	g.add("point/tampered/value", "point", "verify_dc_query", "point/honest with its first value plus one", chain, now2, verifyReq(pointQ0, bad), errWith("bad_proof"))

	bad = clone(rng)
	bad.Proof = shiftG1(bad.Proof)
	g.add("range/tampered/proof", "range", "verify_dc_query", "range/honest with the proof replaced by proof + g (a valid point)", chain, now2, verifyReq(rangeQ1, bad), errWith("bad_proof"))
	bad = clone(rng)
	v0 = fr.Element(bad.Values[0])
	v0.Sub(&v0, &one)
	bad.Values[0] = codec.Scalar(v0)
	g.add("range/tampered/value", "range", "verify_dc_query", "range/honest with its value minus one", chain, now2, verifyReq(rangeQ1, bad), errWith("bad_proof"))

	honestPoint := verifyReq(pointQ0, point)
	proofItem := g1Item(point.Proof)
	g.add("point/tampered/proof-off-curve", "point", "verify_dc_query", "point/honest with the proof's 48 bytes replaced by an x with no curve point", chain, now2,
		replaceOnce(honestPoint, proofItem, append(slices.Clone(headG1), notOnCurveG1...)), errWith("invalid_point"))
	g.add("point/tampered/proof-not-in-subgroup", "point", "verify_dc_query", "point/honest with the proof replaced by a curve point outside the prime-order subgroup", chain, now2,
		replaceOnce(honestPoint, proofItem, append(slices.Clone(headG1), notInGroupG1...)), errWith("invalid_point"))
	g.add("point/tampered/proof-identity", "point", "verify_dc_query", "point/honest with the proof replaced by the G1 identity under its own tag (forbidden for a proof)", chain, now2,
		replaceOnce(honestPoint, proofItem, identityG1), errWith("identity"))
	{
		x := fr.Element(point.Values[0])
		xb := new(big.Int).Add(x.BigInt(new(big.Int)), fr.Modulus())
		var nb [32]byte
		xb.FillBytes(nb[:])
		g.add("point/tampered/value-non-canonical", "point", "verify_dc_query", "point/honest with its first value x written as x + r (32 bytes, not below r)", chain, now2,
			replaceOnce(honestPoint, scalarItem(&point.Values[0]), append(slices.Clone(headScalar), nb[:]...)), errWith("non_canonical"))
	}
	g.add("point/tampered/truncated", "point", "verify_dc_query", "point/honest without its last byte", chain, now2,
		honestPoint[:len(honestPoint)-1], errWith("invalid_encoding"))

	bad = clone(point)
	bad.Witness.U = codec.Scalar{}
	g.add("point/tampered/witness-u-zero", "point", "verify_dc_query", "point/honest with the witness's u set to 0 (a membership witness: the verifier must refuse u = 0)", chain, now2, verifyReq(pointQ0, bad), errWith("revoked"))

	bad = clone(point)
	bad.Header.Sig[0] ^= 1
	g.add("point/tampered/header-signature", "point", "verify_dc_query", "point/honest with one bit of the header's signature flipped", chain, now2, verifyReq(pointQ0, bad), errWith("bad_signature"))

	{
		h := b0.hdr.Header
		h.CRS = roles.Hash(otherCRS.Digest())
		srv, id := side(h)
		q := pointQ0
		q.Batch = id
		g.add("point/tampered/header-other-crs", "point", "verify_dc_query", "sensor-0's data under its header with the digest of another CRS, validly signed by the owner; the answer is otherwise honest", chain, now2, verifyReq(q, must(srv.Answer(ctx, &q))), errWith("crs_mismatch"))
		h = b0.hdr.Header
		h.Columns = slices.Clone(h.Columns)
		h.Columns[1].Bits = uint8(roles.MaxColumnBits(16) + 1)
		srv, id = side(h)
		q.Batch = id
		g.add("point/tampered/header-bits", "point", "verify_dc_query", fmt.Sprintf("sensor-0's data under its header with column count declaring %d bits (above 253 − 64 − bitlen(16) = %d), validly signed; the answer is otherwise honest", h.Columns[1].Bits, roles.MaxColumnBits(16)), chain, now2, verifyReq(q, must(srv.Answer(ctx, &q))), errWith("invalid_input"))
	}
	{
		q := roles.Query{Batch: otherID, Kind: roles.QueryPoint, Columns: cols2, Row: 5}
		a := must(otherServer.Answer(ctx, &q))
		a.Epoch = 2 // the verifier's epoch: only the header is wrong
		g.add("point/tampered/header-other-owner", "point", "verify_dc_query", "an answer of another owner (its own keys, same CRS and data), for a verifier configured with this owner's keys", chain, now2, verifyReq(q, a), errWith("bad_signature"))
	}
	{
		q := pointQ0
		q.Row = 6
		g.add("point/tampered/other-query", "point", "verify_dc_query", "point/honest's answer (row 5) for a query of row 6", chain, now2, verifyReq(q, point), errWith("bad_proof"))
	}
	g.add("point/stale/old-epoch", "point", "verify_dc_query", "an honest answer built at epoch 0, for a verifier holding epoch 2", chain, now2, verifyReq(pointQ0, point0), errWith("stale_state"))
	g.add("point/stale/state-too-old", "point", "verify_dc_query", "point/honest, verified 180001 ms after the held state was issued (maximum state age 180000 ms, nothing to catch up from)", chain, s2.IssuedAt+180001, honestPoint, errWith("stale_state"))
	g.add("point/future-epoch", "point", "verify_dc_query", "point/honest for a verifier that holds only epoch 0 (and cannot catch up)", h0, now2, honestPoint, errWith("unknown_state"))
	{
		a := clone(point2e0)
		a.Epoch = 2
		g.add("point/revoked", "point", "verify_dc_query", "an answer about sensor-2, revoked at epoch 1, claiming epoch 2 (with its epoch-0 witness)", chain, now2, verifyReq(pointQ2, a), errWith("revoked"))
	}

	bad = clone(weighted)
	v0 = fr.Element(bad.Values[1])
	v0.Neg(&v0)
	bad.Values[1] = codec.Scalar(v0)
	g.add("weighted/tampered/value", "weighted", "verify_dc_query", "weighted/honest with its second value negated", chain, now2, verifyReq(wQ, bad), errWith("bad_proof"))

	{
		q := aQ
		q.Nonce = slices.Clone(nonce)
		q.Nonce[0] ^= 1
		bad = clone(audit)
		bad.Query = q
		g.add("audit/tampered/value", "audit", "verify_da_audit", "audit/interactive with its first value plus one", chain, now2, verifyReq(aQ, withValue(audit, 0, &one)), errWith("bad_proof"))
		g.add("audit/tampered/other-nonce", "audit", "verify_da_audit", "audit/interactive's answer for a query with another nonce (the answer's query keeps its own)", chain, now2, verifyReq(q, audit), errWith("wrong_challenge"))
		g.add("audit/tampered/nonce-and-query", "audit", "verify_da_audit", "audit/interactive with the nonce changed in both the query and the answer's query: the weights change, the proof fails", chain, now2, verifyReq(q, bad), errWith("bad_proof"))
	}

	{
		a := clone(windowAns[0])
		a.Window.First++
		g.add("window/tampered/rows", "window", "verify_time_proofs", "window/inside with the first selected row moved up by one (the boundary timestamps no longer fit)", chain, now2, verifyReq(windowQs[0], a), errWith("bad_proof"))
		a = clone(windowAns[0])
		a.Window.Times[0]++
		g.add("window/tampered/boundary-time", "window", "verify_time_proofs", "window/inside with the first boundary timestamp plus one (still outside the window: only the opening fails)", chain, now2, verifyReq(windowQs[0], a), errWith("bad_proof"))
		a = clone(windowAns[5])
		a.Values[0] = codec.Scalar(one)
		g.add("window/tampered/empty-nonzero", "window", "verify_time_proofs", "window/empty-between claiming 1 for temp", chain, now2, verifyReq(windowQs[5], a), errWith("bad_proof"))
	}

	// Tampered stream answers.
	{
		a := clone(whole)
		a.Parts = slices.Delete(a.Parts, 1, 2)
		g.add("stream/tampered/missing-batch", "stream", "verify_stream", "stream/whole without the part of sensor-1", chain, now2, streamReq(wholeQ, a), errWith("incomplete"))
		a = clone(whole)
		a.Parts[0], a.Parts[1] = a.Parts[1], a.Parts[0]
		g.add("stream/tampered/swapped-parts", "stream", "verify_stream", "stream/whole with its first two parts swapped", chain, now2, streamReq(wholeQ, a), errWith("incomplete"))
		a = clone(whole)
		a.Proof.Run = slices.Delete(a.Proof.Run, 2, 3)
		g.add("stream/tampered/run-entry-dropped", "stream", "verify_stream", "stream/whole with the revoked entry removed from the completeness proof's run", chain, now2, streamReq(wholeQ, a), errWith("incomplete"))
		a = clone(whole)
		x := fr.Element(a.Parts[2].Values[0])
		x.Add(&x, &one)
		a.Parts[2].Values[0] = codec.Scalar(x)
		g.add("stream/tampered/value", "stream", "verify_stream", "stream/whole with the temp value of its third part (sensor-3 version 1) plus one", chain, now2, streamReq(wholeQ, a), errWith("bad_proof"))
		a = clone(whole)
		a.Pi = shiftG1(a.Pi)
		g.add("stream/tampered/proof", "stream", "verify_stream", "stream/whole with the proof replaced by proof + g", chain, now2, streamReq(wholeQ, a), errWith("bad_proof"))
		a = clone(whole)
		a.State.Sig[3] ^= 0x80
		g.add("stream/tampered/state-signature", "stream", "verify_stream", "stream/whole with one bit of its state's signature flipped", chain, now2, streamReq(wholeQ, a), errWith("bad_signature"))
		a = clone(whole)
		a.Parts[1].Witness.U = codec.Scalar{}
		g.add("stream/tampered/witness-u-zero", "stream", "verify_stream", "stream/whole with the second part's witness u set to 0", chain, now2, streamReq(wholeQ, a), errWith("revoked"))
	}
	{
		a := clone(edges)
		if a.Parts[0].Edge == nil {
			panic("stream/edges: the first part is not an edge")
		}
		a.Parts[0].Edge.First++
		g.add("stream/tampered/edge-rows", "stream", "verify_stream", "stream/edges with the first edge's first selected row moved up by one", chain, now2, streamReq(edgesQ, a), errWith("bad_proof"))
	}
	g.add("stream/stale-head", "stream", "verify_stream", "an honest answer built on an earlier signature of epoch 0 (before sensor-4 was ingested), for a verifier holding the later one", h0, now0,
		streamReq(staleQ, staleAns), errWith("stale_state"))
	_ = oldHead

	// Windows in segments and held headers (SPEC §11.5): stream/whole and
	// stream/edges as a server with MaxStreamBatches = 2 splits them.
	{
		lim := roles.DefaultLimits()
		lim.MaxStreamBatches = 2
		seg := must(roles.NewStorageServer(g.crs, g.keys, g.sstore, roles.WithoutPrecompute(), roles.WithServerLimits(lim)))
		segReq := func(q roles.StreamQuery, a *roles.StreamAnswer) []byte {
			r := transport.VerifyStreamRequest{Query: q, Answer: *a}
			r.Answer.Rest = nil
			for _, s := range a.Rest {
				r.Rest = append(r.Rest, *s)
			}
			return enc(&r)
		}
		var held []string
		var heldIDs []roles.BatchID
		for _, e := range e2 {
			if !e.Revoked {
				held = append(held, hexOf(enc(must(g.server.Header(ctx, e.Batch)))))
				heldIDs = append(heldIDs, e.Batch)
			}
		}
		wholeSeg := must(seg.AnswerStream(ctx, &wholeQ))
		edgesSeg := must(roles.FetchStream(ctx, seg, &edgesQ, nil))
		if wholeSeg.Segs != 3 || edgesSeg.Segs != 3 {
			panic(fmt.Sprintf("segments: %d and %d, want 3", wholeSeg.Segs, edgesSeg.Segs))
		}
		g.add("stream/segments", "stream", "verify_stream", "stream/whole in 3 segments of at most 2 run entries (rest: segments 1 and 2), every part with its header", chain, now2,
			segReq(wholeQ, wholeSeg), okWith(g.expectStream(&wholeQ, s2, e2)))
		g.add("stream/segments-edges", "stream", "verify_stream", "stream/edges in 3 segments", chain, now2,
			segReq(edgesQ, edgesSeg), okWith(g.expectStream(&edgesQ, s2, e2)))
		warm := must(roles.FetchStream(ctx, seg, &wholeQ, heldIDs))
		warmReq := segReq(wholeQ, warm)
		g.addHeld("stream/segments-held", "stream", "verify_stream", "stream/segments for a verifier that holds the headers of every live sensor batch (held_headers): no part carries hdr or wit", chain, held, now2,
			warmReq, okWith(g.expectStream(&wholeQ, s2, e2)))
		one := must(roles.FetchStream(ctx, g.server, &wholeQ, heldIDs))
		g.addHeld("stream/held", "stream", "verify_stream", "stream/whole in one piece without headers, for a verifier that holds them", chain, held, now2,
			streamReq(wholeQ, one), okWith(g.expectStream(&wholeQ, s2, e2)))
		g.add("stream/tampered/held-unknown", "stream", "verify_stream", "stream/segments-held for a verifier that holds no header", chain, now2, warmReq, errWith("incomplete"))
		a := clone(wholeSeg)
		a.Rest = []*roles.StreamAnswer{wholeSeg.Rest[1]}
		g.add("stream/tampered/segment-dropped", "stream", "verify_stream", "stream/segments without its segment 1", chain, now2, segReq(wholeQ, a), errWith("incomplete"))
		a = clone(wholeSeg)
		a.Rest = []*roles.StreamAnswer{wholeSeg.Rest[0]}
		g.add("stream/tampered/last-segment-dropped", "stream", "verify_stream", "stream/segments without its last segment (and the range proof it carries)", chain, now2, segReq(wholeQ, a), errWith("incomplete"))
		a = clone(wholeSeg)
		m := clone(wholeSeg.Rest[0])
		if !m.Proof.Run[0].Revoked {
			panic("segments: segment 1 does not start with the revoked sensor-2")
		}
		m.Proof.Run = m.Proof.Run[1:]
		a.Rest = []*roles.StreamAnswer{m, wholeSeg.Rest[1]}
		g.add("stream/tampered/segment-entry-dropped", "stream", "verify_stream", "stream/segments with the revoked sensor-2 (the first run entry of segment 1, no part) removed", chain, now2, segReq(wholeQ, a), errWith("incomplete"))
		a = clone(warm)
		a.Rest = []*roles.StreamAnswer{warm.Rest[0], clone(warm.Rest[1])}
		a.Rest[1].Parts[0].Witness = wholeSeg.Rest[1].Parts[0].Witness
		g.addHeld("stream/tampered/witness-without-header", "stream", "verify_stream", "stream/segments-held with a witness in a part without header", chain, held, now2, segReq(wholeQ, a), errWith("bad_proof"))
		g.message("stream_request/held", "StreamRequest", "the request of segment 1 of stream/segments-held: the query, seg 1, the held headers' digests", &roles.StreamRequest{Query: wholeQ, Seg: 1, Held: heldIDs}, nil)
		g.message("stream_answer/segment-held", "StreamAnswer", "segment 1 of 3 of stream/segments-held: parts without hdr and wit", warm.Rest[0], nil)
	}

	// D8(a): a header whose t0/t1 are not the batch's edge timestamps,
	// validly signed, answered by a server that stores it as is.
	{
		h := b0.hdr.Header
		h.FirstTime, h.LastTime = t[0]-1, t[15]+1
		srv2, id := side(h)
		for _, w := range []struct {
			name, desc string
			from, to   uint64
		}{
			{"first", "row 1 opens t = t_1 but the header says t0 = t_1 − 1", windows[1].from, windows[1].to},
			{"last", "row 16 opens t = t_16 but the header says t1 = t_16 + 1", windows[2].from, windows[2].to},
		} {
			q := roles.Query{Batch: id, Kind: roles.QueryWindow, Columns: cols2, TimeFrom: w.from, TimeTo: w.to}
			a := must(srv2.Answer(ctx, &q))
			g.add("window/tampered/header-"+w.name+"-time", "window", "verify_time_proofs", "a window reaching the batch's "+w.name+" row, on sensor-0's data under a validly signed header whose t0 and t1 lie one millisecond outside its timestamps (every opening is honest): "+w.desc, chain, now2, verifyReq(q, a), errWith("bad_proof"))
		}
	}

	// Encoding and input errors.
	{
		hdrItem := g1Item(&point.Header.Header.Commits[0])
		g.add("point/tampered/commitment-identity", "point", "verify_dc_query", "point/honest with the header's first commitment replaced by the G1 identity (decoding refuses it before the signature is checked)", chain, now2,
			replaceOnce(honestPoint, hdrItem, identityG1), errWith("identity"))
		uk := slices.Clone(honestPoint)
		if uk[0] != 0xa2 {
			panic("VerifyRequest is not a map of 2 pairs")
		}
		uk[0] = 0xa3
		uk = append(uk, 0x64, 'z', 'z', 'z', 'z', 0x00)
		g.add("point/tampered/unknown-field", "point", "verify_dc_query", "point/honest with a third request field \"zzzz\": 0 (keys still in canonical order)", chain, now2, uk, errWith("invalid_encoding"))
		qb, ab := enc(&pointQ0), enc(point)
		if !bytes.Equal(honestPoint, slices.Concat([]byte{0xa2, 0x61, 'q'}, qb, []byte{0x63, 'a', 'n', 's'}, ab)) {
			panic("VerifyRequest is not {q, ans}")
		}
		g.add("point/tampered/keys-unsorted", "point", "verify_dc_query", "point/honest with the request's two keys in the other order (\"ans\" before \"q\": not core deterministic)", chain, now2,
			slices.Concat([]byte{0xa2, 0x63, 'a', 'n', 's'}, ab, []byte{0x61, 'q'}, qb), errWith("non_canonical"))
		g.add("point/tampered/duplicate-key", "point", "verify_dc_query", "point/honest with the key \"q\" and its query twice", chain, now2,
			slices.Concat([]byte{0xa3, 0x61, 'q'}, qb, []byte{0x61, 'q'}, qb, []byte{0x63, 'a', 'n', 's'}, ab), errWith("invalid_encoding"))
		g.add("point/tampered/integer-not-shortest", "point", "verify_dc_query", "point/honest with the answer's epoch 2 written as 0x18 0x02 instead of 0x02", chain, now2,
			replaceOnce(honestPoint, []byte{0x65, 'e', 'p', 'o', 'c', 'h', 0x02}, []byte{0x65, 'e', 'p', 'o', 'c', 'h', 0x18, 0x02}), errWith("non_canonical"))
		wa := clone(point)
		wa.Window = clone(windowAns[0].Window)
		g.add("point/tampered/window-proof", "point", "verify_dc_query", "point/honest carrying a time-window boundary proof (tw) as well", chain, now2, verifyReq(pointQ0, wa), errWith("bad_proof"))
		q := pointQ0
		q.Columns = []string{"temp", "temp"}
		a := clone(point)
		a.Query = q
		g.add("point/invalid/repeated-column", "point", "verify_dc_query", "a point query naming temp twice (query and answer agree)", chain, now2, verifyReq(q, a), errWith("invalid_input"))
		q = windowQs[0]
		q.TimeFrom, q.TimeTo = q.TimeTo, q.TimeFrom
		a = clone(windowAns[0])
		a.Query = q
		g.add("window/invalid/reversed", "window", "verify_time_proofs", "window/inside with from and to swapped (query and answer agree)", chain, now2, verifyReq(q, a), errWith("invalid_input"))
		q = pointQ0
		q.Row = 17
		a = clone(point)
		a.Query = q
		g.add("point/invalid/row", "point", "verify_dc_query", "a point query of row 17 on a batch of 16 rows (query and answer agree)", chain, now2, verifyReq(q, a), errWith("invalid_input"))
		g.add("point/invalid/method", "point", "verify_da_audit", "point/honest sent to verify_da_audit", chain, now2, honestPoint, errWith("invalid_input"))
		q = aQ
		q.Nonce = make([]byte, 65)
		a = clone(audit)
		a.Query = q
		g.add("audit/invalid/nonce-too-long", "audit", "verify_da_audit", "an audit whose nonce has 65 bytes (limit 64)", chain, now2, verifyReq(q, a), errWith("invalid_input"))
	}

	// States: update_global_pk.
	stateRes := func(st *roles.SignedState) vExpected {
		return okWith(vStateResult{Epoch: st.State.Epoch, IAT: st.IssuedAt})
	}
	g.add("state/next-epoch", "state", "update_global_pk", "epoch 1 after epoch 0: links by prev, accumulator step for sensor-2", h0, now0+2000, enc(s1), stateRes(s1))
	g.add("state/epoch0-anchor", "state", "update_global_pk", "the later signature of epoch 0 after the first one: the verifier keeps the later", held(epoch0First), now0, enc(s0), stateRes(s0))
	g.add("state/older-signature", "state", "update_global_pk", "the first signature of epoch 0 after the later one: ignored, the verifier keeps the later", h0, now0, enc(epoch0First), stateRes(s0))
	g.add("state/skip-epoch", "state", "update_global_pk", "epoch 2 for a verifier holding epoch 0 (epoch 1 missing, nothing to catch up from)", h0, now2, enc(s2), errWith("unknown_state"))
	g.add("state/stale", "state", "update_global_pk", "epoch 1 for a verifier holding epoch 2", chain, now2, enc(s1), errWith("stale_state"))
	{
		st := *s1
		st.Sig = slices.Clone(st.Sig)
		st.Sig[10] ^= 4
		g.add("state/tampered/signature", "state", "update_global_pk", "epoch 1 with one bit of its signature flipped", h0, now0+2000, enc(&st), errWith("bad_signature"))
		st = *s1
		st.IssuedAt++
		g.add("state/tampered/issued-at", "state", "update_global_pk", "epoch 1 with issued_at plus one millisecond (under the signature)", h0, now0+2000, enc(&st), errWith("bad_signature"))
		st = *s1
		acc := bls.G1Affine(st.State.Acc)
		_, _, gen1, _ := bls.Generators()
		acc.Add(&acc, &gen1)
		st.State.Acc = codec.G1(acc)
		signState(g.signKey, &st)
		g.add("state/tampered/accumulator-step", "state", "update_global_pk", "epoch 1 with f_1 replaced by f_1 + g, validly signed and linked: e(f_1, ĝ) ≠ e(f_0, ĝ^(x_1)·ĝ^s)", h0, now0+2000, enc(&st), errWith("bad_proof"))
		st = *s1
		st.State.Revoked = &roles.Revocation{X: s1.State.Revoked.X, Batch: b1.id}
		signState(g.signKey, &st)
		g.add("state/tampered/revocation-element", "state", "update_global_pk", "epoch 1 naming sensor-1 as revoked while x_1 is the element of sensor-2, validly signed", h0, now0+2000, enc(&st), errWith("invalid_input"))
		st = *s0
		acc = bls.G1Affine(st.State.Acc)
		acc.Double(&acc)
		st.State.Acc = codec.G1(acc)
		st.IssuedAt++
		signState(g.signKey, &st)
		g.add("state/tampered/epoch0-accumulator", "state", "update_global_pk", "a later signature of epoch 0 with f_0 = 2·g instead of g, validly signed", h0, now0+2000, enc(&st), errWith("invalid_input"))
		st = *s1
		st.Head.Entries++
		g.add("state/tampered/head", "state", "update_global_pk", "epoch 1 with the stream head's entry count plus one (under the signature)", h0, now0+2000, enc(&st), errWith("bad_signature"))
	}

	// Last: a later signature of epoch 2 (the owner's heartbeat), which a
	// stream answer may carry.
	g.clk.tick()
	s2r := must(g.owner.Refresh(ctx))
	{
		a := must(g.server.AnswerStream(ctx, &edgesQ))
		if a.State.IssuedAt != s2r.IssuedAt {
			panic("the server did not answer on the refreshed state")
		}
		g.add("stream/later-signature", "stream", "verify_stream", "stream/edges answered on a later signature of epoch 2 (a heartbeat) than the verifier holds: the verifier takes it as its latest", chain, s2r.IssuedAt+1000,
			streamReq(edgesQ, a), okWith(g.expectStream(&edgesQ, s2r, e2)))
	}

	// Key rotation (SPEC §6.3), last so that every earlier case stays
	// as it was: the owner hands over to a second key, then revokes
	// sensor-0 with it (epoch 3).
	g.clk.tick()
	var nextSeed [ed25519.SeedSize]byte
	must(seeded("owner-sign-2").Read(nextSeed[:]))
	nextKey := ed25519.NewKeyFromSeed(nextSeed[:])
	rot := must(g.owner.Rotate(ctx, must(roles.NewEd25519Signer(nextKey))))
	g.clk.tick()
	s3 := must(g.owner.Revoke(ctx, b0.id))
	{
		oldKid := g.keys.Signing[0].ID
		g.add("state/rotation/handover", "state", "update_global_pk", "the handover state: epoch 2 re-signed by the new key, carrying the handover signed by the old key (sig) and the new one (pop)", chain, rot.IssuedAt+1000, enc(rot), stateRes(rot))
		g.add("state/rotation/after", "state", "update_global_pk", "epoch 3 signed by the new key after the handover state", held(s0, s1, s2, rot), s3.IssuedAt+1000, enc(s3), stateRes(s3))
		g.add("state/rotation/offline-catch-up", "state", "update_global_pk", "epoch 3 for a verifier that holds epoch 2 signed by the old key and missed the handover state: the handover epoch 3 carries is enough", chain, s3.IssuedAt+1000, enc(s3), stateRes(s3))
		st := *s3
		st.KeyID = oldKid
		signState(g.signKey, &st)
		g.add("state/rotation/retired-key-later-epoch", "state", "update_global_pk", "epoch 3 signed by the retired key (carrying the handover): after its retirement epoch", held(s0, s1, s2, rot), s3.IssuedAt+1000, enc(&st), errWith("bad_signature"))
		st = *rot
		st.KeyID, st.IssuedAt, st.Keys = oldKid, rot.IssuedAt+1, nil
		signState(g.signKey, &st)
		g.add("state/rotation/retired-key-same-epoch", "state", "update_global_pk", "epoch 2 re-signed by the retired key 1 ms after the handover state, without the handovers, for a verifier that saw the handover", held(s0, s1, s2, rot), s3.IssuedAt+1000, enc(&st), errWith("bad_signature"))
		var evilSeed [ed25519.SeedSize]byte
		must(seeded("owner-sign-evil").Read(evilSeed[:]))
		evil := ed25519.NewKeyFromSeed(evilSeed[:])
		evilPub := evil.Public().(ed25519.PublicKey)
		st = *rot
		h := roles.Handover{From: oldKid, To: roles.SigningKey{ID: roles.KeyID(evilPub), Key: evilPub}, Epoch: rot.Keys[0].Epoch, At: rot.Keys[0].At}
		m := handoverMsg(ownerID, &h)
		h.Sig, h.PoP = ed25519.Sign(evil, m), ed25519.Sign(evil, m)
		st.KeyID, st.Keys = h.To.ID, []roles.Handover{h}
		signState(evil, &st)
		g.add("state/rotation/not-signed-by-old-key", "state", "update_global_pk", "a handover from the old key to another key, signed by that key only (not by the old key)", chain, rot.IssuedAt+1000, enc(&st), errWith("bad_signature"))
		st = *rot
		h = rot.Keys[0]
		h.PoP = slices.Clone(h.PoP)
		h.PoP[3] ^= 1
		st.Keys = []roles.Handover{h}
		signState(nextKey, &st)
		g.add("state/rotation/bad-proof-of-possession", "state", "update_global_pk", "the handover state with one bit of the new key's signature over the handover (pop) flipped, re-signed by the new key", chain, rot.IssuedAt+1000, enc(&st), errWith("bad_signature"))
		st = *rot
		st.IssuedAt = s2.IssuedAt - 1
		signState(nextKey, &st)
		g.add("state/rotation/new-key-before-handover", "state", "update_global_pk", "epoch 2 signed by the new key with an issue time before the handover's", held(s0, s1), rot.IssuedAt+1000, enc(&st), errWith("bad_signature"))
		// A batch stored after the rotation: its header is signed by the
		// new key, which the verifier knows only from the handovers.
		bn := g.ingest("sensor-5", sensorBatch(5, 8, 0, 0))
		if bn.hdr.Header.KeyID != roles.KeyID(nextKey.Public().(ed25519.PublicKey)) {
			panic("the header after the rotation is not signed by the new key")
		}
		s3h := g.latest()
		q := roles.Query{Batch: bn.id, Kind: roles.QueryPoint, Columns: cols2, Row: 3}
		a := g.answer(q)
		g.add("point/rotation/new-key-header", "point", "verify_dc_query", "a point answer on a batch stored after the rotation: its header is signed by the new key, known from the handover carried by the held states", held(s0, s1, s2, s3, s3h), s3h.IssuedAt+1000,
			verifyReq(q, a), okWith(expectBatch(bn, &q, 3, nil, a)))
		g.add("point/rotation/new-key-header-unknown", "point", "verify_dc_query", "point/rotation/new-key-header for a verifier that holds only epoch 2 signed by the old key: the header's key is unknown", chain, s3h.IssuedAt+1000,
			verifyReq(q, a), errWith("bad_signature"))
	}

	// The files.
	sys := vSystem{Format: roles.FormatVersion, N: 16, CRSFile: "crs.bin", CRSDigest: hexOf(digestBytes(g.crs.Digest())),
		OwnerKeys: hexOf(enc(&g.keys)), OwnerID: ownerID.String(), MaxStateAgeMs: roles.DefaultMaxStateAge.Milliseconds(),
		Limits: vLimits{MaxColumns: 64, MaxNameLen: 256, MaxNonceLen: 64, MaxStreamBatches: 128}, Seed: vectorSeed, Counts: map[string]int{}}
	for _, k := range g.keys.Signing {
		sys.KeyIDs = append(sys.KeyIDs, k.ID)
	}
	for _, c := range g.cases {
		sys.Counts[c.Kind+"/"+c.Expected.Verdict]++
	}
	return vectorFiles{
		"crs.bin":     g.crsFile,
		"system.json": jsonFile(sys),
		"messages.json": jsonFile(struct {
			Messages []vMessage `json:"messages"`
		}{g.messages}),
		"cases.json": jsonFile(struct {
			Cases []vCase `json:"cases"`
		}{g.cases}),
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// withValue returns a copy of a with values[i] + d.
func withValue(a *roles.Answer, i int, d *fr.Element) *roles.Answer {
	c := clone(a)
	x := fr.Element(c.Values[i])
	x.Add(&x, d)
	c.Values[i] = codec.Scalar(x)
	return c
}

func jsonFile(v any) []byte {
	b := must(json.MarshalIndent(v, "", "  "))
	return append(b, '\n')
}

func digestBytes(d commitment.Digest) []byte { return d[:] }

// signState signs a state as the owner does (SPEC §6, §11.2):
// H("vds/v1/state-sig", state digest, u64(issued_at), kid, head root,
// u64(streams), u64(entries) [, handovers digest]).
func signState(key ed25519.PrivateKey, st *roles.SignedState) {
	d := must(st.State.Digest())
	parts := [][]byte{d[:], hash.U64(uint64(st.IssuedAt)), []byte(st.KeyID),
		st.Head.Root[:], hash.U64(st.Head.Streams), hash.U64(st.Head.Entries)}
	if len(st.Keys) > 0 {
		hs := make([][]byte, len(st.Keys))
		for i := range st.Keys {
			hs[i] = handoverMsg(st.State.Owner, &st.Keys[i])
		}
		hd := hash.Sum(hash.TagHandover, hs...)
		parts = append(parts, hd[:])
	}
	m := hash.Sum(hash.TagStateSig, parts...)
	st.Sig = ed25519.Sign(key, m[:])
}

// handoverMsg is what both keys of a handover sign (SPEC §6.3).
func handoverMsg(owner roles.Hash, h *roles.Handover) []byte {
	m := hash.Sum(hash.TagHandover, owner[:], []byte(h.From), []byte(h.To.ID), h.To.Key,
		hash.U64(h.Epoch), hash.U64(uint64(h.At)))
	return m[:]
}
