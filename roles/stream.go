package roles

import (
	"fmt"
	"slices"
	"sort"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/internal/merkle"
)

// Domain tags of streams (SPEC §11).
const (
	tagStreamEntry = "vds/v1/stream-entry"
	tagStreamLeaf  = "vds/v1/stream"
	tagContent     = "vds/v1/content"
)

// StreamEntry is one entry of a stream (SPEC §11.1): the current version of
// the batch with sequence number Seq, its time range, and whether it is
// revoked (a revoked entry stays as a tombstone).
type StreamEntry struct {
	Seq     uint64  `cbor:"seq"`
	Version uint32  `cbor:"ver"`
	Batch   BatchID `cbor:"batch"`
	T0      uint64  `cbor:"t0"`
	T1      uint64  `cbor:"t1"`
	Revoked bool    `cbor:"rev,omitempty"`
}

// Leaf returns the entry's leaf hash H("vds/v1/stream-entry", CBOR(e)).
func (e *StreamEntry) Leaf() Hash {
	b, err := codec.Default().Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("roles: encode stream entry: %v", err)) // fixed-size fields: unreachable
	}
	return hash.Sum(tagStreamEntry, b)
}

// StreamHead is what the owner signs, with each state, about its streams
// (SPEC §11.2): the streams root and the number of streams and entries.
type StreamHead struct {
	Root    Hash   `cbor:"root"`
	Streams uint64 `cbor:"streams"`
	Entries uint64 `cbor:"entries"`
}

// StreamLeaf returns the leaf of a stream in the streams root:
// H("vds/v1/stream", name, stream root, u64(entries)).
func StreamLeaf(name string, root Hash, entries uint64) Hash {
	return hash.Sum(tagStreamLeaf, []byte(name), root[:], hash.U64(entries))
}

// StreamRoot returns the Merkle root over the entries' leaves.
func StreamRoot(entries []StreamEntry) Hash {
	return merkle.Root(entryLeaves(entries))
}

func entryLeaves(entries []StreamEntry) []merkle.Hash {
	ls := make([]merkle.Hash, len(entries))
	for i := range entries {
		ls[i] = entries[i].Leaf()
	}
	return ls
}

// CheckEntries checks the invariants of SPEC §11.1 that a list of entries,
// first at sequence number first, shows by itself: consecutive sequence
// numbers, and time ranges that are well formed and strictly increasing.
func CheckEntries(first uint64, entries []StreamEntry) error {
	for i := range entries {
		e := &entries[i]
		if e.Seq != first+uint64(i) {
			return fmt.Errorf("vds: stream entry %d has sequence number %d, want %d: %w", i, e.Seq, first+uint64(i), ErrIncomplete)
		}
		if e.T0 > e.T1 {
			return fmt.Errorf("vds: stream entry %d: time range %d..%d: %w", e.Seq, e.T0, e.T1, ErrIncomplete)
		}
		if i > 0 && entries[i-1].T1 >= e.T0 {
			return fmt.Errorf("vds: stream entries %d and %d overlap or are out of order: %w", e.Seq-1, e.Seq, ErrIncomplete)
		}
	}
	return nil
}

// streamSet is every stream's entries, as the owner (and a storage server)
// derives them, with the streams root.
type streamSet struct {
	entries map[string][]StreamEntry
	roots   map[string]Hash // cache of per-stream roots
	content map[string]map[Hash]BatchID
}

func newStreamSet() *streamSet {
	return &streamSet{entries: map[string][]StreamEntry{}, roots: map[string]Hash{}, content: map[string]map[Hash]BatchID{}}
}

// streamsFromRecords rebuilds the streams from the owner's batch records:
// for each sequence number, the highest version is the entry.
func streamsFromRecords(recs []BatchRecord) (*streamSet, error) {
	s := newStreamSet()
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b BatchRecord) int { return cmpSlot(a.Stream, a.Seq, a.Version, b.Stream, b.Seq, b.Version) })
	for _, r := range sorted {
		es := s.entries[r.Stream]
		e := StreamEntry{Seq: r.Seq, Version: r.Version, Batch: r.ID, T0: r.T0, T1: r.T1, Revoked: r.RevokedAt != 0}
		switch {
		case uint64(len(es)) == r.Seq:
			es = append(es, e)
		case uint64(len(es)) == r.Seq+1 && es[r.Seq].Version < r.Version:
			es[r.Seq] = e
		default:
			return nil, fmt.Errorf("vds: owner records of stream %q: sequence number %d version %d out of place: %w", r.Stream, r.Seq, r.Version, ErrConflict)
		}
		s.entries[r.Stream] = es
		if r.RevokedAt == 0 && r.Content != (Hash{}) {
			s.addContent(r.Stream, r.Content, r.ID)
		}
	}
	return s, nil
}

func (s *streamSet) addContent(stream string, c Hash, id BatchID) {
	m := s.content[stream]
	if m == nil {
		m = map[Hash]BatchID{}
		s.content[stream] = m
	}
	m[c] = id
}

// put sets the entry of its sequence number (appending the next one).
func (s *streamSet) put(stream string, e StreamEntry) {
	es := s.entries[stream]
	if e.Seq == uint64(len(es)) {
		es = append(es, e)
	} else {
		es[e.Seq] = e
	}
	s.entries[stream] = es
	delete(s.roots, stream)
}

// clone returns a copy that can be changed without changing s.
func (s *streamSet) clone() *streamSet {
	c := newStreamSet()
	for k, v := range s.entries {
		c.entries[k] = slices.Clone(v)
	}
	for k, v := range s.roots {
		c.roots[k] = v
	}
	for k, v := range s.content {
		m := make(map[Hash]BatchID, len(v))
		for h, id := range v {
			m[h] = id
		}
		c.content[k] = m
	}
	return c
}

// root returns a stream's root (cached).
func (s *streamSet) root(stream string) Hash {
	if r, ok := s.roots[stream]; ok {
		return r
	}
	r := StreamRoot(s.entries[stream])
	s.roots[stream] = r
	return r
}

// names returns the stream names in bytewise order.
func (s *streamSet) names() []string {
	names := make([]string, 0, len(s.entries))
	for n := range s.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// streamLeaves returns the leaves of the streams root, in name order.
func (s *streamSet) streamLeaves() []merkle.Hash {
	names := s.names()
	ls := make([]merkle.Hash, len(names))
	for i, n := range names {
		ls[i] = StreamLeaf(n, s.root(n), uint64(len(s.entries[n])))
	}
	return ls
}

// head returns the stream head of SPEC §11.2.
func (s *streamSet) head() StreamHead {
	var total uint64
	for _, es := range s.entries {
		total += uint64(len(es))
	}
	return StreamHead{Root: merkle.Root(s.streamLeaves()), Streams: uint64(len(s.entries)), Entries: total}
}

// contentHash returns H("vds/v1/content", CBOR of the batch's stream,
// timestamps and columns) for a batch already encoded (SPEC §11.1, item 5).
func contentHash(b *Batch, enc *encoded) (Hash, error) {
	type col struct {
		Name   string             `cbor:"name"`
		Scale  uint8              `cbor:"scale"`
		Bits   uint8              `cbor:"bits"`
		Values codec.ScalarVector `cbor:"v"`
	}
	c := struct {
		Stream string   `cbor:"stream"`
		Times  []uint64 `cbor:"t"`
		Cols   []col    `cbor:"cols"`
	}{Stream: b.Stream, Times: b.Timestamps}
	for i, bc := range b.Columns {
		c.Cols = append(c.Cols, col{Name: bc.Name, Scale: bc.Scale, Bits: enc.bits[i], Values: enc.cols[i]})
	}
	data, err := codec.Default().Marshal(&c)
	if err != nil {
		return Hash{}, fmt.Errorf("vds: content of the batch: %w", err)
	}
	return hash.Sum(tagContent, data), nil
}
