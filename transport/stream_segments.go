package transport

import (
	"context"
	"fmt"

	"github.com/vdsproject/vds/roles"
)

// Stream answers in segments and held headers (SPEC §11.5): the storage
// service's generate_stream_segment, the verifier service's held_batches,
// and the segments of a verify_stream request.

// HeldRequest asks a verifier which headers of a stream's batches meeting
// [From, To] it holds.
type HeldRequest struct {
	Stream string `cbor:"stream"`
	From   uint64 `cbor:"tfrom"`
	To     uint64 `cbor:"tto"`
}

// HeldList is the answer of held_batches: header digests, bytewise sorted,
// at most roles.MaxHeldBatches.
type HeldList struct {
	Batches []roles.BatchID `cbor:"batches"`
}

// answerStreamWhole is generate_stream_proof: an answer in one piece, or
// ErrTooLarge for a window that needs segments (generate_stream_segment).
func answerStreamWhole(ctx context.Context, s *roles.StorageServer, q *roles.StreamQuery) (*roles.StreamAnswer, error) {
	a, err := s.AnswerStream(ctx, q)
	if err != nil {
		return nil, err
	}
	if a.Segs > 1 {
		return nil, &roles.InputError{Field: "stream query", Err: roles.ErrTooLarge,
			Reason: fmt.Sprintf("the window's answer has %d segments: ask generate_stream_segment", a.Segs)}
	}
	return a, nil
}

// streamSegmentMethod is the storage service's generate_stream_segment.
func streamSegmentMethod(s *roles.StorageServer) *Method {
	return method("generate_stream_segment", true, func(ctx context.Context, r *roles.StreamRequest) (*roles.StreamAnswer, error) {
		return s.AnswerStreamSegment(ctx, r)
	})
}

// heldBatchesMethod is the verifier service's held_batches.
func heldBatchesMethod(v *roles.Verifier) *Method {
	return method("held_batches", true, func(ctx context.Context, r *HeldRequest) (*HeldList, error) {
		if err := roles.CheckName("stream", r.Stream, v.Limits().MaxNameLen); err != nil {
			return nil, err
		}
		return &HeldList{Batches: v.HeldBatches(r.Stream, r.From, r.To)}, nil
	})
}

// AnswerStreamSegment calls generate_stream_segment.
func (c StorageClient) AnswerStreamSegment(ctx context.Context, r *roles.StreamRequest) (*roles.StreamAnswer, error) {
	var a roles.StreamAnswer
	if err := c.call(ctx, "generate_stream_segment", r, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// HeldBatches calls held_batches.
func (c VerifierClient) HeldBatches(ctx context.Context, stream string, from, to uint64) ([]roles.BatchID, error) {
	var l HeldList
	if err := c.call(ctx, "held_batches", &HeldRequest{Stream: stream, From: from, To: to}, &l); err != nil {
		return nil, err
	}
	return l.Batches, nil
}

// verifyStreamRequest is the verify_stream request of an answer and its
// segments.
func verifyStreamRequest(q *roles.StreamQuery, a *roles.StreamAnswer) *VerifyStreamRequest {
	r := &VerifyStreamRequest{Query: *q, Answer: *a}
	r.Answer.Rest = nil
	for _, s := range a.Rest {
		if s != nil {
			r.Rest = append(r.Rest, *s)
		}
	}
	return r
}

// answer returns the request's answer with its segments in Rest.
func (r *VerifyStreamRequest) answer() *roles.StreamAnswer {
	a := r.Answer
	if len(r.Rest) > 0 {
		a.Rest = ptrs(r.Rest)
	}
	return &a
}

// ptrs returns pointers to the elements of s.
func ptrs[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// decodeParts decodes the parts of one prechecked segment into a.
func (d *streamDecoder) decodeParts(w *streamAnswerWire, a *roles.StreamAnswer) error {
	a.Parts = make([]roles.StreamPart, len(w.Parts))
	for i := range w.Parts {
		pw, p := &w.Parts[i], &a.Parts[i]
		if pw.Header != nil {
			p.Header = &roles.SignedHeader{Sig: pw.Header.Sig}
			if err := d.hdr.Unmarshal(pw.Header.Header, &p.Header.Header); err != nil {
				return fmt.Errorf("transport: decode header of part %d: %w", i, err)
			}
		}
		if pw.Witness != nil {
			p.Witness = new(roles.WitnessWire)
			if err := d.wit.Unmarshal(*pw.Witness, p.Witness); err != nil {
				return fmt.Errorf("transport: decode witness of part %d: %w", i, err)
			}
		}
		if err := d.values.Unmarshal(pw.Values, &p.Values); err != nil {
			return fmt.Errorf("transport: decode values of part %d: %w", i, err)
		}
		if pw.Edge != nil {
			p.Edge = new(roles.EdgeRows)
			if err := d.edges.Unmarshal(*pw.Edge, p.Edge); err != nil {
				return fmt.Errorf("transport: decode edge rows of part %d: %w", i, err)
			}
		}
	}
	return nil
}
