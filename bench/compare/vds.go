package compare

import (
	"context"
	"fmt"
	"math/big"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
)

// VDS is the vds scheme over one CRS. Unless Precompute is set its server
// answers directly, with no precomputed proof tables; with Precompute,
// Build and AddBatch wait until the server's background precomputation
// has stored every table of the batch (SPEC §4), so answers combine
// stored points.
type VDS struct {
	CRS        *commitment.CRS
	Precompute bool
}

// Name returns "vds", or "vds-precomputed".
func (s VDS) Name() string {
	if s.Precompute {
		return "vds-precomputed"
	}
	return "vds"
}

// vdsSystem is a roles.Local holding the stream.
type vdsSystem struct {
	l     *roles.Local
	ids   []roles.BatchID
	data  []*Data
	cols  []string
	codec *codec.CBOR
	// precompute: wait for the proof tables of every new batch
	precompute bool
}

// Build creates the owner, server and verifier (roles.NewLocal, in memory,
// precomputation off) and commits d as the stream's first batch.
func (s VDS) Build(ctx context.Context, d *Data) (System, error) {
	l, err := roles.NewLocal(ctx, s.CRS, memory.NewOwnerStore(), memory.NewServerStore())
	if err != nil {
		return nil, err
	}
	if !s.Precompute {
		_ = l.Server.Close() // no background precomputation: answers are direct
	}
	sys := &vdsSystem{l: l, codec: codec.Default(), precompute: s.Precompute}
	for k := range d.Cols {
		sys.cols = append(sys.cols, fmt.Sprintf("c%d", k))
	}
	if err := sys.AddBatch(ctx, d); err != nil {
		return nil, err
	}
	return sys, nil
}

// AddBatch commits d as the stream's next batch.
func (s *vdsSystem) AddBatch(ctx context.Context, d *Data) error {
	b := &roles.Batch{Stream: "compare", Timestamps: d.Times}
	for k, col := range d.Cols {
		b.Columns = append(b.Columns, roles.Column{Name: s.cols[k], Values: col})
	}
	sh, err := s.l.Owner.CreateBatch(ctx, b)
	if err != nil {
		return err
	}
	id, err := sh.Header.Digest()
	if err != nil {
		return err
	}
	s.ids = append(s.ids, id)
	s.data = append(s.data, d)
	if s.precompute {
		return s.l.Server.WaitPrecomputed(ctx)
	}
	return nil
}

// Revoke revokes a batch; the verifier receives the new state from the
// owner synchronously.
func (s *vdsSystem) Revoke(ctx context.Context, batch int) error {
	_, err := s.l.Owner.Revoke(ctx, s.ids[batch])
	return err
}

// query maps q onto a roles.Query.
func (s *vdsSystem) query(q Query) *roles.Query {
	rq := &roles.Query{Batch: s.ids[q.Batch], Columns: s.cols}
	switch q.Kind {
	case Point:
		rq.Kind, rq.Row = roles.QueryPoint, q.Row
	case Range:
		rq.Kind, rq.From, rq.To = roles.QueryRange, q.From, q.To
	case Window:
		rq.Kind, rq.TimeFrom, rq.TimeTo = roles.QueryWindow, q.TimeFrom, q.TimeTo
	}
	return rq
}

// Answer is the storage server's answer, CBOR-encoded as on the wire.
func (s *vdsSystem) Answer(ctx context.Context, q Query) ([]byte, error) {
	ans, err := s.l.Server.Answer(ctx, s.query(q))
	if err != nil {
		return nil, err
	}
	return s.codec.Marshal(ans)
}

// Omit answers a query that selects one row fewer (the range ending a row
// earlier, the window ending at the previous row's time) and presents it
// as the answer to q; for a point it answers with zero values.
func (s *vdsSystem) Omit(ctx context.Context, q Query) ([]byte, error) {
	narrow := q
	d := s.data[q.Batch]
	switch q.Kind {
	case Range:
		narrow.To--
	case Window:
		_, last := q.Selected(d)
		narrow.TimeTo = d.Times[last-2]
	}
	ans, err := s.l.Server.Answer(ctx, s.query(narrow))
	if err != nil {
		return nil, err
	}
	ans.Query = *s.query(q)
	if q.Kind == Point {
		for i := range ans.Values {
			ans.Values[i] = codec.Scalar{}
		}
	}
	return s.codec.Marshal(ans)
}

// Verify decodes the answer (every point checked) and verifies it with
// roles.Verifier.Verify: header, state, non-membership, opening.
func (s *vdsSystem) Verify(ctx context.Context, q Query, answer []byte) ([]*big.Int, error) {
	var ans roles.Answer
	if err := s.codec.Unmarshal(answer, &ans); err != nil {
		return nil, err
	}
	res, err := s.l.Verifier.Verify(ctx, s.query(q), &ans)
	if err != nil {
		return nil, err
	}
	out := make([]*big.Int, len(res.Values))
	for i, v := range res.Values {
		out[i] = v.Int
	}
	return out, nil
}

// VerifierState is the verifier's part of the CRS (g, g₁…gₙ in G1 and
// ĝ, ĝ₁…ĝₙ in G2, compressed: 144·(n+1) bytes; the prefix sums it also
// keeps in memory are derived from them), the owner's keys and the latest
// signed state, encoded.
func (s *vdsSystem) VerifierState() int {
	n := s.l.CRS.VerifierKey().N()
	total := (n + 1) * (48 + 96)
	keys := s.l.Owner.Keys()
	if b, err := s.codec.Marshal(&keys); err == nil {
		total += len(b)
	}
	if st := s.l.Verifier.State(); st != nil {
		if b, err := s.codec.Marshal(st); err == nil {
			total += len(b)
		}
	}
	return total
}
