package transport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vdsproject/vds/roles"
)

// Defaults of a Failover.
const (
	// DefaultMaxBackoff caps the delay before a Failover tries an address
	// again within one call.
	DefaultMaxBackoff = 2 * time.Second
	// DefaultFailoverDialTimeout is how long DialFailover's HTTP clients
	// wait for a connection (WithDialTimeout) before moving on.
	DefaultFailoverDialTimeout = 3 * time.Second
	// DefaultDownFor is how long a Failover prefers other addresses to one
	// that failed.
	DefaultDownFor = 5 * time.Second
)

// failoverOptions configure a Failover.
type failoverOptions struct {
	onFailover func(from, to string, err error)
	maxBackoff time.Duration
	downFor    time.Duration
	attempt    time.Duration // per attempt; 0: none
}

// WithOnFailover makes a Failover call f each time a call moves from one
// address to another after a failure err (a connection error or an
// unavailable server): the hook of a fail-over counter such as
// vds_client_failovers_total. f runs on the calling goroutine and must not
// block.
func WithOnFailover(f func(from, to string, err error)) Option {
	return func(o *options) { o.failover.onFailover = f }
}

// WithMaxBackoff caps the jittered exponential backoff of a Failover
// before it tries an address again within one call (default
// DefaultMaxBackoff; the first delay is WithRetries' first).
func WithMaxBackoff(d time.Duration) Option { return func(o *options) { o.failover.maxBackoff = d } }

// WithDownFor sets how long a Failover prefers other addresses to one that
// failed (default DefaultDownFor); after that the address is a candidate
// again.
func WithDownFor(d time.Duration) Option { return func(o *options) { o.failover.downFor = d } }

// WithAttemptTimeout bounds each attempt of a Failover call (default: no
// bound but the call's context and the address's own WithTimeout): an
// attempt that times out while the call's context is still live moves to
// the next address, so that a replica that accepts connections but never
// answers is left behind. It must exceed the slowest legitimate answer.
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.failover.attempt = d } }

// Failover is a Transport over several addresses of replicas of one
// service (storage servers sharing one database). It sends each call to
// the address that answered last (sticky); on a connection error (refused,
// reset, end of file before a response, TLS handshake failure, an
// attempt's timeout) or an unavailable server (HTTP 503), it tries the
// next address at once and, once every address has failed within the
// call, the same ones again after a jittered exponential backoff, bounded
// by WithMaxBackoff and by the server's Retry-After, until the call's
// context ends or the attempts run out (len(addrs) × (1 + WithRetries'
// n)). An address that failed is avoided for WithDownFor, then tried again.
//
// Idempotent methods (Idempotent) fail over as above; the storage
// service's are all idempotent, its mutations by the protocol: the same
// signed batch, state or update applied twice is one success. The owner's
// mutations (create_batch, revoke_batch, update_batch, refresh) fail over
// only when they certainly were not applied: the connection could not be
// made, or the owner answered not_leader (roles.ErrNotLeader: a standby,
// or a former leader whose lease ended), so that a client given every
// owner's address reaches the one that leads. A method's own
// error (bad proof, invalid input, revoked, …) is returned at once, never
// retried elsewhere.
//
// A Failover is safe for concurrent use.
type Failover struct {
	addrs   []string
	ts      []Transport
	o       failoverOptions
	rounds  int
	backoff time.Duration

	mu    sync.Mutex
	cur   int         // the preferred address: the last that answered
	state []addrState // per address
}

type addrState struct {
	down      time.Time // avoided until then
	notBefore time.Time // not called before then (Retry-After)
}

var _ Transport = (*Failover)(nil)

// NewFailover returns a Failover over transports ts to the servers at addrs
// (the names OnFailover reports), in order of preference. It takes
// ownership of ts: Close closes them. The transports should not retry on
// their own (WithRetries(0, …)): the Failover retries across addresses.
func NewFailover(addrs []string, ts []Transport, opts ...Option) (*Failover, error) {
	if len(addrs) == 0 || len(addrs) != len(ts) {
		return nil, fmt.Errorf("transport: failover over %d addresses and %d transports: %w", len(addrs), len(ts), errInvalid)
	}
	o := buildOptions(opts)
	f := &Failover{addrs: append([]string(nil), addrs...), ts: append([]Transport(nil), ts...), o: o.failover,
		rounds: 1 + max(o.http.retries, 0), backoff: o.http.backoff, state: make([]addrState, len(addrs))}
	if f.o.maxBackoff <= 0 {
		f.o.maxBackoff = DefaultMaxBackoff
	}
	if f.o.downFor <= 0 {
		f.o.downFor = DefaultDownFor
	}
	if f.backoff <= 0 {
		f.backoff = time.Millisecond
	}
	return f, nil
}

// DialFailover dials every address (as Dial, with opts) and returns a
// Failover over them. Each address's transport makes one attempt per call;
// WithRetries sets how many more rounds over the addresses a call may make.
// HTTP connections time out after DefaultFailoverDialTimeout unless
// WithDialTimeout says otherwise.
func DialFailover(addrs []string, opts ...Option) (*Failover, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("transport: no address: %w", errInvalid)
	}
	one := append([]Option{WithDialTimeout(DefaultFailoverDialTimeout)}, opts...)
	one = append(one, WithRetries(0, 0))
	ts := make([]Transport, 0, len(addrs))
	for _, a := range addrs {
		t, err := Dial(a, one...)
		if err != nil {
			for _, t := range ts {
				t.Close()
			}
			return nil, err
		}
		ts = append(ts, t)
	}
	return NewFailover(addrs, ts, opts...)
}

// DialStorage returns a storage client for replicas at addrs: a client of
// the one address as Dial makes it, or of a Failover over several.
func DialStorage(addrs []string, opts ...Option) (StorageClient, error) {
	if len(addrs) == 1 {
		t, err := Dial(addrs[0], opts...)
		return StorageClient{T: t}, err
	}
	f, err := DialFailover(addrs, opts...)
	if err != nil {
		return StorageClient{}, err
	}
	return StorageClient{T: f}, nil
}

// SplitAddrs splits a comma-separated list of addresses, trimming spaces
// and dropping empty items.
func SplitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Addrs returns the addresses, in order of preference at construction.
func (f *Failover) Addrs() []string { return append([]string(nil), f.addrs...) }

// Current returns the address calls go to first: the last that answered.
func (f *Failover) Current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs[f.cur]
}

// Close implements Transport: it closes every address's transport.
func (f *Failover) Close() error {
	var errs []error
	for _, t := range f.ts {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}

// Call implements Transport.
func (f *Failover) Call(ctx context.Context, service, method string, req, resp any) error {
	idem := Idempotent(service, method)
	tried := make([]bool, len(f.addrs))
	delay := f.backoff
	prev := -1
	var last error
	for n := 0; n < f.rounds*len(f.addrs); n++ {
		i, wait := f.pick(time.Now(), tried, jitter(delay))
		if tried[i] {
			delay = min(2*delay, f.o.maxBackoff)
		}
		if prev >= 0 && i != prev && f.o.onFailover != nil {
			f.o.onFailover(f.addrs[prev], f.addrs[i], last)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				if last == nil {
					return fmt.Errorf("transport: %s/%s: %w", service, method, ctx.Err())
				}
				return fmt.Errorf("transport: %s/%s: %w (last failure: %w)", service, method, ctx.Err(), last)
			case <-t.C:
			}
		}
		err := f.attempt(ctx, i, service, method, req, resp)
		if err == nil {
			f.up(i)
			return nil
		}
		after, ok := failoverable(ctx, err)
		if !idem {
			// A mutation moves on only if it was certainly not applied:
			// refused by an owner that does not lead, or never sent.
			ok = ok && (errors.Is(err, roles.ErrNotLeader) || neverSent(err))
		}
		if !ok {
			return err
		}
		f.fail(i, after)
		tried[i], prev, last = true, i, err
	}
	return last
}

// attempt makes one call to address i, within the attempt timeout if any.
// An attempt that runs out of time while the call's context is live is a
// transport failure (ErrUnavailable), not the caller's deadline.
func (f *Failover) attempt(ctx context.Context, i int, service, method string, req, resp any) error {
	actx := ctx
	if f.o.attempt > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, f.o.attempt)
		defer cancel()
	}
	err := f.ts[i].Call(actx, service, method, req, resp)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !isRemote(err) {
		return fmt.Errorf("transport: %s/%s at %s: no answer in time: %w: %w", service, method, f.addrs[i], roles.ErrUnavailable, err)
	}
	return err
}

// neverSent reports whether err says the request never left: the
// connection was refused or could not be made (nothing was sent, so
// nothing was applied).
func neverSent(err error) bool {
	if isRemote(err) {
		return false
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// isRemote reports whether err came from the other end.
func isRemote(err error) bool {
	var re *RemoteError
	return errors.As(err, &re)
}

// failoverable reports whether err, returned by an attempt of a call whose
// context is ctx, lets the call move to another address, and how long the
// server asked to be left alone. Only transport failures and unavailable
// servers qualify: never an error of the method itself.
func failoverable(ctx context.Context, err error) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	var r errRetry
	if errors.As(err, &r) {
		return r.after, true
	}
	var re *RemoteError
	if errors.As(err, &re) {
		return 0, re.Code == "unavailable" || re.Code == "closed" || re.Code == "not_leader"
	}
	return 0, errors.Is(err, roles.ErrUnavailable) && !isTyped(err)
}

// isTyped reports whether err is one of the typed errors of package roles
// that a method returns (never a transport failure).
func isTyped(err error) bool {
	var ms *roles.MissingStatesError
	var st *roles.StaleStateError
	var rv *roles.RevokedError
	var in *roles.InputError
	var sc *roles.StreamConflictError
	return errors.As(err, &ms) || errors.As(err, &st) || errors.As(err, &rv) || errors.As(err, &in) || errors.As(err, &sc)
}

// jitter returns a delay in [d/2, d].
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// pick chooses the address of the next attempt and how long to wait
// before it: an address not tried in this call and not waiting out a
// Retry-After goes at once, preferring addresses not marked down, the
// current one first, then the others in ring order; otherwise the address
// that can be called soonest, after backoff (for one already tried) and
// its Retry-After. tried is nil for a single attempt.
func (f *Failover) pick(now time.Time, tried []bool, backoff time.Duration) (int, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.addrs)
	best, bestWait, bestDown := -1, time.Duration(0), false
	for k := 0; k < n; k++ {
		i := (f.cur + k) % n
		s := &f.state[i]
		wait := max(s.notBefore.Sub(now), 0)
		if tried != nil && tried[i] {
			wait = max(wait, backoff)
		}
		down := now.Before(s.down)
		if best < 0 || wait < bestWait || (wait == bestWait && bestDown && !down) {
			best, bestWait, bestDown = i, wait, down
		}
	}
	return best, bestWait
}

// up records that address i answered: it becomes the preferred one.
func (f *Failover) up(i int) {
	f.mu.Lock()
	f.cur = i
	f.state[i] = addrState{}
	f.mu.Unlock()
}

// fail records that address i failed, asking to be left alone for after.
func (f *Failover) fail(i int, after time.Duration) {
	now := time.Now()
	f.mu.Lock()
	f.state[i].down = now.Add(f.o.downFor)
	if after > 0 {
		f.state[i].notBefore = now.Add(after)
	}
	f.mu.Unlock()
}
