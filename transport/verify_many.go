package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/vdsproject/vds/roles"
)

// VerifyManyRequest asks a verifier to check several answers at once
// (verify_many): one combined pairing check for all of them.
type VerifyManyRequest struct {
	Items []VerifyRequest `cbor:"items"`
}

// VerifyManyItem is the outcome of one answer of a verify_many call:
// either its result or its error.
type VerifyManyItem struct {
	Result *VerifyResult `cbor:"res,omitempty"`
	Err    *WireError    `cbor:"err,omitempty"`
}

// VerifyManyResult holds the outcome of each answer, in order.
type VerifyManyResult struct {
	Items []VerifyManyItem `cbor:"items"`
}

// verifyMany is the verify_many method of VerifierService.
func verifyMany(v *roles.Verifier) *Method {
	return method("verify_many", true, func(ctx context.Context, r *VerifyManyRequest) (*VerifyManyResult, error) {
		if len(r.Items) > roles.MaxVerifyMany {
			return nil, fmt.Errorf("transport: verify_many: %d answers, at most %d: %w", len(r.Items), roles.MaxVerifyMany, errInvalid)
		}
		qs := make([]*roles.Query, len(r.Items))
		as := make([]*roles.Answer, len(r.Items))
		for i := range r.Items {
			qs[i], as[i] = &r.Items[i].Query, &r.Items[i].Answer
		}
		res, err := v.VerifyMany(ctx, qs, as)
		var errs []error
		var me *roles.VerifyManyError
		if errors.As(err, &me) {
			errs = me.Errs
		} else if err != nil {
			return nil, err
		}
		out := &VerifyManyResult{Items: make([]VerifyManyItem, len(qs))}
		for i := range qs {
			if errs != nil && errs[i] != nil {
				out.Items[i].Err = ToWire(errs[i])
				continue
			}
			out.Items[i].Result = toVerifyResult(res[i])
		}
		return out, nil
	})
}

// VerifyMany calls verify_many: the results in order, and, if some answers
// were rejected, a *roles.VerifyManyError with each one's error (its
// result is then nil).
func (c VerifierClient) VerifyMany(ctx context.Context, qs []*roles.Query, as []*roles.Answer) ([]*VerifyResult, error) {
	if len(qs) != len(as) {
		return nil, fmt.Errorf("transport: verify_many: %d queries and %d answers: %w", len(qs), len(as), errInvalid)
	}
	req := &VerifyManyRequest{Items: make([]VerifyRequest, len(qs))}
	for i := range qs {
		req.Items[i] = VerifyRequest{Query: *qs[i], Answer: *as[i]}
	}
	var r VerifyManyResult
	if err := c.call(ctx, "verify_many", req, &r); err != nil {
		return nil, err
	}
	if len(r.Items) != len(qs) {
		return nil, fmt.Errorf("transport: verify_many: %d outcomes for %d answers: %w", len(r.Items), len(qs), errInvalid)
	}
	out := make([]*VerifyResult, len(qs))
	errs := make([]error, len(qs))
	failed := false
	for i, it := range r.Items {
		switch {
		case it.Err != nil:
			errs[i], failed = it.Err.Err(), true
		case it.Result != nil:
			out[i] = it.Result
		default:
			return nil, fmt.Errorf("transport: verify_many: answer %d has neither result nor error: %w", i, errInvalid)
		}
	}
	if failed {
		return out, &roles.VerifyManyError{Errs: errs}
	}
	return out, nil
}
