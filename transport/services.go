package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/hash"
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

// storeBatchWire is the request of store_batch as the storage service
// decodes it: the signed header first, the data only once the header's
// signature holds, so that no one but the owner can make the server decode
// a batch's worth of scalars.
type storeBatchWire struct {
	Header span               `cbor:"hdr"`
	Data   span               `cbor:"data"`
	State  *roles.SignedState `cbor:"state,omitempty"`
}

// span holds the encoding of one CBOR item of a request without copying
// it: it aliases the request body, which outlives the call.
type span []byte

// MarshalCBOR returns the item.
func (s span) MarshalCBOR() ([]byte, error) {
	if len(s) == 0 {
		return []byte{0xf6}, nil // null
	}
	return s, nil
}

// UnmarshalCBOR keeps the item's bytes (fxamacker/cbor passes a slice of
// the input to Unmarshal, which the transport holds for the call).
func (s *span) UnmarshalCBOR(b []byte) error {
	*s = b
	return nil
}

// updateBatchWire is the request of the storage server's update_batch,
// decoded like storeBatchWire.
type updateBatchWire struct {
	State  roles.SignedState `cbor:"state"`
	Header span              `cbor:"hdr"`
	Data   span              `cbor:"data"`
}

// batchDecoder decodes the header of a batch, checks it and its signature,
// then decodes the data, each with limits that fit it. The signature is
// checked on the header's bytes before any point of the header is decoded.
type batchDecoder struct {
	s        *roles.StorageServer
	shallow  cbor.DecMode // the key id and the signature only
	hdr, dat *codec.CBOR
}

func newBatchDecoder(s *roles.StorageServer) *batchDecoder {
	n, l := s.Capacity(), s.Limits()
	shallow, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  16,
		MaxArrayElements: max(l.MaxColumns, 16),
		MaxMapPairs:      32,
	}.DecMode()
	if err != nil {
		panic(fmt.Sprintf("transport: header decoder: %v", err)) // constant options
	}
	return &batchDecoder{s: s, shallow: shallow,
		hdr: requestCodec(sizeHeader(l), l.MaxColumns),
		dat: requestCodec(sizeBatchData(n, l), max(n, l.MaxColumns)),
	}
}

// signedHeaderBytes is a SignedHeader with its header left encoded.
type signedHeaderBytes struct {
	Header span   `cbor:"h"`
	Sig    []byte `cbor:"sig"`
}

// headerKeyID is the one field of a header the signature check needs.
type headerKeyID struct {
	KeyID string `cbor:"kid"`
}

// shallowError maps an error of the shallow decoder onto the sentinels.
func shallowError(err error) error {
	var (
		nested *cbor.MaxNestedLevelError
		array  *cbor.MaxArrayElementsError
		pairs  *cbor.MaxMapPairsError
	)
	if errors.As(err, &nested) || errors.As(err, &array) || errors.As(err, &pairs) {
		return fmt.Errorf("transport: decode batch header: %w: %w", errTooLarge, err)
	}
	return fmt.Errorf("transport: decode batch header: %w: %w", codec.ErrInvalidEncoding, err)
}

func (d *batchDecoder) decode(hdr, data []byte, sh *roles.SignedHeader, bd *roles.BatchData) error {
	var raw signedHeaderBytes
	if err := d.shallow.Unmarshal(hdr, &raw); err != nil {
		return shallowError(err)
	}
	var kid headerKeyID
	if err := d.shallow.Unmarshal(raw.Header, &kid); err != nil {
		return shallowError(err)
	}
	if err := d.s.CheckHeaderSignature(raw.Header, kid.KeyID, raw.Sig); err != nil {
		return err
	}
	if err := d.hdr.Unmarshal(hdr, sh); err != nil {
		return fmt.Errorf("transport: decode batch header: %w", err)
	}
	if _, err := d.s.CheckHeader(sh); err != nil {
		return err
	}
	if err := d.dat.Unmarshal(data, bd); err != nil {
		return fmt.Errorf("transport: decode batch data: %w", err)
	}
	return nil
}

// StorageService serves a storage server's methods (SPEC §8): health,
// store_batch, add_revoked_item, update_batch, generate_dc_proof (point,
// range and weighted queries), generate_da_proof (audits),
// generate_time_proofs (time windows), get_header, list_batches, get_states
// and latest_state. The mutating ones accept only owner-signed input and
// are restricted to the owner (AccessOwner: over mutual TLS, a client
// certificate of RoleOwner); the data of a batch is decoded only after its
// header's signature is checked.
// Every method's request is limited to what it can carry for the server's
// capacity and limits (RequestLimits).
func StorageService(s *roles.StorageServer) *Service {
	owner := s.Owner()
	bd := newBatchDecoder(s)
	answer := func(name string, kinds ...roles.QueryKind) *Method {
		return method(name, true, func(ctx context.Context, q *roles.Query) (*roles.Answer, error) {
			if err := kindCheck(q, name, kinds...); err != nil {
				return nil, err
			}
			return s.Answer(ctx, q)
		})
	}
	wide := max(s.Capacity(), s.Limits().MaxColumns)
	return withAccess(limitMethods(NewService(ServiceStorage,
		healthMethod(func(ctx context.Context) *Health {
			h := &Health{Service: ServiceStorage, CRS: s.CRSDigest(), Owner: owner.ID()}
			if st, err := s.LatestState(ctx); err == nil {
				h.Epoch, h.HasEpoch = st.State.Epoch, true
			}
			return h
		}, StorageReady(s)),
		&Method{Name: "store_batch", Idempotent: true,
			NewRequest: func() any { return new(storeBatchWire) },
			Serve: func(ctx context.Context, req any) (any, error) {
				switch r := req.(type) {
				case *roles.StoreBatchRequest: // in-process, without the codec
					return &Empty{}, s.StoreBatch(ctx, r)
				case *storeBatchWire:
					sb := roles.StoreBatchRequest{State: r.State}
					if err := bd.decode(r.Header, r.Data, &sb.Header, &sb.Data); err != nil {
						return nil, err
					}
					return &Empty{}, s.StoreBatch(ctx, &sb)
				}
				return nil, fmt.Errorf("transport: store_batch: request of type %T: %w", req, errInvalid)
			}},
		method("add_revoked_item", true, func(ctx context.Context, st *roles.SignedState) (*Empty, error) {
			return &Empty{}, s.ApplyState(ctx, st)
		}),
		&Method{Name: "update_batch", Idempotent: true,
			NewRequest: func() any { return new(updateBatchWire) },
			Serve: func(ctx context.Context, req any) (any, error) {
				switch r := req.(type) {
				case *roles.UpdateBatchRequest: // in-process, without the codec
					return &Empty{}, s.UpdateBatch(ctx, r)
				case *updateBatchWire:
					ub := roles.UpdateBatchRequest{State: r.State}
					if err := bd.decode(r.Header, r.Data, &ub.Header, &ub.Data); err != nil {
						return nil, err
					}
					return &Empty{}, s.UpdateBatch(ctx, &ub)
				}
				return nil, fmt.Errorf("transport: update_batch: request of type %T: %w", req, errInvalid)
			}},
		answer("generate_dc_proof", roles.QueryPoint, roles.QueryRange, roles.QueryWeighted),
		answer("generate_da_proof", roles.QueryAudit),
		answer("generate_time_proofs", roles.QueryWindow),
		method("generate_stream_proof", true, func(ctx context.Context, q *roles.StreamQuery) (*roles.StreamAnswer, error) {
			return answerStreamWhole(ctx, s, q) // stream_segments.go
		}),
		streamSegmentMethod(s),
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
	), s.Capacity(), s.Limits(), s.Limits().MaxColumns, map[string]int{"store_batch": wide, "update_batch": wide, "generate_stream_segment": roles.MaxHeldBatches}))
}

// OwnerService serves a data owner's methods (SPEC §8): health, get_crs (the
// CRS file and the owner's public keys), get_global_pk (the latest signed
// state), get_states, create_batch, append_rows (DataOwner.AppendRows),
// revoke_batch, update_batch, refresh, rotate_key and check_update.
// crsFile is the CRS file the owner uses.
//
// create_batch, append_rows, revoke_batch, update_batch, refresh,
// rotate_key (a new signing key, DataOwner.RotateKey: ErrExternalSigner
// for an owner with an external signer) and check_update are
// Restricted (AccessAdmin): a server calls its Authorizer before it reads
// their requests (by default, only in-process, Unix-socket callers and a
// client certificate of RoleAdmin; see TokenAuthorizer for bearer tokens).
// The reads are public: verifiers poll get_global_pk and get_states.
func OwnerService(o *roles.DataOwner, crsFile []byte) *Service {
	return LeaderOwnerService(func() (*roles.DataOwner, error) { return o, nil },
		o.CRS(), o.Keys(), o.Limits(), crsFile)
}

// LeaderOwnerService is OwnerService for one of several owner processes
// that share the owner's store under a lease: each call goes to
// the DataOwner current returns, the one of the lease's current term in
// this process. While current fails (this process is a standby, or its
// term ended), every method but health and get_crs fails with current's
// error, which must wrap roles.ErrNotLeader (wire code not_leader, HTTP
// 503), having done nothing: a client may send the call to another owner
// (Failover does, mutations included), and readiness is false. crs, keys
// and limits are the owner's (the same in every term).
func LeaderOwnerService(current func() (*roles.DataOwner, error), crs *commitment.CRS, keys roles.OwnerKeys, lim roles.Limits, crsFile []byte) *Service {
	n := crs.N()
	wide := max(n, lim.MaxColumns)
	crsDigest := roles.Hash(crs.ProverKey().Digest())
	return withAccess(limitMethods(NewService(ServiceOwner,
		healthMethod(func(ctx context.Context) *Health {
			h := &Health{Service: ServiceOwner, CRS: crsDigest, Owner: keys.ID()}
			if o, err := current(); err == nil {
				if st, err := o.LatestState(ctx); err == nil {
					h.Epoch, h.HasEpoch = st.State.Epoch, true
				}
			}
			return h
		}, func(ctx context.Context) error {
			o, err := current()
			if err != nil {
				return notReady("not the leading owner: %v", err)
			}
			return OwnerReady(o)(ctx)
		}),
		method("get_crs", true, func(context.Context, *Empty) (*CRSFile, error) {
			return &CRSFile{CRS: crsFile, Keys: keys}, nil
		}),
		method("get_global_pk", true, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			return o.LatestState(ctx)
		}),
		method("get_states", true, func(ctx context.Context, r *EpochRange) (*StateList, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			l, err := o.States(ctx, r.From, r.To)
			return &StateList{States: l}, err
		}),
		method("create_batch", false, func(ctx context.Context, b *NewBatch) (*CreateResult, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			r, err := o.Ingest(ctx, b.batch())
			if r == nil {
				return nil, err
			}
			// A batch saved by the owner but not yet acknowledged by the
			// storage server comes back as an error (the client is told
			// that re-running is safe).
			return &CreateResult{Header: *r.Header, Existing: r.Existing}, err
		}),
		method("append_rows", false, func(ctx context.Context, r *AppendRequest) (*AppendResponse, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			res, err := o.AppendRows(ctx, r.Stream, r.Columns, r.Rows)
			if err != nil {
				return nil, err
			}
			if r.Flush {
				acked := res.Acknowledged
				if res, err = o.FlushRows(ctx, r.Stream); err != nil {
					return nil, err
				}
				res.Acknowledged = acked
			}
			return &AppendResponse{Acknowledged: uint64(res.Acknowledged), Sealed: res.Sealed, Pending: uint64(res.Pending), Last: res.Last}, nil
		}),
		method("revoke_batch", false, func(ctx context.Context, r *BatchRef) (*roles.SignedState, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			return o.Revoke(ctx, r.Batch)
		}),
		method("update_batch", false, func(ctx context.Context, r *UpdateRequest) (*UpdateResult, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			h, st, err := o.Update(ctx, r.Batch, r.New.batch())
			if err != nil {
				return nil, err
			}
			return &UpdateResult{Header: *h, State: *st}, nil
		}),
		method("refresh", false, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			return o.Refresh(ctx)
		}),
		method("rotate_key", false, func(ctx context.Context, _ *Empty) (*roles.SignedState, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			return o.RotateKey(ctx)
		}),
		method("check_update", true, func(ctx context.Context, r *UpdateRequest) (*UpdatePlan, error) {
			o, err := current()
			if err != nil {
				return nil, err
			}
			p, err := o.CheckUpdate(ctx, r.Batch, r.New.batch())
			if err != nil {
				return nil, err
			}
			return &UpdatePlan{Stream: p.Stream, Seq: p.Seq, OldBatch: p.OldBatch, OldVersion: p.OldVersion, NewVersion: p.NewVersion,
				OldT0: p.OldT0, OldT1: p.OldT1, NewT0: p.NewT0, NewT1: p.NewT1, OldRows: p.OldRows, NewRows: p.NewRows, Columns: p.Columns}, nil
		}),
	), n, lim, lim.MaxColumns, map[string]int{"create_batch": wide, "update_batch": wide, "check_update": wide, "append_rows": wide}))
}

// VerifierService serves a verifier's methods (SPEC §8): health,
// verify_dc_query, verify_da_audit, verify_time_proofs, verify_stream,
// verify_many and update_global_pk (restricted to the owner, AccessOwner,
// as the storage server's pushes). A verify request carries no array longer than
// Limits.MaxColumns: a header with more commitments, or an answer with more
// values, is refused before any point in it is decoded.
func VerifierService(v *roles.Verifier) *Service {
	sd := newStreamDecoder(v)
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
	return withAccess(limitMethods(NewService(ServiceVerifier,
		healthMethod(func(context.Context) *Health {
			h := &Health{Service: ServiceVerifier}
			if st := v.State(); st != nil {
				h.CRS, h.Owner, h.Epoch, h.HasEpoch = st.State.CRS, st.State.Owner, st.State.Epoch, true
			}
			return h
		}, VerifierReady(v)),
		verify("verify_dc_query", roles.QueryPoint, roles.QueryRange, roles.QueryWeighted),
		verify("verify_da_audit", roles.QueryAudit),
		verify("verify_time_proofs", roles.QueryWindow),
		&Method{Name: "verify_stream", Idempotent: true,
			NewRequest: func() any { return new(verifyStreamWire) },
			Serve: func(ctx context.Context, req any) (any, error) {
				var r *VerifyStreamRequest
				switch w := req.(type) {
				case *VerifyStreamRequest: // in-process, without the codec
					r = w
				case *verifyStreamWire:
					var err error
					if r, err = sd.decode(ctx, w); err != nil {
						return nil, err
					}
				default:
					return nil, fmt.Errorf("transport: verify_stream: request of type %T: %w", req, errInvalid)
				}
				res, err := v.VerifyStream(ctx, &r.Query, r.answer())
				if err != nil {
					return nil, err
				}
				return toVerifyStreamResult(res), nil
			}},
		verifyMany(v),
		heldBatchesMethod(v), // stream_segments.go
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
	), v.Capacity(), v.Limits(), v.Limits().MaxColumns, map[string]int{"verify_stream": max(v.Limits().MaxStreamBatches+2, v.Limits().MaxStreamSegments), "verify_many": roles.MaxVerifyMany}))
}

// verifyStreamWire is the request of verify_stream as the verifier service
// decodes it: everything but the parts first, each part's fields kept as
// bytes until PrecheckStream has tied every header, by the digest of its
// bytes, to a live entry of the owner's signed stream — so that no peer
// can make the verifier decode the points of headers it will not use.
type verifyStreamWire struct {
	Query  roles.StreamQuery  `cbor:"q"`
	Answer streamAnswerWire   `cbor:"ans"`
	Rest   []streamAnswerWire `cbor:"rest,omitempty"`
}

type streamAnswerWire struct {
	Query roles.StreamQuery `cbor:"q"`
	State roles.SignedState `cbor:"state"`
	Proof roles.StreamProof `cbor:"sp"`
	Parts []streamPartWire  `cbor:"parts"`
	Pi    *codec.G1         `cbor:"pi,omitempty"`
	Seg   uint32            `cbor:"seg,omitempty"`
	Segs  uint32            `cbor:"segs,omitempty"`
}

type streamPartWire struct {
	Header  *signedHeaderSpans `cbor:"hdr,omitempty"` // absent: a header the verifier holds
	Witness *span              `cbor:"wit,omitempty"`
	Values  span               `cbor:"x"`
	Edge    *span              `cbor:"edge,omitempty"` // a pointer: omitempty ignores a marshaler's emptiness
}

type signedHeaderSpans struct {
	Header span   `cbor:"h"`
	Sig    []byte `cbor:"sig"`
}

// streamDecoder decodes the parts of a stream answer once they are
// prechecked, each field with limits that fit it.
type streamDecoder struct {
	v                       *roles.Verifier
	hdr, wit, values, edges *codec.CBOR
}

func newStreamDecoder(v *roles.Verifier) *streamDecoder {
	l := v.Limits()
	return &streamDecoder{v: v,
		hdr:    requestCodec(sizeHeader(l), l.MaxColumns),
		wit:    requestCodec(1024, 16),
		values: requestCodec(1024+int64(l.MaxColumns)*encScalar, l.MaxColumns),
		edges:  requestCodec(1024, 16),
	}
}

func (d *streamDecoder) decode(ctx context.Context, w *verifyStreamWire) (*VerifyStreamRequest, error) {
	wires := append([]*streamAnswerWire{&w.Answer}, ptrs(w.Rest)...)
	segs := make([]*roles.StreamAnswer, len(wires))
	parts := make([]int, len(wires))
	for k, a := range wires {
		segs[k] = &roles.StreamAnswer{Query: a.Query, State: a.State, Proof: a.Proof, Pi: a.Pi, Seg: a.Seg, Segs: a.Segs}
		parts[k] = len(a.Parts)
	}
	digest := func(k, i int) (roles.BatchID, bool) {
		h := wires[k].Parts[i].Header
		if h == nil {
			return roles.BatchID{}, false
		}
		return hash.Sum(hash.TagHeader, h.Header), true // D of SPEC §5: the canonical bytes
	}
	if err := d.v.PrecheckStream(ctx, &w.Query, segs, parts, digest); err != nil {
		return nil, err
	}
	for k, a := range wires {
		if err := d.decodeParts(a, segs[k]); err != nil {
			return nil, err
		}
	}
	r := &VerifyStreamRequest{Query: w.Query, Answer: *segs[0]}
	for _, a := range segs[1:] {
		r.Rest = append(r.Rest, *a)
	}
	return r, nil
}
