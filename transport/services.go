package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/vdsproject/vds/roles"
)

// Service names (SPEC §8).
const (
	ServiceOwner    = "owner"
	ServiceStorage  = "storage"
	ServiceVerifier = "verifier"
)

// kindCheck refuses a query of the wrong kind for an endpoint.
func kindCheck(q *roles.Query, method string, kinds ...roles.QueryKind) error {
	for _, k := range kinds {
		if q.Kind == k {
			return nil
		}
	}
	return &roles.InputError{Field: "query", Reason: method + " does not answer " + q.Kind.String() + " queries"}
}

// StorageService serves a storage server's methods (SPEC §8): health,
// store_batch, add_revoked_item, update_batch, generate_dc_proof (point,
// range and weighted queries), generate_da_proof (audits),
// generate_time_proofs (time windows), get_header, list_batches, get_states
// and latest_state. The mutating ones accept only owner-signed input.
func StorageService(s *roles.StorageServer) *Service {
	owner := s.Owner()
	answer := func(name string, kinds ...roles.QueryKind) *Method {
		return method(name, true, func(ctx context.Context, q *roles.Query) (*roles.Answer, error) {
			if err := kindCheck(q, name, kinds...); err != nil {
				return nil, err
			}
			return s.Answer(ctx, q)
		})
	}
	return NewService(ServiceStorage,
		method("health", true, func(ctx context.Context, _ *Empty) (*Health, error) {
			h := &Health{Service: ServiceStorage, CRS: s.CRSDigest(), Owner: owner.ID()}
			if st, err := s.LatestState(ctx); err == nil {
				h.Epoch, h.HasEpoch = st.State.Epoch, true
			}
			return h, nil
		}),
		method("store_batch", true, func(ctx context.Context, r *roles.StoreBatchRequest) (*Empty, error) {
			return &Empty{}, s.StoreBatch(ctx, r)
		}),
		method("add_revoked_item", true, func(ctx context.Context, st *roles.SignedState) (*Empty, error) {
			return &Empty{}, s.ApplyState(ctx, st)
		}),
		method("update_batch", true, func(ctx context.Context, r *roles.UpdateBatchRequest) (*Empty, error) {
			return &Empty{}, s.UpdateBatch(ctx, r)
		}),
		answer("generate_dc_proof", roles.QueryPoint, roles.QueryRange, roles.QueryWeighted),
		answer("generate_da_proof", roles.QueryAudit),
		answer("generate_time_proofs", roles.QueryWindow),
		method("get_header", true, func(ctx context.Context, r *BatchRef) (*roles.SignedHeader, error) {
			return s.Header(ctx, r.Batch)
		}),
		method("list_batches", true, func(ctx context.Context, r *StreamRef) (*BatchList, error) {
			l, err := s.ListBatches(ctx, r.Stream)
			return &BatchList{Batches: l}, err
		}),
		method("get_states", true, func(ctx context.Context, r *EpochRange) (*StateList, error) {
			l, err := s.States(ctx, r.From, r.To)
			return &StateList{States: l}, err
		}),
		method("latest_state", true, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			return s.LatestState(ctx)
		}),
	)
}

// OwnerService serves a data owner's methods (SPEC §8): health, get_crs (the
// CRS file and the owner's public keys), get_global_pk (the latest signed
// state), get_states, create_batch, revoke_batch, update_batch and refresh.
// crsFile is the CRS file the owner uses.
func OwnerService(o *roles.DataOwner, crsFile []byte) *Service {
	keys := o.Keys()
	return NewService(ServiceOwner,
		method("health", true, func(ctx context.Context, _ *Empty) (*Health, error) {
			h := &Health{Service: ServiceOwner, CRS: o.CRSDigest(), Owner: keys.ID()}
			if st, err := o.LatestState(ctx); err == nil {
				h.Epoch, h.HasEpoch = st.State.Epoch, true
			}
			return h, nil
		}),
		method("get_crs", true, func(context.Context, *Empty) (*CRSFile, error) {
			return &CRSFile{CRS: crsFile, Keys: keys}, nil
		}),
		method("get_global_pk", true, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			return o.LatestState(ctx)
		}),
		method("get_states", true, func(ctx context.Context, r *EpochRange) (*StateList, error) {
			l, err := o.States(ctx, r.From, r.To)
			return &StateList{States: l}, err
		}),
		method("create_batch", false, func(ctx context.Context, b *NewBatch) (*roles.SignedHeader, error) {
			return o.CreateBatch(ctx, b.batch())
		}),
		method("revoke_batch", false, func(ctx context.Context, r *BatchRef) (*roles.SignedState, error) {
			return o.Revoke(ctx, r.Batch)
		}),
		method("update_batch", false, func(ctx context.Context, r *UpdateRequest) (*UpdateResult, error) {
			h, st, err := o.Update(ctx, r.Batch, r.New.batch())
			if err != nil {
				return nil, err
			}
			return &UpdateResult{Header: *h, State: *st}, nil
		}),
		method("refresh", false, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			return o.Refresh(ctx)
		}),
	)
}

// VerifierService serves a verifier's methods (SPEC §8): health,
// verify_dc_query, verify_da_audit, verify_time_proofs and
// update_global_pk.
func VerifierService(v *roles.Verifier) *Service {
	verify := func(name string, kinds ...roles.QueryKind) *Method {
		return method(name, true, func(ctx context.Context, r *VerifyRequest) (*VerifyResult, error) {
			if err := kindCheck(&r.Query, name, kinds...); err != nil {
				return nil, err
			}
			res, err := v.Verify(ctx, &r.Query, &r.Answer)
			if err != nil {
				return nil, err
			}
			return toVerifyResult(res), nil
		})
	}
	return NewService(ServiceVerifier,
		method("health", true, func(context.Context, *Empty) (*Health, error) {
			h := &Health{Service: ServiceVerifier}
			if st := v.State(); st != nil {
				h.CRS, h.Owner, h.Epoch, h.HasEpoch = st.State.CRS, st.State.Owner, st.State.Epoch, true
			}
			return h, nil
		}),
		verify("verify_dc_query", roles.QueryPoint, roles.QueryRange, roles.QueryWeighted),
		verify("verify_da_audit", roles.QueryAudit),
		verify("verify_time_proofs", roles.QueryWindow),
		method("update_global_pk", true, func(ctx context.Context, st *roles.SignedState) (*Empty, error) {
			// A remote caller must not anchor a verifier: one that holds no
			// state anchors at its trusted source first, or refuses.
			if !v.Anchored() {
				if err := v.Sync(ctx); err != nil {
					return nil, fmt.Errorf("transport: update_global_pk: the verifier is not anchored at the owner's state yet: %w", err)
				}
			}
			err := v.AcceptState(ctx, st)
			var ms *roles.MissingStatesError
			if errors.As(err, &ms) {
				// Catch up from the verifier's own state source if it has one.
				if serr := v.Sync(ctx); serr == nil {
					err = v.AcceptState(ctx, st)
				}
			}
			return &Empty{}, err
		}),
	)
}
