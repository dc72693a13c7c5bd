package roles

import "context"

// Row is one row appended to a stream (Appender): its timestamp and one
// int64 value per column of the appender's schema, in schema order.
type Row struct {
	Time   uint64  `cbor:"t"`
	Values []int64 `cbor:"v"`
}

// RowStore is implemented by owner stores that keep the rows an Appender
// acknowledged and has not sealed into a batch yet. It is separate from
// OwnerStore so that a store without it still serves every other use; an
// Appender needs it.
//
// The invariant every implementation keeps: a stream's pending rows have
// strictly increasing timestamps, and SealRows commits a batch and removes
// the rows it holds in one atomic step, so that after a crash at any point
// every acknowledged row is either pending or in exactly one committed
// batch.
type RowStore interface {
	// AppendRows adds rows, in order, after the stream's pending rows; a
	// call that returns nil has made them durable. It fails with
	// ErrConflict, storing none of them, if their timestamps do not
	// increase strictly after the stream's last pending row and among
	// themselves.
	AppendRows(ctx context.Context, stream string, rows []Row) error
	// PendingRows returns the stream's pending rows, in time order.
	PendingRows(ctx context.Context, stream string) ([]Row, error)
	// SealRows applies tx as OwnerStore.Commit does and, in the same atomic
	// step, removes the stream's pending rows with Time ≤ through: both
	// happen or neither. A nil tx only removes the rows.
	SealRows(ctx context.Context, tx *OwnerTx, stream string, through uint64) error
}
