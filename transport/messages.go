package transport

import (
	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
)

var (
	errInvalid  = errs.ErrInvalidInput
	errNotFound = errs.ErrNotFound
	errTooLarge = errs.ErrTooLarge
)

// Empty is the request or response of methods that carry nothing.
type Empty struct{}

// Health answers the health method of every service.
type Health struct {
	Service  string     `cbor:"service"`
	CRS      roles.Hash `cbor:"crs"`
	Owner    roles.Hash `cbor:"owner"`
	Epoch    uint64     `cbor:"epoch"`
	HasEpoch bool       `cbor:"has_epoch,omitempty"`
	// Ready answers a HealthRequest with Ready set: whether the server is
	// ready to serve (see StorageReady, OwnerReady, VerifierReady). It is
	// absent otherwise, so that clients that predate it (which refuse
	// unknown fields) still decode the answer, and from servers that
	// predate it.
	Ready *bool `cbor:"ready,omitempty"`
	// NotReady says why the server is not ready ("" when it is).
	NotReady string `cbor:"not_ready,omitempty"`
}

// BatchRef names a batch.
type BatchRef struct {
	Batch roles.BatchID `cbor:"batch"`
}

// StreamRef names a stream ("" for all).
type StreamRef struct {
	Stream string `cbor:"stream,omitempty"`
}

// BatchList is the response of list_batches.
type BatchList struct {
	Batches []roles.BatchInfo `cbor:"batches"`
}

// EpochRange asks for the states of epochs From..To.
type EpochRange struct {
	From uint64 `cbor:"from"`
	To   uint64 `cbor:"to"`
}

// StateList is the response of get_states.
type StateList struct {
	States []roles.SignedState `cbor:"states"`
}

// CRSFile is the response of get_crs: the CRS file and the owner's keys.
type CRSFile struct {
	CRS  []byte          `cbor:"crs"`
	Keys roles.OwnerKeys `cbor:"keys"`
}

// ColumnValues is a column of a new batch on the wire: integer values, one
// per timestamp (decimal values are scaled integers, see roles.ParseDecimal).
type ColumnValues struct {
	Name   string  `cbor:"name"`
	Scale  uint8   `cbor:"scale"`
	Bits   uint8   `cbor:"bits,omitempty"` // the bound |v| < 2^Bits; 0: roles.DefaultBits
	Values []int64 `cbor:"values"`
}

// NewBatch is the request of create_batch.
type NewBatch struct {
	Stream     string         `cbor:"stream"`
	Timestamps []uint64       `cbor:"t"`
	Columns    []ColumnValues `cbor:"cols"`
}

// batch converts the request to a roles.Batch.
func (b *NewBatch) batch() *roles.Batch {
	rb := &roles.Batch{Stream: b.Stream, Timestamps: b.Timestamps}
	for _, c := range b.Columns {
		v := c.Values
		if v == nil {
			v = []int64{}
		}
		rb.Columns = append(rb.Columns, roles.Column{Name: c.Name, Scale: c.Scale, Bits: c.Bits, Values: v})
	}
	return rb
}

// FromBatch converts an int64 roles.Batch to the request of create_batch.
func FromBatch(b *roles.Batch) *NewBatch {
	nb := &NewBatch{Stream: b.Stream, Timestamps: b.Timestamps}
	for _, c := range b.Columns {
		nb.Columns = append(nb.Columns, ColumnValues{Name: c.Name, Scale: c.Scale, Bits: c.Bits, Values: c.Values})
	}
	return nb
}

// UpdateRequest is the request of the owner's update_batch.
type UpdateRequest struct {
	Batch roles.BatchID `cbor:"batch"`
	New   NewBatch      `cbor:"new"`
}

// UpdateResult is the response of the owner's update_batch.
type UpdateResult struct {
	Header roles.SignedHeader `cbor:"hdr"`
	State  roles.SignedState  `cbor:"state"`
}

// VerifyRequest asks a verifier to check an answer to a query.
type VerifyRequest struct {
	Query  roles.Query  `cbor:"q"`
	Answer roles.Answer `cbor:"ans"`
}

// VerifyResult is a verified answer on the wire.
type VerifyResult struct {
	Batch   roles.BatchID   `cbor:"batch"`
	Epoch   uint64          `cbor:"epoch"`
	Kind    roles.QueryKind `cbor:"kind"`
	Columns []string        `cbor:"cols"`
	Values  []string        `cbor:"values"` // decimal, with each column's scale
	Raw     []string        `cbor:"raw"`    // the integers, unscaled
	First   uint32          `cbor:"first,omitempty"`
	Last    uint32          `cbor:"last,omitempty"`
}

func toVerifyResult(r *roles.Result) *VerifyResult {
	out := &VerifyResult{Batch: r.Batch, Epoch: r.Epoch, Kind: r.Kind, Columns: r.Columns, First: r.First, Last: r.Last}
	for _, v := range r.Values {
		out.Values = append(out.Values, v.String())
		out.Raw = append(out.Raw, v.Int.String())
	}
	return out
}

// CreateResult is the response of the owner's create_batch: the batch's
// signed header, and whether the stream already held exactly this content
// (nothing new was stored; SPEC §11.1).
type CreateResult struct {
	Header   roles.SignedHeader `cbor:"hdr"`
	Existing bool               `cbor:"existing,omitempty"`
}

// UpdatePlan is the response of the owner's check_update: what an update
// would change (roles.UpdatePlan on the wire).
type UpdatePlan struct {
	Stream     string             `cbor:"stream"`
	Seq        uint64             `cbor:"seq"`
	OldBatch   roles.BatchID      `cbor:"old"`
	OldVersion uint32             `cbor:"oldver"`
	NewVersion uint32             `cbor:"newver"`
	OldT0      uint64             `cbor:"oldt0"`
	OldT1      uint64             `cbor:"oldt1"`
	NewT0      uint64             `cbor:"newt0"`
	NewT1      uint64             `cbor:"newt1"`
	OldRows    uint32             `cbor:"oldrows"`
	NewRows    uint32             `cbor:"newrows"`
	Columns    []roles.ColumnInfo `cbor:"cols"`
}

// VerifyStreamRequest asks a verifier to check a stream answer: Answer,
// and for an answer in segments (SPEC §11.5) the segments after the first
// in Rest, all checked together.
type VerifyStreamRequest struct {
	Query  roles.StreamQuery    `cbor:"q"`
	Answer roles.StreamAnswer   `cbor:"ans"`
	Rest   []roles.StreamAnswer `cbor:"rest,omitempty"`
}

// VerifyStreamResult is a verified stream answer on the wire.
type VerifyStreamResult struct {
	Stream   string              `cbor:"stream"`
	Epoch    uint64              `cbor:"epoch"`
	IssuedAt int64               `cbor:"iat"`
	Columns  []string            `cbor:"cols"`
	Totals   []string            `cbor:"totals"` // decimal, with each column's scale
	Raw      []string            `cbor:"raw"`    // the integers, unscaled
	Scales   []uint8             `cbor:"scales"`
	Batches  []roles.StreamEntry `cbor:"batches"`
	Rows     uint64              `cbor:"rows"`
}

func toVerifyStreamResult(r *roles.StreamResult) *VerifyStreamResult {
	out := &VerifyStreamResult{Stream: r.Stream, Epoch: r.Epoch, IssuedAt: r.IssuedAt, Columns: r.Columns, Batches: r.Batches, Rows: r.Rows}
	for _, v := range r.Totals {
		out.Totals = append(out.Totals, v.String())
		out.Raw = append(out.Raw, v.Int.String())
		out.Scales = append(out.Scales, v.Scale)
	}
	return out
}

// AppendRequest is the request of the owner's append_rows: rows for a
// stream, with the schema of its appender (the columns' names, scales and
// bounds; one int64 value per column in each row). With no rows it only
// asks for the stream's last acknowledged timestamp.
type AppendRequest struct {
	Stream  string             `cbor:"stream"`
	Columns []roles.ColumnInfo `cbor:"cols"`
	Rows    []roles.Row        `cbor:"rows"`
	// Flush asks the owner to seal the stream's pending rows (those of
	// this call included) before it answers (DataOwner.FlushRows).
	Flush bool `cbor:"flush,omitempty"`
}

// AppendResponse is the response of append_rows: the rows of the request
// acknowledged (durable in the owner's store: all of them), the batches the
// stream's appender has sealed, the rows it holds unsealed, and the
// stream's last acknowledged timestamp.
type AppendResponse struct {
	Acknowledged uint64 `cbor:"acked"`
	Sealed       uint64 `cbor:"sealed"`
	Pending      uint64 `cbor:"pending"`
	Last         uint64 `cbor:"last"`
}
