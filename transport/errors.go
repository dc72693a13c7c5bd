package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
)

// WireError is an error as it travels: a code naming the sentinel it
// matches, the message, and the evidence of a typed error.
type WireError struct {
	Code    string         `cbor:"code"`
	Message string         `cbor:"msg"`
	From    uint64         `cbor:"from,omitempty"` // MissingStatesError
	To      uint64         `cbor:"to,omitempty"`
	Have    uint64         `cbor:"have,omitempty"` // StaleStateError
	Got     uint64         `cbor:"got,omitempty"`
	Batch   *roles.BatchID `cbor:"batch,omitempty"` // RevokedError
	Epoch   uint64         `cbor:"epoch,omitempty"`
	Field   string         `cbor:"field,omitempty"` // InputError; StreamConflictError's stream
	Reason  string         `cbor:"reason,omitempty"`
	Kind    string         `cbor:"kind,omitempty"` // which typed error, if any
}

// codes maps wire codes to sentinels, most specific first: an error travels
// as the first code it matches.
var codes = []struct {
	code string
	err  error
}{
	{"wrong_challenge", errs.ErrWrongChallenge},
	{"incomplete", errs.ErrIncomplete},
	{"identity", errs.ErrIdentity},
	{"invalid_point", errs.ErrInvalidPoint},
	{"non_canonical", errs.ErrNonCanonical},
	{"invalid_encoding", errs.ErrInvalidEncoding},
	{"too_large", errs.ErrTooLarge},
	{"invalid_crs", errs.ErrInvalidCRS},
	{"invalid_input", errs.ErrInvalidInput},
	{"bad_proof", errs.ErrBadProof},
	{"bad_signature", errs.ErrBadSignature},
	{"crs_mismatch", errs.ErrCRSMismatch},
	{"revoked", errs.ErrRevoked},
	{"stale_state", errs.ErrStaleState},
	{"unknown_state", errs.ErrUnknownState},
	{"unknown_batch", errs.ErrUnknownBatch},
	{"conflict", errs.ErrConflict},
	{"not_found", errs.ErrNotFound},
	{"unavailable", errs.ErrUnavailable},
	{"closed", errs.ErrClosed},
	{"unauthorized", errs.ErrUnauthorized},
	{"not_leader", errs.ErrNotLeader},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

func sentinel(code string) error {
	for _, c := range codes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}

// ToWire converts an error to its wire form.
func ToWire(err error) *WireError {
	if err == nil {
		return nil
	}
	w := &WireError{Code: "internal", Message: err.Error()}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			w.Code = c.code
			break
		}
	}
	var ms *roles.MissingStatesError
	var st *roles.StaleStateError
	var rv *roles.RevokedError
	var in *roles.InputError
	var sc *roles.StreamConflictError
	var re *roles.RowError
	switch {
	case errors.Is(err, roles.ErrBufferFull):
		w.Kind = "buffer_full"
	case errors.Is(err, roles.ErrSchemaMismatch):
		w.Kind = "schema_mismatch"
	case errors.Is(err, roles.ErrAppenderOpen):
		w.Kind = "appender_open"
	case errors.As(err, &re):
		// A row that breaks a rule of append_rows: From is its index in
		// the request, Got its timestamp.
		w.Kind, w.Field, w.Reason, w.From, w.Got = rowKind(re.Err), re.Stream, re.Reason, uint64(re.Index), re.Time
	case errors.As(err, &ms):
		w.Kind, w.From, w.To = "missing_states", ms.From, ms.To
	case errors.As(err, &st):
		w.Kind, w.Have, w.Got, w.Reason = "stale_state", st.Have, st.Got, st.Reason
	case errors.As(err, &rv):
		b := rv.Batch
		w.Kind, w.Batch, w.Epoch = "revoked", &b, rv.Epoch
	case errors.As(err, &in):
		w.Kind, w.Field, w.Reason = "input", in.Field, in.Reason
	case errors.As(err, &sc):
		w.Kind, w.Field, w.Reason, w.Batch = "stream_conflict", sc.Stream, sc.Reason, sc.Batch
	}
	return w
}

// rowSentinels are the sentinels of a *roles.RowError by wire kind, and
// kindSentinels those of the other typed errors of append_rows.
var (
	rowSentinels = map[string]error{
		"not_increasing": roles.ErrNotIncreasing, "row_shape": roles.ErrRowShape, "value_bound": roles.ErrValueBound,
	}
	kindSentinels = map[string]error{
		"buffer_full": roles.ErrBufferFull, "schema_mismatch": roles.ErrSchemaMismatch, "appender_open": roles.ErrAppenderOpen,
	}
)

// rowKind is the wire kind of a row error's sentinel.
func rowKind(err error) string {
	for k, s := range rowSentinels {
		if errors.Is(err, s) {
			return k
		}
	}
	return "input"
}

// RemoteError is an error returned by the other end that is not one of the
// typed errors of package roles. It matches its sentinel with errors.Is.
type RemoteError struct {
	Code    string
	Message string
	err     error
}

func (e *RemoteError) Error() string { return "remote: " + e.Message }

// Unwrap returns the sentinel of the error's code (nil for "internal").
func (e *RemoteError) Unwrap() error { return e.err }

// Err rebuilds the error: the typed error of package roles when the wire
// form carries one, else a *RemoteError; either matches the same sentinel
// as the original.
func (w *WireError) Err() error {
	if w == nil {
		return nil
	}
	s := sentinel(w.Code)
	switch w.Kind {
	case "missing_states":
		return &roles.MissingStatesError{From: w.From, To: w.To}
	case "stale_state":
		return &roles.StaleStateError{Have: w.Have, Got: w.Got, Reason: w.Reason}
	case "revoked":
		e := &roles.RevokedError{Epoch: w.Epoch}
		if w.Batch != nil {
			e.Batch = *w.Batch
		}
		return e
	case "stream_conflict":
		return &roles.StreamConflictError{Stream: w.Field, Reason: w.Reason, Batch: w.Batch}
	case "not_increasing", "row_shape", "value_bound":
		return &roles.RowError{Stream: w.Field, Index: int(min(w.From, 1<<31)), Time: w.Got, Reason: w.Reason, Err: rowSentinels[w.Kind]}
	case "buffer_full", "schema_mismatch", "appender_open":
		return &RemoteError{Code: w.Code, Message: w.Message, err: kindSentinels[w.Kind]}
	case "input":
		if s == nil {
			s = errs.ErrInvalidInput
		}
		return &roles.InputError{Field: w.Field, Reason: w.Reason, Err: s}
	}
	return &RemoteError{Code: w.Code, Message: w.Message, err: s}
}

// unavailable wraps a transport failure.
func unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("transport: %s: %w", op, err)
	}
	return fmt.Errorf("transport: %s: %w: %w", op, roles.ErrUnavailable, err)
}
