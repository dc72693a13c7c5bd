package roles

import (
	"context"
	"fmt"
	"slices"
)

// HeldBatches returns the digests of the batches of stream whose rows meet
// [from, to] and whose headers the verifier has verified before (at most
// MaxHeldBatches, in bytewise order): the list a StreamRequest sends so
// that their parts come without header and witness (SPEC §11.5).
func (v *Verifier) HeldBatches(stream string, from, to uint64) []BatchID {
	v.mu.Lock()
	var out []BatchID
	for id, h := range v.headers {
		if h.Stream == stream && h.LastTime >= from && h.FirstTime <= to {
			out = append(out, id)
		}
	}
	v.mu.Unlock()
	slices.SortFunc(out, func(a, b BatchID) int { return slices.Compare(a[:], b[:]) })
	if len(out) > MaxHeldBatches {
		out = out[:MaxHeldBatches]
	}
	return out
}

// maxFetchSegments caps the segments FetchStream asks for.
const maxFetchSegments = 1 << 12

// StreamSegmenter answers segments of stream answers: a StorageServer, or
// a transport client of one.
type StreamSegmenter interface {
	AnswerStreamSegment(ctx context.Context, r *StreamRequest) (*StreamAnswer, error)
}

// FetchStream asks src for every segment of the answer to q, naming the
// headers in held as held, and returns the first segment with the others
// in its Rest: what VerifyStream takes (SPEC §11.5). It stops at the first
// error, and at the first segment that disagrees with the first on the
// number of segments (VerifyStream would reject the answer anyway).
func FetchStream(ctx context.Context, src StreamSegmenter, q *StreamQuery, held []BatchID) (*StreamAnswer, error) {
	if q == nil {
		return nil, invalid("stream query", "nil")
	}
	first, err := src.AnswerStreamSegment(ctx, &StreamRequest{Query: *q, Held: held})
	if err != nil {
		return nil, err
	}
	first.Rest = nil
	if first.Seg != 0 {
		return nil, incomplete("asked for segment 0, got segment %d", first.Seg)
	}
	// The server states how many segments there are: bounded here, and by
	// the verifier's MaxStreamSegments.
	n := int(first.Segs)
	if n > maxFetchSegments {
		return nil, tooLarge("stream answer segments", n, maxFetchSegments)
	}
	for k := 1; k < n; k++ {
		a, err := src.AnswerStreamSegment(ctx, &StreamRequest{Query: *q, Seg: uint32(k), Held: held})
		if err != nil {
			return nil, fmt.Errorf("vds: segment %d of %d: %w", k, n, err)
		}
		if a.Segs != first.Segs || a.Seg != uint32(k) {
			return nil, incomplete("segment %d of %d came as segment %d of %d (the state changed?)", k, n, a.Seg, a.Segs)
		}
		a.Rest = nil
		first.Rest = append(first.Rest, a)
	}
	return first, nil
}

// HoldHeader verifies a signed header (SPEC §12.2) and keeps it, as the
// verifier keeps every header it verifies in an answer: later stream
// answers may then name the batch by its digest only (SPEC §11.5).
func (v *Verifier) HoldHeader(sh *SignedHeader) (BatchID, error) {
	if sh == nil {
		return BatchID{}, invalid("header", "nil")
	}
	id, _, err := v.verifyHeader(sh)
	return id, err
}
