package compare

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"
)

// Ed25519 signs every row (rowBytes under a domain tag) with the owner's
// Ed25519 key; a revocation is the owner's signed list of revoked batches.
// The verifier holds the public key and the latest signed list.
type Ed25519 struct{}

// Name returns "ed25519".
func (Ed25519) Name() string { return "ed25519" }

const (
	rowDomain     = "vds-compare row\x00"
	revokedDomain = "vds-compare revoked\x00"
)

// edSystem is the owner's signed rows (which the server serves) and the
// verifier's key and revocation list.
type edSystem struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	cols int
	rows [][][]byte // rows[batch][i]: signature ‖ row
	data []*Data

	// the verifier
	vRevoked []uint32
	vListSig []byte
}

// Build signs every row of d.
func (Ed25519) Build(ctx context.Context, d *Data) (System, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &edSystem{priv: priv, pub: pub, cols: len(d.Cols)}
	if err := s.AddBatch(ctx, d); err != nil {
		return nil, err
	}
	return s, nil
}

// AddBatch signs every row of d.
func (s *edSystem) AddBatch(_ context.Context, d *Data) error {
	seq := uint32(len(s.rows))
	signed := make([][]byte, d.Rows())
	msg := []byte(rowDomain)
	for i := range signed {
		msg = rowBytes(msg[:len(rowDomain)], seq, d, i)
		signed[i] = append(ed25519.Sign(s.priv, msg), msg[len(rowDomain):]...)
	}
	s.rows = append(s.rows, signed)
	s.data = append(s.data, d)
	return nil
}

func revokedMessage(list []uint32) []byte {
	b := binary.BigEndian.AppendUint32([]byte(revokedDomain), uint32(len(list)))
	for _, seq := range list {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	return b
}

// Revoke signs the new revocation list; the verifier checks it and keeps
// it.
func (s *edSystem) Revoke(_ context.Context, batch int) error {
	list := append(slices.Clone(s.vRevoked), uint32(batch))
	sig := ed25519.Sign(s.priv, revokedMessage(list))
	if !ed25519.Verify(s.pub, revokedMessage(list), sig) {
		return fmt.Errorf("%w: revocation list signature", ErrRejected)
	}
	s.vRevoked, s.vListSig = list, sig
	return nil
}

// encode writes the signed rows [first, last] (1-based) of a batch:
// count u32 | count × (signature ‖ row).
func (s *edSystem) encode(batch, first, last int) []byte {
	n := max(0, last-first+1)
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+n*(64+rowSize(s.cols))), uint32(n))
	for i := first; i <= last; i++ {
		b = append(b, s.rows[batch][i-1]...)
	}
	return b
}

// span is the rows the honest answer carries: the selected ones, and for
// a window the rows just outside it in the batch (their signed timestamps
// show the window's ends).
func (s *edSystem) span(q Query) (first, last int) {
	first, last = q.Selected(s.data[q.Batch])
	if q.Kind == Window {
		first, last = max(1, first-1), min(s.data[q.Batch].Rows(), last+1)
	}
	return first, last
}

// Answer sends the signed rows.
func (s *edSystem) Answer(_ context.Context, q Query) ([]byte, error) {
	first, last := s.span(q)
	return s.encode(q.Batch, first, last), nil
}

// Omit leaves out the last selected row and says the batch ends there: a
// per-row signature cannot show that it does not (nothing signed says how
// many rows a batch has). For a window it also leaves out the row after.
func (s *edSystem) Omit(_ context.Context, q Query) ([]byte, error) {
	first, last := s.span(q)
	_, sel := q.Selected(s.data[q.Batch])
	return s.encode(q.Batch, first, min(last, sel-1)), nil
}

// Verify checks every signature and that the rows are consecutive, from
// the first selected (a gap between two rows is caught); a window's run
// must start with a row before the window (unless it starts at row 1).
// A run that stops early is accepted: the batch may end there.
func (s *edSystem) Verify(_ context.Context, q Query, answer []byte) ([]*big.Int, error) {
	seq := uint32(q.Batch)
	if slices.Contains(s.vRevoked, seq) {
		return nil, fmt.Errorf("%w: batch %d", ErrRevokedBatch, seq)
	}
	r := &reader{b: answer}
	n := r.u32()
	size := 64 + rowSize(s.cols)
	if uint64(n)*uint64(size) > uint64(len(answer)) {
		return nil, fmt.Errorf("%w: %d rows", ErrMalformed, n)
	}
	msg := []byte(rowDomain)
	rows := make([]row, 0, n)
	for range n {
		b := r.take(size)
		if b == nil {
			break
		}
		msg = append(msg[:len(rowDomain)], b[64:]...)
		if !ed25519.Verify(s.pub, msg, b[:64]) {
			return nil, fmt.Errorf("%w: row signature", ErrRejected)
		}
		rw, err := parseRow(b[64:], s.cols)
		if err != nil {
			return nil, err
		}
		if rw.seq != seq {
			return nil, fmt.Errorf("%w: a row of batch %d", ErrRejected, rw.seq)
		}
		if len(rows) > 0 && rw.idx != rows[len(rows)-1].idx+1 {
			return nil, fmt.Errorf("%w: row %d follows row %d", ErrIncomplete, rw.idx, rows[len(rows)-1].idx)
		}
		rows = append(rows, rw)
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	switch q.Kind {
	case Point, Range:
		first, last := q.Selected(nil)
		if len(rows) > 0 && (int(rows[0].idx) != first || int(rows[len(rows)-1].idx) > last) {
			return nil, fmt.Errorf("%w: rows %d..%d for %d..%d", ErrRejected, rows[0].idx, rows[len(rows)-1].idx, first, last)
		}
	case Window:
		if len(rows) > 0 && rows[0].idx != 1 && rows[0].ts >= q.TimeFrom {
			return nil, fmt.Errorf("%w: the window's run does not start before it", ErrIncomplete)
		}
		in := rows[:0:0]
		for _, rw := range rows {
			if rw.ts >= q.TimeFrom && rw.ts <= q.TimeTo {
				in = append(in, rw)
			}
		}
		rows = in
	}
	return sumRows(rows, s.cols), nil
}

// VerifierState is the owner's public key and the signed revocation list.
func (s *edSystem) VerifierState() int {
	return len(s.pub) + len(s.vListSig) + 4 + 4*len(s.vRevoked)
}
