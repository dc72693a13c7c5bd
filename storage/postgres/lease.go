package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vdsproject/vds/roles"
)

// The owner's lease (migration 0003): several owner processes share one
// owner store; the one that holds the lease leads (serves and signs), the
// others wait. Each acquisition starts a new term with a larger token; a
// fenced store (Fenced) checks, inside every write transaction, that its
// token is still the current one and its lease unexpired, holding the
// lease row locked until the write commits. So a former leader — paused
// past its lease, partitioned, or just slow — can never commit a state
// once another owner has acquired the lease: the new term's acquisition
// and the old term's writes are serialised on that row, and every write
// after the acquisition sees the new token. Time is the database's clock
// (clock_timestamp()), never the owners'.

var (
	// ErrLeaseHeld is returned (wrapped, in a *LeaseHeldError) by
	// AcquireLease while another holder's lease is unexpired. It wraps
	// roles.ErrNotLeader.
	ErrLeaseHeld = fmt.Errorf("postgres: the owner's lease is held: %w", roles.ErrNotLeader)
	// ErrFenced is returned (wrapped) by a fenced store's writes and by
	// RenewLease when the lease's token is no longer current (another term
	// began) or the lease expired: nothing was written. It wraps
	// roles.ErrNotLeader.
	ErrFenced = fmt.Errorf("postgres: fenced: the owner's lease is no longer this owner's: %w", roles.ErrNotLeader)
)

// LeaseHeldError says who holds the lease and until when (database time).
type LeaseHeldError struct {
	Holder  string
	Expires time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("postgres: the owner's lease is held by %s until %s", e.Holder, e.Expires.UTC().Format(time.RFC3339Nano))
}

// Unwrap returns ErrLeaseHeld.
func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// Lease is one term of the owner's lease.
type Lease struct {
	// Holder names the process that holds it (WithHolder's name by
	// default).
	Holder string
	// Token is the term's fencing token: larger than every earlier term's.
	Token int64
	// Expires is when the lease lapses unless renewed, on the database's
	// clock.
	Expires time.Time
}

// Lease bounds.
const (
	// MinLeaseTTL and MaxLeaseTTL bound a lease's duration.
	MinLeaseTTL = 100 * time.Millisecond
	MaxLeaseTTL = time.Hour
)

func checkTTL(ttl time.Duration) error {
	if ttl < MinLeaseTTL || ttl > MaxLeaseTTL {
		return inputError("lease", "duration %s, want %s..%s", ttl, MinLeaseTTL, MaxLeaseTTL)
	}
	return nil
}

// Holder returns the name this store gives its process in leases and
// precomputation claims (WithHolder).
func (s *Store) Holder() string { return s.opts.holder }

// AcquireLease starts a new term of the owner's lease for holder (this
// store's Holder if empty), lasting ttl: when nobody holds it, or the
// lease expired, or holder already holds it (a new term of the same holder
// fences its own earlier term). While another holder's lease is
// unexpired it fails with a *LeaseHeldError (ErrLeaseHeld).
func (s *Store) AcquireLease(ctx context.Context, holder string, ttl time.Duration) (*Lease, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if holder == "" {
		holder = s.opts.holder
	}
	if len(holder) > 200 {
		return nil, inputError("lease", "holder name of %d bytes, want at most 200", len(holder))
	}
	var l *Lease
	err := s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		l = nil
		var cur string
		var token int64
		var expires time.Time
		var live bool
		err := tx.QueryRow(ctx, `SELECT holder, token, expires_at, expires_at > clock_timestamp()
			FROM vds_owner_lease WHERE singleton FOR UPDATE`).Scan(&cur, &token, &expires, &live)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			token = 0
		case err != nil:
			return err
		case live && cur != holder:
			return &LeaseHeldError{Holder: cur, Expires: expires}
		}
		l = &Lease{Holder: holder, Token: token + 1}
		return tx.QueryRow(ctx, `INSERT INTO vds_owner_lease (holder, token, expires_at)
			VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond')
			ON CONFLICT (singleton) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at
			RETURNING expires_at`, holder, l.Token, ttl.Microseconds()).Scan(&l.Expires)
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// RenewLease extends l by ttl from now (database time) and returns the
// renewed lease. It fails with ErrFenced if l's term ended: its token is
// no longer current, or it expired (an owner whose lease lapsed acquires a
// new term, and reloads its state, rather than carry on).
func (s *Store) RenewLease(ctx context.Context, l *Lease, ttl time.Duration) (*Lease, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if l == nil {
		return nil, inputError("lease", "nil")
	}
	n := *l
	err := s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE vds_owner_lease SET expires_at = clock_timestamp() + $3 * interval '1 microsecond'
			WHERE singleton AND token = $1 AND holder = $2 AND expires_at > clock_timestamp()
			RETURNING expires_at`, l.Token, l.Holder, ttl.Microseconds()).Scan(&n.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("renew term %d: %w", l.Token, ErrFenced)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// ReleaseLease ends l's term now, if it is still the current one, so that
// a standby takes over at once; releasing an ended term is a no-op. The
// token is never reused.
func (s *Store) ReleaseLease(ctx context.Context, l *Lease) error {
	if l == nil {
		return inputError("lease", "nil")
	}
	return s.update(ctx, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE vds_owner_lease SET expires_at = least(expires_at, clock_timestamp())
			WHERE singleton AND token = $1`, l.Token)
		return err
	})
}

// CurrentLease returns the lease as the database holds it (possibly
// expired), or roles.ErrNotFound if no owner ever acquired it.
func (s *Store) CurrentLease(ctx context.Context) (*Lease, error) {
	var l Lease
	err := s.view(ctx, func(ctx context.Context, q querier) error {
		err := q.QueryRow(ctx, `SELECT holder, token, expires_at FROM vds_owner_lease WHERE singleton`).Scan(&l.Holder, &l.Token, &l.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: owner lease: %w", roles.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// checkFence locks the lease row for the rest of tx and fails with
// ErrFenced unless token is the current, unexpired term. token 0 (an
// unfenced store) checks nothing.
func checkFence(ctx context.Context, tx pgx.Tx, token int64) error {
	if token == 0 {
		return nil
	}
	var cur int64
	var live bool
	err := tx.QueryRow(ctx, `SELECT token, expires_at > clock_timestamp() FROM vds_owner_lease WHERE singleton FOR UPDATE`).Scan(&cur, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("term %d: no lease held: %w", token, ErrFenced)
	case err != nil:
		return err
	case cur != token:
		return fmt.Errorf("term %d: term %d began: %w", token, cur, ErrFenced)
	case !live:
		return fmt.Errorf("term %d: the lease expired: %w", token, ErrFenced)
	}
	return nil
}

// FencedStore is the owner's store as one term of the lease sees it: a
// roles.OwnerStore whose every write (InitSecrets, ReserveSeq, Commit)
// commits only while that term is the current one and unexpired, failing
// with ErrFenced (roles.ErrNotLeader) otherwise, with nothing written.
// Reads are not fenced. Close does not close the Store it was made from.
type FencedStore struct {
	s     *Store
	token int64
}

var _ roles.OwnerStore = (*FencedStore)(nil)

// Fenced returns the owner's store fenced by l's token.
func (s *Store) Fenced(l *Lease) *FencedStore { return &FencedStore{s: s, token: l.Token} }

// Token returns the fencing token of the store's term.
func (f *FencedStore) Token() int64 { return f.token }

// Secrets implements roles.OwnerStore.
func (f *FencedStore) Secrets(ctx context.Context) (*roles.OwnerSecrets, error) {
	return f.s.Secrets(ctx)
}

// InitSecrets implements roles.OwnerStore, fenced.
func (f *FencedStore) InitSecrets(ctx context.Context, sec *roles.OwnerSecrets) error {
	return f.s.initSecrets(ctx, sec, f.token)
}

// LatestState implements roles.OwnerStore.
func (f *FencedStore) LatestState(ctx context.Context) (*roles.SignedState, error) {
	return f.s.LatestState(ctx)
}

// States implements roles.OwnerStore.
func (f *FencedStore) States(ctx context.Context, from, to uint64) ([]roles.SignedState, error) {
	return f.s.States(ctx, from, to)
}

// ReserveSeq implements roles.OwnerStore, fenced.
//
// Deprecated: as roles.OwnerStore's.
func (f *FencedStore) ReserveSeq(ctx context.Context, stream string) (uint64, error) {
	return f.s.reserveSeq(ctx, stream, f.token)
}

// Record implements roles.OwnerStore.
func (f *FencedStore) Record(ctx context.Context, id roles.BatchID) (*roles.BatchRecord, error) {
	return f.s.Record(ctx, id)
}

// Records implements roles.OwnerStore.
func (f *FencedStore) Records(ctx context.Context) ([]roles.BatchRecord, error) {
	return f.s.Records(ctx)
}

// Commit implements roles.OwnerStore, fenced.
func (f *FencedStore) Commit(ctx context.Context, otx *roles.OwnerTx) error {
	return f.s.commit(ctx, otx, f.token)
}

// RotateKey implements roles.OwnerStore, fenced: ErrFenced once the term
// ended, with nothing changed.
func (f *FencedStore) RotateKey(ctx context.Context, seed []byte, st *roles.SignedState) error {
	return f.s.rotateKey(ctx, seed, st, f.token)
}

// Pending implements roles.OwnerStore.
func (f *FencedStore) Pending(ctx context.Context) ([]roles.PendingOp, error) {
	return f.s.Pending(ctx)
}

// Ping checks the database (roles.Pinger).
func (f *FencedStore) Ping(ctx context.Context) error { return f.s.Ping(ctx) }

// Close implements roles.OwnerStore: a no-op (close the Store).
func (f *FencedStore) Close() error { return nil }
