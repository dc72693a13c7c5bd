package transport

import (
	"context"

	"github.com/vdsproject/vds/roles"
)

// Transport is the client side of a transport: it calls a method of a
// service with a request value and fills the response value (a pointer),
// honouring ctx. Errors of the method come back as the same sentinels and
// typed errors as in-process; transport failures wrap roles.ErrUnavailable.
// Implementations are safe for concurrent use.
type Transport interface {
	Call(ctx context.Context, service, method string, req, resp any) error
	Close() error
}

// StorageClient calls a storage server through a Transport. It implements
// roles.StorageClient (for a DataOwner) and roles.StateSource (for a
// Verifier).
type StorageClient struct{ T Transport }

var (
	_ roles.StorageClient = StorageClient{}
	_ roles.StateSource   = StorageClient{}
)

func (c StorageClient) call(ctx context.Context, m string, req, resp any) error {
	return c.T.Call(ctx, ServiceStorage, m, req, resp)
}

// Health calls health.
func (c StorageClient) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.call(ctx, "health", &Empty{}, &h)
}

// StoreBatch calls store_batch.
func (c StorageClient) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	return c.call(ctx, "store_batch", r, &Empty{})
}

// ApplyState calls add_revoked_item.
func (c StorageClient) ApplyState(ctx context.Context, st *roles.SignedState) error {
	return c.call(ctx, "add_revoked_item", st, &Empty{})
}

// UpdateBatch calls update_batch.
func (c StorageClient) UpdateBatch(ctx context.Context, r *roles.UpdateBatchRequest) error {
	return c.call(ctx, "update_batch", r, &Empty{})
}

// LatestState calls latest_state.
func (c StorageClient) LatestState(ctx context.Context) (*roles.SignedState, error) {
	var st roles.SignedState
	if err := c.call(ctx, "latest_state", &Empty{}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// States calls get_states.
func (c StorageClient) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	var l StateList
	if err := c.call(ctx, "get_states", &EpochRange{From: from, To: to}, &l); err != nil {
		return nil, err
	}
	return l.States, nil
}

// Answer asks for a proof: generate_da_proof for audits,
// generate_time_proofs for time windows, generate_dc_proof otherwise.
func (c StorageClient) Answer(ctx context.Context, q *roles.Query) (*roles.Answer, error) {
	m := "generate_dc_proof"
	switch q.Kind {
	case roles.QueryAudit:
		m = "generate_da_proof"
	case roles.QueryWindow:
		m = "generate_time_proofs"
	}
	var a roles.Answer
	if err := c.call(ctx, m, q, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AnswerStream fetches every segment of the answer to q with
// generate_stream_segment (roles.FetchStream, no header held): the first
// segment, the others in its Rest.
func (c StorageClient) AnswerStream(ctx context.Context, q *roles.StreamQuery) (*roles.StreamAnswer, error) {
	return roles.FetchStream(ctx, c, q, nil)
}

// Header calls get_header.
func (c StorageClient) Header(ctx context.Context, id roles.BatchID) (*roles.SignedHeader, error) {
	var h roles.SignedHeader
	if err := c.call(ctx, "get_header", &BatchRef{Batch: id}, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// ListBatches calls list_batches.
func (c StorageClient) ListBatches(ctx context.Context, stream string) ([]roles.BatchInfo, error) {
	var l BatchList
	if err := c.call(ctx, "list_batches", &StreamRef{Stream: stream}, &l); err != nil {
		return nil, err
	}
	return l.Batches, nil
}

// OwnerClient calls a data owner through a Transport. It implements
// roles.StateSource.
type OwnerClient struct{ T Transport }

var _ roles.StateSource = OwnerClient{}

func (c OwnerClient) call(ctx context.Context, m string, req, resp any) error {
	return c.T.Call(ctx, ServiceOwner, m, req, resp)
}

// Health calls health.
func (c OwnerClient) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.call(ctx, "health", &Empty{}, &h)
}

// CRS calls get_crs: the CRS file and the owner's public keys.
func (c OwnerClient) CRS(ctx context.Context) (*CRSFile, error) {
	var f CRSFile
	return &f, c.call(ctx, "get_crs", &Empty{}, &f)
}

// LatestState calls get_global_pk.
func (c OwnerClient) LatestState(ctx context.Context) (*roles.SignedState, error) {
	var st roles.SignedState
	if err := c.call(ctx, "get_global_pk", &Empty{}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// States calls get_states.
func (c OwnerClient) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	var l StateList
	if err := c.call(ctx, "get_states", &EpochRange{From: from, To: to}, &l); err != nil {
		return nil, err
	}
	return l.States, nil
}

// CreateBatch calls create_batch: the new batch's header, or that of the
// batch of the stream that already holds exactly this content (Existing).
func (c OwnerClient) CreateBatch(ctx context.Context, b *NewBatch) (*CreateResult, error) {
	var r CreateResult
	if err := c.call(ctx, "create_batch", b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CheckUpdate calls check_update: what replacing batch id by b would
// change, or why it is refused; nothing changes.
func (c OwnerClient) CheckUpdate(ctx context.Context, id roles.BatchID, b *NewBatch) (*UpdatePlan, error) {
	var p UpdatePlan
	if err := c.call(ctx, "check_update", &UpdateRequest{Batch: id, New: *b}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Revoke calls revoke_batch.
func (c OwnerClient) Revoke(ctx context.Context, id roles.BatchID) (*roles.SignedState, error) {
	var st roles.SignedState
	if err := c.call(ctx, "revoke_batch", &BatchRef{Batch: id}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Update calls update_batch.
func (c OwnerClient) Update(ctx context.Context, id roles.BatchID, b *NewBatch) (*UpdateResult, error) {
	var r UpdateResult
	if err := c.call(ctx, "update_batch", &UpdateRequest{Batch: id, New: *b}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Refresh calls refresh: the owner re-signs its latest state.
func (c OwnerClient) Refresh(ctx context.Context) (*roles.SignedState, error) {
	var st roles.SignedState
	if err := c.call(ctx, "refresh", &Empty{}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// RotateKey calls rotate_key: the owner makes a new signing key and hands
// its signing over to it (SPEC §6.3). The result is the handover state:
// its last handover names the retired key (From) and the new one (To).
func (c OwnerClient) RotateKey(ctx context.Context) (*roles.SignedState, error) {
	var st roles.SignedState
	if err := c.call(ctx, "rotate_key", &Empty{}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// VerifierClient calls a verifier through a Transport. It implements
// roles.StateListener, so an owner can push its states to a remote
// verifier (update_global_pk).
type VerifierClient struct{ T Transport }

var _ roles.StateListener = VerifierClient{}

func (c VerifierClient) call(ctx context.Context, m string, req, resp any) error {
	return c.T.Call(ctx, ServiceVerifier, m, req, resp)
}

// Health calls health.
func (c VerifierClient) Health(ctx context.Context) (*Health, error) {
	var h Health
	return &h, c.call(ctx, "health", &Empty{}, &h)
}

// Verify asks the verifier to check an answer: verify_da_audit for audits,
// verify_time_proofs for time windows, verify_dc_query otherwise.
func (c VerifierClient) Verify(ctx context.Context, q *roles.Query, a *roles.Answer) (*VerifyResult, error) {
	m := "verify_dc_query"
	switch q.Kind {
	case roles.QueryAudit:
		m = "verify_da_audit"
	case roles.QueryWindow:
		m = "verify_time_proofs"
	}
	var r VerifyResult
	if err := c.call(ctx, m, &VerifyRequest{Query: *q, Answer: *a}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// VerifyStream calls verify_stream.
func (c VerifierClient) VerifyStream(ctx context.Context, q *roles.StreamQuery, a *roles.StreamAnswer) (*VerifyStreamResult, error) {
	var r VerifyStreamResult
	if err := c.call(ctx, "verify_stream", verifyStreamRequest(q, a), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// AcceptState calls update_global_pk.
func (c VerifierClient) AcceptState(ctx context.Context, st *roles.SignedState) error {
	return c.call(ctx, "update_global_pk", st, &Empty{})
}

// FlushRows calls append_rows with no rows and flush set: the owner seals
// the stream's pending rows into a batch (opening its appender with
// columns if it is not open, to resume rows pending from before a crash)
// and answers once they are committed. It changes nothing when retried.
func (c OwnerClient) FlushRows(ctx context.Context, stream string, columns []roles.ColumnInfo) (*AppendResponse, error) {
	var r AppendResponse
	if err := c.call(ctx, "append_rows", &AppendRequest{Stream: stream, Columns: columns, Flush: true}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// AppendRows calls append_rows: it appends rows to a stream through the
// owner's appender of the stream (opened with columns on first use) and
// returns once they are durable in the owner's store. A row that breaks a
// rule fails with a *roles.RowError (roles.ErrNotIncreasing,
// roles.ErrRowShape, roles.ErrValueBound), nothing appended; a full
// unsealed buffer with an error matching roles.ErrBufferFull (and
// roles.ErrUnavailable; HTTP 503 with Retry-After): nothing appended, retry
// later. The call is not retried by the transport: after a failure whose
// outcome is unknown (a broken connection), call it with no rows to learn
// the stream's last acknowledged timestamp, and send again only the rows
// after it.
func (c OwnerClient) AppendRows(ctx context.Context, stream string, columns []roles.ColumnInfo, rows []roles.Row) (*AppendResponse, error) {
	var r AppendResponse
	if err := c.call(ctx, "append_rows", &AppendRequest{Stream: stream, Columns: columns, Rows: rows}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
