package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
)

// FormatVersion is the version of the file layout (bucket names, keys and
// value encodings) written by this package. Open refuses a file of any other
// version with an error wrapping ErrUnknownFormat.
const FormatVersion = 1

// DefaultLockTimeout is how long Open waits for the file lock by default.
const DefaultLockTimeout = time.Second

// FileMode is the permission of a store file: readable and writable by its
// owner only, since an owner store holds key material.
const FileMode os.FileMode = 0o600

var (
	// ErrLocked is returned (wrapped) by Open when another process, or
	// another open Store of this process, holds the file. It wraps
	// roles.ErrUnavailable.
	ErrLocked = fmt.Errorf("bolt: store file is locked by another store: %w", roles.ErrUnavailable)
	// ErrUnknownFormat is returned (wrapped) by Open for a bbolt file that
	// is not a store of this package or has a layout version other than
	// FormatVersion. It wraps roles.ErrInvalidEncoding.
	ErrUnknownFormat = fmt.Errorf("bolt: unknown store file format: %w", roles.ErrInvalidEncoding)
	// ErrCorrupt is returned (wrapped) when a value read from the file does
	// not decode. It wraps roles.ErrInvalidEncoding.
	ErrCorrupt = fmt.Errorf("bolt: corrupt store file: %w", roles.ErrInvalidEncoding)
)

// Bucket names. The revocation chain and its effects (accumulator history,
// revocation marks) are shared by both roles; the other buckets belong to
// one role.
var (
	bMeta    = []byte("meta")
	bChain   = []byte("chain")     // epoch → CBOR SignedState
	bAcc     = []byte("chain.f")   // epoch → f_E, 96-byte raw G1
	bX       = []byte("chain.x")   // epoch ≥ 1 → x_E, 32-byte scalar
	bRevoked = []byte("revoked")   // batch id → revoking epoch (8 bytes)
	bHeader  = []byte("s.header")  // batch id → CBOR SignedHeader
	bData    = []byte("s.data")    // batch id → batch data layout
	bInfo    = []byte("s.info")    // batch id → CBOR BatchInfo (Revoked false)
	bList    = []byte("s.list")    // listKey → batch id
	bLive    = []byte("s.live")    // slotKey → batch id of the live batch
	bWitness = []byte("s.witness") // batch id → witness layout
	bOwner   = []byte("o.owner")   // "secrets" → CBOR OwnerSecrets
	bSeq     = []byte("o.seq")     // stream → next sequence number (8 bytes)
	bRecord  = []byte("o.record")  // batch id → CBOR BatchRecord
	bPending = []byte("o.pending") // insertion number (8 bytes) → CBOR PendingOp
	bPendIdx = []byte("o.pendidx") // batch id ‖ insertion number → empty

	allBuckets = [][]byte{bMeta, bChain, bAcc, bX, bRevoked, bHeader, bData, bInfo, bList, bLive, bWitness,
		bOwner, bSeq, bRecord, bPending, bPendIdx}

	keyFormat  = []byte("format")
	keySecrets = []byte("secrets")
)

// Option configures Open.
type Option func(*options) error

type options struct {
	lockTimeout time.Duration
}

// WithLockTimeout sets how long Open waits for the exclusive file lock
// before failing with ErrLocked (default DefaultLockTimeout). It must be
// positive: waiting forever would hang a second process instead of telling
// it that the file is in use.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("bolt: lock timeout %v, want > 0: %w", d, roles.ErrInvalidInput)
		}
		o.lockTimeout = d
		return nil
	}
}

// Store is a roles.ServerStore and a roles.OwnerStore in one bbolt file. It
// is safe for concurrent use. See the package documentation for durability,
// locking and the file layout.
type Store struct {
	db     *bbolt.DB
	closed atomic.Bool
}

var (
	_ roles.ServerStore = (*Store)(nil)
	_ roles.OwnerStore  = (*Store)(nil)
	_ roles.Pinger      = (*Store)(nil)
)

// Open opens the store file at path, creating it with mode 0600 if it does
// not exist, and tightening the mode of an existing file to 0600 if it
// grants any permission to the group or to others. It takes an exclusive
// lock on the file for the life of the Store; if another process holds it,
// Open fails after the lock timeout with an error wrapping ErrLocked. A file
// that is not a store of this package, or of another layout version, is
// refused with an error wrapping ErrUnknownFormat.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	db, err := bbolt.Open(path, FileMode, &bbolt.Options{
		Timeout:      o.lockTimeout,
		FreelistType: bbolt.FreelistMapType,
		OpenFile:     openPrivate,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: no lock after %v: %w", path, o.lockTimeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := db.Update(initFile); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// openPrivate opens the file as os.OpenFile does and tightens its mode to
// FileMode if it grants more than read and write to its owner.
func openPrivate(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm()&^FileMode != 0 {
		err = f.Chmod(FileMode)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("restrict the file mode to %v: %w", FileMode, err)
	}
	return f, nil
}

// initFile creates the buckets of a new file, or checks the layout version
// of an existing one.
func initFile(tx *bbolt.Tx) error {
	if meta := tx.Bucket(bMeta); meta != nil {
		v := meta.Get(keyFormat)
		if len(v) != 8 {
			return fmt.Errorf("no layout version: %w", ErrUnknownFormat)
		}
		if ver := binary.BigEndian.Uint64(v); ver != FormatVersion {
			return fmt.Errorf("layout version %d, this package reads version %d: %w", ver, FormatVersion, ErrUnknownFormat)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("bucket %q missing: %w", name, ErrCorrupt)
			}
		}
		return nil
	}
	empty := true
	_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
	if !empty {
		return fmt.Errorf("a bbolt file without a store layout version: %w", ErrUnknownFormat)
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return tx.Bucket(bMeta).Put(keyFormat, epochKey(FormatVersion))
}

// Close releases the file and its lock, after the calls in progress end.
// Every later call fails with roles.ErrClosed; closing again is a no-op.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// Ping implements roles.Pinger: it opens and ends a read transaction
// (roles.ErrClosed after Close).
func (s *Store) Ping(ctx context.Context) error {
	return s.view(ctx, func(*bbolt.Tx) error { return nil })
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if s.closed.Load() {
		return roles.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(s.db.View(fn))
}

// update runs fn in a write transaction: one atomic, fsync'd commit, or
// nothing if fn (or the commit) fails or ctx is cancelled before the commit.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if s.closed.Load() {
		return roles.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return mapErr(s.db.Update(func(tx *bbolt.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return ctx.Err()
	}))
}

func mapErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return roles.ErrClosed
	}
	return err
}

// encode marshals v with the strict codec, refusing what it could not
// decode again (rawenc.Marshal).
func encode[T any](what string, v *T) ([]byte, error) { return rawenc.Marshal(what, v) }

// decode unmarshals a value the store wrote; failures wrap ErrCorrupt.
func decode[T any](what string, b []byte) (*T, error) { return rawenc.Unmarshal[T](raw, what, b) }

func inputError(field, format string, args ...any) error {
	return &roles.InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
