package compare

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/big"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Merkle is a signed RFC 6962 log of the stream's rows, one leaf per row
// (rowBytes, prefixed 0x00) and one per revocation (0x01 ‖ seq), with
// signed tree heads (Ed25519 over size ‖ root). The verifier holds the
// latest tree head, moved forward with consistency proofs, and the list of
// revoked batches it read from the log.
type Merkle struct{}

// Name returns "merkle".
func (Merkle) Name() string { return "merkle" }

const (
	leafRow    = 0x00
	leafRevoke = 0x01
	headDomain = "vds-compare tree head\x00"
)

var hasher = rfc6962.DefaultHasher

// treeHead is a signed tree head: what the verifier holds.
type treeHead struct {
	size uint64
	root []byte
	sig  []byte
}

// merkleSystem is the owner's log (which the server serves), and the
// verifier's view.
type merkleSystem struct {
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
	cols   int
	leaves [][]byte   // leaf data
	levels [][][]byte // levels[l][i]: hash of the perfect node (l, i)
	tree   *compact.Range
	head   treeHead // the log's latest
	start  []uint64 // first leaf of each batch
	data   []*Data

	// the verifier
	vHead    treeHead
	vRevoked []uint32
}

var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

// Build appends d's rows to a new log and signs its tree head.
func (Merkle) Build(ctx context.Context, d *Data) (System, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s := &merkleSystem{priv: priv, pub: pub, cols: len(d.Cols), tree: factory.NewEmptyRange(0)}
	if err := s.appendBatch(d); err != nil {
		return nil, err
	}
	s.vHead = s.head // the verifier's trust anchor
	return s, nil
}

// appendLeaf adds one leaf to the log, keeping every perfect node.
func (s *merkleSystem) appendLeaf(leaf []byte) error {
	s.leaves = append(s.leaves, leaf)
	return s.tree.Append(hasher.HashLeaf(leaf), func(id compact.NodeID, h []byte) {
		for uint(len(s.levels)) <= id.Level {
			s.levels = append(s.levels, nil)
		}
		s.levels[id.Level] = append(s.levels[id.Level], h)
	})
}

// sign signs the log's current tree head.
func (s *merkleSystem) sign() error {
	root, err := s.tree.GetRootHash(nil)
	if err != nil {
		return err
	}
	size := s.tree.End()
	s.head = treeHead{size: size, root: root, sig: ed25519.Sign(s.priv, headMessage(size, root))}
	return nil
}

func headMessage(size uint64, root []byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte(headDomain), size), root...)
}

// AddBatch appends d's rows, signs the new tree head and moves the
// verifier to it.
func (s *merkleSystem) AddBatch(_ context.Context, d *Data) error {
	if err := s.appendBatch(d); err != nil {
		return err
	}
	return s.syncVerifier()
}

// appendBatch appends d's rows and signs the new tree head.
func (s *merkleSystem) appendBatch(d *Data) error {
	seq := uint32(len(s.start))
	s.start = append(s.start, s.tree.End())
	s.data = append(s.data, d)
	for i := range d.Times {
		if err := s.appendLeaf(rowBytes([]byte{leafRow}, seq, d, i)); err != nil {
			return err
		}
	}
	return s.sign()
}

// Revoke appends a revocation leaf and signs; the verifier checks the new
// head's signature, its consistency with the head it holds and the
// revocation leaf's inclusion, then records the revocation.
func (s *merkleSystem) Revoke(_ context.Context, batch int) error {
	if err := s.appendLeaf(binary.BigEndian.AppendUint32([]byte{leafRevoke}, uint32(batch))); err != nil {
		return err
	}
	if err := s.sign(); err != nil {
		return err
	}
	if err := s.syncVerifier(); err != nil {
		return err
	}
	// The server sends the revocation leaf with its inclusion proof.
	idx := s.head.size - 1
	incl, err := s.proof(proof.Inclusion(idx, s.head.size))
	if err != nil {
		return err
	}
	leaf := s.leaves[idx]
	if err := proof.VerifyInclusion(hasher, idx, s.vHead.size, hasher.HashLeaf(leaf), incl, s.vHead.root); err != nil {
		return fmt.Errorf("%w: revocation inclusion: %v", ErrRejected, err)
	}
	s.vRevoked = append(s.vRevoked, binary.BigEndian.Uint32(leaf[1:]))
	return nil
}

// syncVerifier moves the verifier to the log's latest tree head: the
// server sends the head and a consistency proof from the verifier's; the
// verifier checks the signature and the proof.
func (s *merkleSystem) syncVerifier() error {
	cons, err := s.proof(proof.Consistency(s.vHead.size, s.head.size))
	if err != nil {
		return err
	}
	next := s.head
	if !ed25519.Verify(s.pub, headMessage(next.size, next.root), next.sig) {
		return fmt.Errorf("%w: tree head signature", ErrRejected)
	}
	if err := proof.VerifyConsistency(hasher, s.vHead.size, next.size, cons, s.vHead.root, next.root); err != nil {
		return fmt.Errorf("%w: consistency: %v", ErrRejected, err)
	}
	s.vHead = next
	return nil
}

// node returns the hash of a perfect node.
func (s *merkleSystem) node(id compact.NodeID) []byte {
	return s.levels[id.Level][id.Index]
}

// proof fetches and rehashes the nodes of an inclusion or consistency proof.
func (s *merkleSystem) proof(n proof.Nodes, err error) ([][]byte, error) {
	if err != nil {
		return nil, err
	}
	h := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		h[i] = s.node(id)
	}
	return n.Rehash(h, hasher.HashChildren)
}

// rangeHashes returns the hashes of the compact range [begin, end).
func (s *merkleSystem) rangeHashes(begin, end uint64) [][]byte {
	ids := compact.RangeNodes(begin, end, nil)
	h := make([][]byte, len(ids))
	for i, id := range ids {
		h[i] = s.node(id)
	}
	return h
}

// leafRange is the leaves [begin, end) the honest answer to q carries: the
// selected rows, and for a window the leaves just outside it (if any).
func (s *merkleSystem) leafRange(q Query) (begin, end uint64) {
	first, last := q.Selected(s.data[q.Batch])
	begin, end = s.start[q.Batch]+uint64(first-1), s.start[q.Batch]+uint64(last)
	if q.Kind == Window {
		if begin > 0 {
			begin--
		}
		if end < s.vHead.size {
			end++
		}
	}
	return begin, end
}

// encode writes an answer: the leaves [begin, end) of the tree of the
// verifier's size, and the compact ranges [0, begin) and [end, size) (for a
// point, the inclusion proof instead).
//
//	begin u64 | count u32 | count × (len u32 | leaf) | left u32 | left × 32 | right u32 | right × 32
func (s *merkleSystem) encode(begin, end uint64, left, right [][]byte) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint64(b, begin)
	b = binary.BigEndian.AppendUint32(b, uint32(end-begin))
	for _, l := range s.leaves[begin:end] {
		b = binary.BigEndian.AppendUint32(b, uint32(len(l)))
		b = append(b, l...)
	}
	for _, hs := range [][][]byte{left, right} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(hs)))
		for _, h := range hs {
			b = append(b, h...)
		}
	}
	return b
}

// answerLeaves answers with the leaves [begin, end) and their proof.
func (s *merkleSystem) answerLeaves(q Query, begin, end uint64) ([]byte, error) {
	size := s.vHead.size
	if q.Kind == Point && end == begin+1 {
		incl, err := s.proof(proof.Inclusion(begin, size))
		if err != nil {
			return nil, err
		}
		return s.encode(begin, end, incl, nil), nil
	}
	return s.encode(begin, end, s.rangeHashes(0, begin), s.rangeHashes(end, size)), nil
}

// Answer is the server's answer against the verifier's tree head.
func (s *merkleSystem) Answer(_ context.Context, q Query) ([]byte, error) {
	begin, end := s.leafRange(q)
	return s.answerLeaves(q, begin, end)
}

// Omit leaves out the last selected row: the proof is then for a shorter
// run of leaves (a window's also loses the leaf after it, which the run
// must end next to). For a point it sends no leaf.
func (s *merkleSystem) Omit(_ context.Context, q Query) ([]byte, error) {
	begin, end := s.leafRange(q)
	switch q.Kind {
	case Point:
		return s.encode(begin, begin, nil, nil), nil
	case Window:
		_, last := q.Selected(s.data[q.Batch])
		end = s.start[q.Batch] + uint64(last) - 1
	default:
		end--
	}
	return s.answerLeaves(q, begin, end)
}

// decodeMerkle decodes an answer.
func decodeMerkle(b []byte) (begin uint64, leaves [][]byte, left, right [][]byte, err error) {
	r := &reader{b: b}
	begin = r.u64()
	n := r.u32()
	if uint64(n) > uint64(len(b)) {
		return 0, nil, nil, nil, fmt.Errorf("%w: %d leaves", ErrMalformed, n)
	}
	leaves = make([][]byte, 0, n)
	for range n {
		leaves = append(leaves, r.take(int(r.u32())))
	}
	hashes := func() [][]byte {
		k := r.u32()
		if k > 64 {
			r.err = fmt.Errorf("%w: %d hashes", ErrMalformed, k)
			return nil
		}
		hs := make([][]byte, 0, k)
		for range k {
			hs = append(hs, r.take(32))
		}
		return hs
	}
	left = hashes()
	right = hashes()
	return begin, leaves, left, right, r.done()
}

// Verify checks the proof against the tree head the verifier holds, then
// that the leaves are the query's rows: consecutive rows of the batch from
// the first selected; for a window, the leaves at either end are outside
// it (or the log ends there), for a range or a point every row asked for
// is there (a row past the batch's end would need the next leaf to prove
// it; these queries stay inside the batch).
func (s *merkleSystem) Verify(_ context.Context, q Query, answer []byte) ([]*big.Int, error) {
	begin, leaves, left, right, err := decodeMerkle(answer)
	if err != nil {
		return nil, err
	}
	size := s.vHead.size
	end := begin + uint64(len(leaves))
	if len(leaves) == 0 || end > size {
		return nil, fmt.Errorf("%w: leaves [%d, %d) of a tree of %d", ErrIncomplete, begin, end, size)
	}
	if q.Kind == Point {
		if len(leaves) != 1 {
			return nil, fmt.Errorf("%w: %d leaves for a point", ErrRejected, len(leaves))
		}
		if err := proof.VerifyInclusion(hasher, begin, size, hasher.HashLeaf(leaves[0]), left, s.vHead.root); err != nil {
			return nil, fmt.Errorf("%w: inclusion: %v", ErrRejected, err)
		}
	} else {
		if err := s.verifyRange(begin, leaves, left, right); err != nil {
			return nil, err
		}
	}
	seq := uint32(q.Batch)
	if slices.Contains(s.vRevoked, seq) {
		return nil, fmt.Errorf("%w: batch %d", ErrRevokedBatch, seq)
	}
	rows := make([]row, 0, len(leaves))
	firstIn, lastIn := false, false // a window's end leaves are inside it
	for i, l := range leaves {
		edge := q.Kind == Window && (i == 0 || i == len(leaves)-1)
		if len(l) == 0 || l[0] != leafRow {
			if edge {
				continue // a revocation leaf next to the window
			}
			return nil, fmt.Errorf("%w: leaf %d is not a row", ErrRejected, begin+uint64(i))
		}
		r, err := parseRow(l[1:], s.cols)
		if err != nil {
			return nil, err
		}
		if r.seq != seq || (q.Kind == Window && (r.ts < q.TimeFrom || r.ts > q.TimeTo)) {
			if edge {
				continue // the row just outside the window
			}
			return nil, fmt.Errorf("%w: leaf %d is outside the query", ErrRejected, begin+uint64(i))
		}
		if len(rows) > 0 && r.idx != rows[len(rows)-1].idx+1 {
			return nil, fmt.Errorf("%w: row %d follows row %d", ErrIncomplete, r.idx, rows[len(rows)-1].idx)
		}
		firstIn = firstIn || i == 0
		lastIn = i == len(leaves)-1
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: no row", ErrIncomplete)
	}
	switch q.Kind {
	case Window:
		// The run must be bounded on both sides: by a leaf outside the
		// window, or by the log's ends.
		if (firstIn && begin != 0) || (lastIn && end != size) {
			return nil, fmt.Errorf("%w: the window's run is not bounded by leaves outside it", ErrIncomplete)
		}
	default:
		first, last := q.Selected(nil)
		if int(rows[0].idx) != first || int(rows[len(rows)-1].idx) != last {
			return nil, fmt.Errorf("%w: rows %d..%d for %d..%d", ErrIncomplete, rows[0].idx, rows[len(rows)-1].idx, first, last)
		}
	}
	return sumRows(rows, s.cols), nil
}

// verifyRange rebuilds the root from the compact range [0, begin), the
// leaves and the compact range [end, size), and compares it with the
// signed root.
func (s *merkleSystem) verifyRange(begin uint64, leaves, left, right [][]byte) error {
	size := s.vHead.size
	end := begin + uint64(len(leaves))
	r, err := factory.NewRange(0, begin, left)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	for _, l := range leaves {
		if err := r.Append(hasher.HashLeaf(l), nil); err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
	}
	rr, err := factory.NewRange(end, size, right)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if err := r.AppendRange(rr, nil); err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if !bytes.Equal(root, s.vHead.root) {
		return fmt.Errorf("%w: root mismatch", ErrRejected)
	}
	return nil
}

// VerifierState is the log's public key, the signed tree head (size, root,
// signature) and 4 bytes per revoked batch.
func (s *merkleSystem) VerifierState() int {
	return len(s.pub) + 8 + len(s.vHead.root) + len(s.vHead.sig) + 4*len(s.vRevoked)
}
