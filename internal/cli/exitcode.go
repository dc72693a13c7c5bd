package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/vdsproject/vds/internal/errs"
)

// Exit codes of the command (documented in `vds -h` and the README).
const (
	exitOK       = 0 // verified / done
	exitRejected = 1 // rejected by verification (bad proof, stale, revoked, incomplete), or another failure
	exitUsage    = 2 // bad flags or arguments
	exitDown     = 3 // a server could not be reached (never "REJECTED")
	exitInput    = 4 // invalid input: a bad file or value, or refused by the owner's checks
)

const exitCodesHelp = `exit codes:
  0  verified (or done)
  1  rejected by verification: bad proof, stale state, revoked, incomplete
     stream answer, wrong challenge, bad signature (printed "REJECTED: …")
  2  usage: bad flags or arguments
  3  a server could not be reached or timed out (never "REJECTED"; retry)
  4  invalid input: a bad file or value, or refused by the owner's checks
     (overlap, out of order, update out of place, unknown batch, no token)`

// inputError is a local input error (a file, a flag's value): exit 4.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func inputErrorf(format string, a ...any) error {
	return &inputError{fmt.Errorf(format, a...)}
}

// refusedError is an owner's refusal of a mutation (revoke, update): its
// checks found the input wrong — a revoked batch included — so it is exit
// 4, never "REJECTED".
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// ownerRefusal marks err as the owner's refusal.
func ownerRefusal(err error) error {
	if err == nil {
		return nil
	}
	return &refusedError{err}
}

// exitCode maps an error to the command's exit code.
func exitCode(err error) int {
	var in *inputError
	var ref *refusedError
	var ne net.Error
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.Is(err, errs.ErrUnavailable), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &ne):
		return exitDown
	case errors.As(err, &ref):
		return exitInput
	case errors.Is(err, errs.ErrBadProof), errors.Is(err, errs.ErrStaleState), errors.Is(err, errs.ErrRevoked),
		errors.Is(err, errs.ErrBadSignature):
		// ErrIncomplete and ErrWrongChallenge wrap ErrBadProof.
		return exitRejected
	case errors.As(err, &in), errors.Is(err, errs.ErrInvalidInput), errors.Is(err, errs.ErrConflict),
		errors.Is(err, errs.ErrUnauthorized), errors.Is(err, errs.ErrNotFound), errors.Is(err, errs.ErrUnknownBatch):
		return exitInput
	}
	return exitRejected
}

// rejected reports whether err is a verification failure (exit 1 and
// printed "REJECTED: …").
func rejected(err error) bool {
	return err != nil && exitCode(err) == exitRejected && !errors.Is(err, errUsage) &&
		(errors.Is(err, errs.ErrBadProof) || errors.Is(err, errs.ErrStaleState) || errors.Is(err, errs.ErrRevoked) || errors.Is(err, errs.ErrBadSignature))
}
