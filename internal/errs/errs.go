// Package errs holds the sentinel errors shared by every vds package.
//
// The public packages re-export these values (vds.ErrBadProof,
// commitment.ErrBadProof, ...), so errors.Is works whichever name a caller
// uses. Sentinels form a tree: a specific error wraps the general one it is a
// case of, so errors.Is(err, ErrInvalidInput) holds for every malformed input.
package errs

// Sentinel is an error value that may specialise a more general sentinel.
// errors.Is(s, s.Parent) holds.
type Sentinel struct {
	msg    string
	parent error
}

// New returns a sentinel with the given message that specialises parent
// (which may be nil).
func New(msg string, parent error) *Sentinel { return &Sentinel{msg: msg, parent: parent} }

func (s *Sentinel) Error() string { return s.msg }

// Unwrap returns the more general sentinel, or nil.
func (s *Sentinel) Unwrap() error { return s.parent }

// The error tree.
var (
	// ErrInvalidInput: a caller or peer supplied something malformed or out of range.
	ErrInvalidInput = New("vds: invalid input", nil)
	// ErrInvalidEncoding: bytes that do not decode to a valid value.
	ErrInvalidEncoding = New("vds: invalid encoding", ErrInvalidInput)
	// ErrNonCanonical: an encoding that decodes but is not the unique canonical one.
	ErrNonCanonical = New("vds: non-canonical encoding", ErrInvalidEncoding)
	// ErrInvalidPoint: a group element off the curve or outside the prime-order subgroup.
	ErrInvalidPoint = New("vds: invalid group element", ErrInvalidEncoding)
	// ErrIdentity: the identity point where SPEC §2 forbids it.
	ErrIdentity = New("vds: identity point not allowed here", ErrInvalidPoint)
	// ErrTooLarge: an input above a configured size limit.
	ErrTooLarge = New("vds: input exceeds limit", ErrInvalidInput)

	// ErrBadProof: an answer whose proof does not verify.
	ErrBadProof = New("vds: proof does not verify", nil)
	// ErrBadSignature: a signature that does not verify under the owner's key.
	ErrBadSignature = New("vds: bad signature", nil)
	// ErrCRSMismatch: parameters that differ from the ones this party uses or pins.
	ErrCRSMismatch = New("vds: CRS mismatch", nil)
	// ErrInvalidCRS: a CRS whose structure is not that of SPEC §3.
	ErrInvalidCRS = New("vds: invalid CRS", ErrInvalidInput)
	// ErrRevoked: the batch is revoked (or the element is in the accumulator).
	ErrRevoked = New("vds: batch is revoked", nil)
	// ErrStaleState: a state older than the one already held, or older than allowed.
	ErrStaleState = New("vds: stale state", nil)
	// ErrUnknownState: a state that cannot be reached or checked from what is held.
	ErrUnknownState = New("vds: unknown state", nil)
	// ErrUnknownBatch: no batch with that id.
	ErrUnknownBatch = New("vds: unknown batch", nil)
	// ErrConflict: a different object is already stored where this one would go.
	ErrConflict = New("vds: conflicting object already stored", nil)
	// ErrWrongChallenge: an audit answer for another challenge (stale nonce).
	ErrWrongChallenge = New("vds: answer is for another challenge", ErrBadProof)
	// ErrIncomplete: a stream answer that does not prove it covers exactly
	// the live batches of its window (SPEC §11.3).
	ErrIncomplete = New("vds: answer is not provably complete", ErrBadProof)
	// ErrNotFound: a store has no such record.
	ErrNotFound = New("vds: not found", nil)
	// ErrUnavailable: a peer could not be reached; the call may be retried.
	ErrUnavailable = New("vds: peer unavailable", nil)
	// ErrClosed: the object was closed.
	ErrClosed = New("vds: closed", nil)
	// ErrUnauthorized: a caller that may not call a restricted method (an
	// owner mutation) without the owner's credentials: a bearer token, a
	// verified client certificate or the owner's Unix socket.
	ErrUnauthorized = New("vds: unauthorized", nil)
	// ErrNotLeader: an owner that does not hold the owner's lease (a
	// standby, or a former leader whose lease lapsed or was taken over)
	// refused a call, or its store refused a write fenced by a lease token
	// that is no longer current. Nothing was done: the call may go to the
	// leading owner.
	ErrNotLeader = New("vds: not the leading owner", nil)
)
