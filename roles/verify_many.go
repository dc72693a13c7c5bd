package roles

import (
	"context"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/internal/hash"
)

// VerifyManyError is the error of [Verifier.VerifyMany] when some answers
// are rejected: Errs[i] is the error of answer i (nil if it verified). It
// unwraps to every non-nil error, so errors.Is(err, ErrBadProof) reports
// whether any answer had a bad proof.
type VerifyManyError struct {
	Errs []error
}

// Error lists the rejected answers.
func (e *VerifyManyError) Error() string {
	var b strings.Builder
	n := 0
	for i, err := range e.Errs {
		if err == nil {
			continue
		}
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "answer %d: %v", i, err)
		n++
	}
	return fmt.Sprintf("vds: %d of %d answers rejected: %s", n, len(e.Errs), b.String())
}

// Unwrap returns the non-nil errors.
func (e *VerifyManyError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// MaxVerifyMany is the largest number of answers VerifyMany takes at once.
const MaxVerifyMany = 4096

// VerifyMany verifies answers[i] to queries[i] for every i, like Verify,
// but checks the pairing equations of all of them at once: one random
// linear combination, one multi-Miller loop and one final exponentiation
// (SPEC §7, "Verifying many answers"). It returns the results in order; if
// some answers are rejected, their results are nil and the error is a
// *VerifyManyError with each one's own error — the one Verify would
// return. When the combined check fails, each answer is checked on its own
// to find the bad ones.
func (v *Verifier) VerifyMany(ctx context.Context, queries []*Query, answers []*Answer) ([]*Result, error) {
	if len(queries) != len(answers) {
		return nil, invalid("verify", "%d queries and %d answers", len(queries), len(answers))
	}
	if len(queries) > MaxVerifyMany {
		return nil, tooLarge("answers", len(queries), MaxVerifyMany)
	}
	results := make([]*Result, len(queries))
	errs := make([]error, len(queries))
	b := v.vk.NewBatch()
	seen := &witnessSet{keys: map[string]bool{}}
	pending := 0
	for i := range queries {
		m, added := b.Mark(), len(seen.added)
		res, err := v.prepare(ctx, queries[i], answers[i], b, seen)
		if err != nil {
			b.Rollback(m) // drop the equations of a half-prepared answer
			seen.rollback(added)
			errs[i] = err
			continue
		}
		results[i] = res
		pending++
	}
	if pending > 0 && b.Verify() != nil {
		// Someone is lying: find who, answer by answer.
		for i := range queries {
			if results[i] == nil {
				continue
			}
			results[i], errs[i] = v.Verify(ctx, queries[i], answers[i])
		}
	}
	for _, err := range errs {
		if err != nil {
			return results, &VerifyManyError{Errs: errs}
		}
	}
	return results, nil
}

// witnessSet holds the non-membership equations already added to a
// combined check: answers on the same batch at the same epoch carry the
// same witness, and the same equation need not be checked twice. A nil set
// holds nothing.
type witnessSet struct {
	keys  map[string]bool
	added []string
}

// witnessKey identifies a non-membership equation: the batch, the epoch
// (hence the accumulator value) and the witness.
func witnessKey(id BatchID, w *accumulator.Witness) string {
	wb := w.W.Bytes()
	ub := w.U.Bytes()
	return string(id[:]) + string(hash.U64(w.Epoch)) + string(wb[:]) + string(ub[:])
}

func (s *witnessSet) has(k string) bool { return s != nil && s.keys[k] }

func (s *witnessSet) add(k string) {
	if s != nil {
		s.keys[k] = true
		s.added = append(s.added, k)
	}
}

// rollback forgets the equations added after the first n.
func (s *witnessSet) rollback(n int) {
	for _, k := range s.added[n:] {
		delete(s.keys, k)
	}
	s.added = s.added[:n]
}
