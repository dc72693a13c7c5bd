package roles

import (
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/hash"
)

// tagStreamWindow domain-separates the coefficients of a stream answer.
const tagStreamWindow = "vds/v1/stream-window"

// StreamQuery asks for the verified sums of columns over every live batch
// of a stream whose rows fall in a time window (SPEC §11.4). Kind is
// QueryWindow, or QueryPoint for the value at one timestamp (TimeFrom =
// TimeTo).
type StreamQuery struct {
	Stream   string    `cbor:"stream"`
	Kind     QueryKind `cbor:"kind"`
	Columns  []string  `cbor:"cols"`
	TimeFrom uint64    `cbor:"tfrom"`
	TimeTo   uint64    `cbor:"tto"`
}

// StreamProof is the completeness proof of SPEC §11.3.
type StreamProof struct {
	Index    uint64        `cbor:"idx"`   // the stream's position among the streams, in name order
	Root     Hash          `cbor:"root"`  // the stream's root
	Entries  uint64        `cbor:"n"`     // the stream's number of entries
	Path     []Hash        `cbor:"path"`  // proof of the stream's leaf in the streams root
	Run      []StreamEntry `cbor:"run"`   // the entries of the window and one neighbour on each side, if any
	RunProof []Hash        `cbor:"proof"` // proof of Run in the stream root
}

// EdgeRows are the rows an edge batch's timestamps select (First..Last,
// Last = First−1 for none) and the timestamps at its boundary rows (SPEC §7).
type EdgeRows struct {
	First uint32   `cbor:"i0"`
	Last  uint32   `cbor:"i1"`
	Times []uint64 `cbor:"t"`
}

// StreamPart is what a stream answer carries for one live batch of the
// window: its header, its non-membership witness at the state's epoch, its
// claimed values (one per column) and, for an edge batch, its rows. A part
// of a batch whose header the request listed as held (StreamRequest.Held)
// carries neither header nor witness: its run entry names the batch by its
// digest, and that entry, unrevoked under the signed stream head, shows it
// live (SPEC §11.5).
type StreamPart struct {
	Header  *SignedHeader  `cbor:"hdr,omitempty"`
	Witness *WitnessWire   `cbor:"wit,omitempty"`
	Values  []codec.Scalar `cbor:"x"`
	Edge    *EdgeRows      `cbor:"edge,omitempty"`
}

// StreamAnswer is the storage server's answer to a StreamQuery: the signed
// state it is built on, the completeness proof, one part per live batch of
// the window in stream order, and one aggregated proof for every opening.
//
// A window that meets more entries than one answer may cover is split into
// segments (SPEC §11.5): segment Seg of Segs carries a consecutive slice of
// the run, the parts of its live entries and its own aggregated proof; the
// last one carries the run's range proof. Segs is 0 (omitted) for an answer
// in one piece. Rest holds the segments after the first, as
// StorageServer.AnswerStream and FetchStream return them; it is not on the
// wire (each segment is its own message).
type StreamAnswer struct {
	Query StreamQuery  `cbor:"q"`
	State SignedState  `cbor:"state"`
	Proof StreamProof  `cbor:"sp"`
	Parts []StreamPart `cbor:"parts"`
	Pi    *codec.G1    `cbor:"pi,omitempty"` // absent only when there is no part
	Seg   uint32       `cbor:"seg,omitempty"`
	Segs  uint32       `cbor:"segs,omitempty"`

	Rest []*StreamAnswer `cbor:"-"`
}

// StreamRequest asks a storage server for segment Seg of the answer to
// Query (SPEC §11.5). Held lists the digests of the batches whose headers
// the verifier already holds (at most MaxHeldBatches): their parts come
// without header and witness.
type StreamRequest struct {
	Query StreamQuery `cbor:"q"`
	Seg   uint32      `cbor:"seg,omitempty"`
	Held  []BatchID   `cbor:"held,omitempty"`
}

// MaxHeldBatches is the most header digests a StreamRequest may list.
const MaxHeldBatches = 4096

// StreamResult is a verified stream answer.
type StreamResult struct {
	Stream   string
	Epoch    uint64
	IssuedAt int64 // of the state the answer was checked against
	Columns  []string
	Totals   []Value       // one per column: the exact sum over every live batch of the window
	Batches  []StreamEntry // the live batches the window covers, in order
	Rows     uint64        // rows of those batches inside the window
}

// checkStreamQuery checks a stream query's shape.
func checkStreamQuery(q *StreamQuery, lim Limits) error {
	if q == nil {
		return invalid("stream query", "nil")
	}
	if err := CheckName("stream", q.Stream, lim.MaxNameLen); err != nil {
		return err
	}
	if len(q.Columns) == 0 || len(q.Columns) > lim.MaxColumns {
		return invalid("stream query", "%d columns outside [1, %d]", len(q.Columns), lim.MaxColumns)
	}
	seen := make(map[string]bool, len(q.Columns))
	for _, c := range q.Columns {
		if seen[c] {
			return invalid("stream query", "column %s repeated", Display(c))
		}
		seen[c] = true
	}
	switch q.Kind {
	case QueryWindow:
		if q.TimeFrom > q.TimeTo {
			return invalid("stream query", "time window %d..%d is reversed", q.TimeFrom, q.TimeTo)
		}
	case QueryPoint:
		if q.TimeFrom != q.TimeTo {
			return invalid("stream query", "a point query names one timestamp: %d..%d", q.TimeFrom, q.TimeTo)
		}
	default:
		return invalid("stream query", "kind %s is not a stream query (window or point)", q.Kind)
	}
	return nil
}

// streamContext is the hash every coefficient of a stream answer derives
// from: the query, the state (digest, issue time, head) and the run — for a
// segment of a split answer, its slice of the run, then u64(seg) and
// u64(segs) (SPEC §11.5).
func streamContext(q *StreamQuery, st *SignedState, run []StreamEntry, seg, segs uint32) ([]byte, error) {
	qb, err := codec.Default().Marshal(q)
	if err != nil {
		return nil, invalid("stream query", "%v", err)
	}
	d, err := st.State.Digest()
	if err != nil {
		return nil, err
	}
	parts := [][]byte{qb, d[:], hash.U64(uint64(st.IssuedAt)), st.Head.Root[:]}
	for i := range run {
		l := run[i].Leaf()
		parts = append(parts, l[:])
	}
	if segs > 1 {
		parts = append(parts, hash.U64(uint64(seg)), hash.U64(uint64(segs)))
	}
	h := hash.Sum(tagStreamWindow, parts...)
	return h[:], nil
}

// partContext is the context of one batch's combined column opening.
func partContext(sctx []byte, seq uint64, edge *EdgeRows) []byte {
	ctx := append(append([]byte{}, sctx...), hash.U64(seq)...)
	if edge != nil {
		ctx = append(ctx, hash.U64(uint64(edge.First))...)
		ctx = append(ctx, hash.U64(uint64(edge.Last))...)
	}
	return ctx
}

// streamGammas returns γ_i for every part, then γ'_i for every edge, from
// the context and every claimed value and edge (SPEC §11.4).
func streamGammas(sctx []byte, parts []StreamPart) []fr.Element {
	in := [][]byte{sctx}
	edges := 0
	for i := range parts {
		for _, x := range parts[i].Values {
			xe := fr.Element(x)
			b := xe.Bytes()
			in = append(in, b[:])
		}
		if e := parts[i].Edge; e != nil {
			edges++
			in = append(in, hash.U64(uint64(e.First)), hash.U64(uint64(e.Last)))
			for _, t := range e.Times {
				in = append(in, hash.U64(t))
			}
		}
	}
	return hash.ToFr(tagStreamWindow, len(parts)+edges, in...)
}
