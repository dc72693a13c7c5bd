package compare

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sort"
)

// Errors of the verifiers. Every rejection wraps ErrRejected.
var (
	// ErrRejected is the root of every verification failure.
	ErrRejected = errors.New("compare: answer rejected")
	// ErrIncomplete: the answer leaves out rows the query selects.
	ErrIncomplete = fmt.Errorf("%w: incomplete", ErrRejected)
	// ErrRevokedBatch: the answer is about a revoked batch.
	ErrRevokedBatch = fmt.Errorf("%w: revoked batch", ErrRejected)
	// ErrMalformed: the answer does not decode.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrRejected)
)

// Data is one batch of a stream: strictly increasing millisecond
// timestamps and int64 columns of the same length.
type Data struct {
	Times []uint64
	Cols  [][]int64
}

// Rows returns the number of rows.
func (d *Data) Rows() int { return len(d.Times) }

// NewData returns a batch of n rows and c columns of random int64 values
// (either sign, full width), with timestamps one second apart from start.
// The same seed gives the same data.
func NewData(n, c int, start uint64, seed uint64) *Data {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	d := &Data{Times: make([]uint64, n), Cols: make([][]int64, c)}
	for i := range d.Times {
		d.Times[i] = start + uint64(i)*1000
	}
	for k := range d.Cols {
		d.Cols[k] = make([]int64, n)
		for i := range d.Cols[k] {
			d.Cols[k][i] = int64(r.Uint64())
		}
	}
	return d
}

// Kind is the kind of a query.
type Kind uint8

// Query kinds.
const (
	Point  Kind = 1 // the values of one row
	Range  Kind = 2 // the sums over rows From..To
	Window Kind = 3 // the sums over the rows with TimeFrom ≤ t ≤ TimeTo
)

// Query asks a system about one batch: batch 0 is the first one built,
// batch 1 the one AddBatch added. Rows are numbered from 1.
type Query struct {
	Batch            int
	Kind             Kind
	Row              uint32 // Point
	From, To         uint32 // Range
	TimeFrom, TimeTo uint64 // Window
}

// Selected returns the rows (1-based, First..Last) that q selects in d.
func (q Query) Selected(d *Data) (first, last int) {
	switch q.Kind {
	case Point:
		return int(q.Row), int(q.Row)
	case Range:
		return int(q.From), int(q.To)
	}
	first = sort.Search(len(d.Times), func(i int) bool { return d.Times[i] >= q.TimeFrom }) + 1
	last = sort.Search(len(d.Times), func(i int) bool { return d.Times[i] > q.TimeTo })
	return first, last
}

// Sums returns what an honest answer to q over d gives: the per-column
// sums of the selected rows (the values of a point).
func (q Query) Sums(d *Data) []*big.Int {
	first, last := q.Selected(d)
	out := make([]*big.Int, len(d.Cols))
	for k, col := range d.Cols {
		s := new(big.Int)
		for i := first; i <= last; i++ {
			s.Add(s, big.NewInt(col[i-1]))
		}
		out[k] = s
	}
	return out
}

// System is one stream held one way: the owner's and the server's state
// and a verifier anchored at the owner's latest state.
type System interface {
	// Answer is the honest server's answer to q, encoded.
	Answer(ctx context.Context, q Query) ([]byte, error)
	// Omit is a lying server's answer to q: it leaves out the last row q
	// selects (for a point, the row itself) and makes the best answer
	// its scheme allows for the rest.
	Omit(ctx context.Context, q Query) ([]byte, error)
	// Verify checks an answer to q and returns the per-column sums (the
	// values of a point); an error wraps ErrRejected or comes from vds's
	// error tree.
	Verify(ctx context.Context, q Query, answer []byte) ([]*big.Int, error)
	// VerifierState returns the bytes the verifier must hold to check
	// answers: keys, the owner's latest signed state or tree head, the
	// revocation list.
	VerifierState() int
	// AddBatch appends a second batch to the stream (timestamps after
	// the first's).
	AddBatch(ctx context.Context, d *Data) error
	// Revoke revokes batch (0 or 1) and brings the verifier up to date.
	Revoke(ctx context.Context, batch int) error
}

// Scheme builds systems.
type Scheme interface {
	// Name is the scheme's short name: vds, merkle, ed25519.
	Name() string
	// Build holds d as the first batch of a new stream: the owner's
	// set-up and commit work, the server's store, the verifier's anchor.
	Build(ctx context.Context, d *Data) (System, error)
}

// rowBytes encodes row i (0-based) of batch seq: seq, index (1-based),
// timestamp and values, big-endian. It is what the Merkle log's leaves and
// the per-row signatures cover.
func rowBytes(dst []byte, seq uint32, d *Data, i int) []byte {
	dst = binary.BigEndian.AppendUint32(dst, seq)
	dst = binary.BigEndian.AppendUint32(dst, uint32(i+1))
	dst = binary.BigEndian.AppendUint64(dst, d.Times[i])
	for _, col := range d.Cols {
		dst = binary.BigEndian.AppendUint64(dst, uint64(col[i]))
	}
	return dst
}

// row is a decoded row.
type row struct {
	seq, idx uint32
	ts       uint64
	vals     []int64
}

// rowSize is the encoded size of a row of c columns.
func rowSize(c int) int { return 16 + 8*c }

// parseRow decodes a row of c columns.
func parseRow(b []byte, c int) (row, error) {
	if len(b) != rowSize(c) {
		return row{}, fmt.Errorf("%w: row of %d bytes, want %d", ErrMalformed, len(b), rowSize(c))
	}
	r := row{seq: binary.BigEndian.Uint32(b), idx: binary.BigEndian.Uint32(b[4:]), ts: binary.BigEndian.Uint64(b[8:]), vals: make([]int64, c)}
	for k := range r.vals {
		r.vals[k] = int64(binary.BigEndian.Uint64(b[16+8*k:]))
	}
	return r, nil
}

// sumRows adds the rows' values per column.
func sumRows(rows []row, c int) []*big.Int {
	out := make([]*big.Int, c)
	for k := range out {
		out[k] = new(big.Int)
	}
	for _, r := range rows {
		for k, v := range r.vals {
			out[k].Add(out[k], big.NewInt(v))
		}
	}
	return out
}

// reader decodes the answers of the Merkle and Ed25519 schemes.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.err = fmt.Errorf("%w: truncated", ErrMalformed)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// done reports the first error, or trailing bytes.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(r.b))
	}
	return r.err
}
