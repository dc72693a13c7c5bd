package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/transport"
)

// haConfig is what `vds owner serve -lease` runs with.
type haConfig struct {
	store        string
	lease, renew time.Duration
	heartbeat    time.Duration
	verifiers    string
	insecure     bool
	appendPol    roles.AppendPolicy
}

// openOwnerStore opens the owner's store: the bbolt file of the data
// directory, or a PostgreSQL database (arg a postgres:// DSN), into which
// the keys and states of the bbolt file are copied on first use.
func openOwnerStore(ctx context.Context, c *common, arg string) (roles.OwnerStore, error) {
	if arg == "" || !postgres.IsDSN(arg) {
		if arg == "" {
			arg = c.path(ownerDB)
		}
		return bolt.Open(arg)
	}
	pg, err := openPostgres(ctx, arg)
	if err != nil {
		return nil, err
	}
	if err := importOwner(ctx, pg, c.path(ownerDB)); err != nil {
		pg.Close()
		return nil, err
	}
	return pg, nil
}

// openPostgres opens a PostgreSQL store, naming it without its password.
func openPostgres(ctx context.Context, dsn string) (*postgres.Store, error) {
	where := "postgres (DSN does not parse)"
	if u, err := url.Parse(dsn); err == nil {
		where = u.Redacted()
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pg, err := postgres.Open(octx, dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", where, err)
	}
	return pg, nil
}

// importOwner copies the owner of the bbolt file at path (keys, states,
// records, pending operations) into dst unless dst holds keys already. The
// keys go last, so that an interrupted copy is run again whole (each step
// is idempotent).
func importOwner(ctx context.Context, dst roles.OwnerStore, path string) error {
	if _, err := dst.Secrets(ctx); !errors.Is(err, roles.ErrNotFound) {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil // a new owner: NewDataOwner makes its keys
	}
	src, err := bolt.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	sec, err := src.Secrets(ctx)
	if errors.Is(err, roles.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	latest, err := src.LatestState(ctx)
	if err != nil {
		return err
	}
	for e := uint64(0); e <= latest.State.Epoch; e++ {
		sts, err := src.States(ctx, e, e)
		if err != nil {
			return err
		}
		if err := dst.Commit(ctx, &roles.OwnerTx{State: &sts[0]}); err != nil {
			return fmt.Errorf("copy the owner's state of epoch %d: %w", e, err)
		}
	}
	recs, err := src.Records(ctx)
	if err != nil {
		return err
	}
	pend, err := src.Pending(ctx)
	if err != nil {
		return err
	}
	held, err := dst.Pending(ctx)
	if err != nil {
		return err
	}
	if len(held) > 0 {
		pend = nil // copied by the interrupted run
	}
	if err := dst.Commit(ctx, &roles.OwnerTx{Records: recs, PutPending: pend}); err != nil {
		return err
	}
	return dst.InitSecrets(ctx, sec)
}

// ownerTerm is the DataOwner of the lease's current term in this process,
// or none (a standby).
type ownerTerm struct {
	mu    sync.Mutex
	o     *roles.DataOwner
	token int64
}

var errStandby = fmt.Errorf("owner: standby, the lease is another owner's: %w", roles.ErrNotLeader)

func (t *ownerTerm) current() (*roles.DataOwner, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.o == nil {
		return nil, errStandby
	}
	return t.o, nil
}

func (t *ownerTerm) set(o *roles.DataOwner, token int64) {
	t.mu.Lock()
	t.o, t.token = o, token
	t.mu.Unlock()
}

// runOwnerHA is `vds owner serve -lease D -store postgres://…`: it serves
// at once, as a standby (every call but health and get_crs refused with
// not_leader), and leads while it holds the owner's lease: each term
// starts with a DataOwner loaded from the store and fenced by the term's
// token, so that nothing it signs after its term ended is ever stored or
// sent.
func runOwnerHA(ctx context.Context, s *server, cfg haConfig) error {
	if !postgres.IsDSN(cfg.store) {
		return usageErrorf("-lease needs -store postgres://…: the owners share their store")
	}
	if cfg.renew == 0 {
		cfg.renew = cfg.lease / 3
	}
	if cfg.lease < postgres.MinLeaseTTL || cfg.lease > postgres.MaxLeaseTTL || cfg.renew <= 0 || cfg.renew >= cfg.lease {
		return usageErrorf("-lease %s, -lease-renew %s: want %s ≤ lease ≤ %s and 0 < renew < lease", cfg.lease, cfg.renew, postgres.MinLeaseTTL, postgres.MaxLeaseTTL)
	}
	log, listen := s.log, *s.listen
	auth, how, err := s.ownerAuthorizer(listen, cfg.insecure)
	if err != nil {
		return err
	}
	crs, keys, err := s.loadPublic()
	if err != nil {
		return err
	}
	file, err := os.ReadFile(s.path(crsFile))
	if err != nil {
		return err
	}
	pg, err := openPostgres(ctx, cfg.store)
	if err != nil {
		return err
	}
	defer pg.Close()
	st, err := s.storageClient()
	if err != nil {
		return err
	}
	defer st.Close()
	list := cfg.verifiers
	if list == "" {
		list = s.verifier
	}
	var listeners []roles.StateListener
	for _, a := range transport.SplitAddrs(list) {
		vt, err := s.dial(a)
		if err != nil {
			return err
		}
		defer vt.Close()
		listeners = append(listeners, loggedListener{transport.VerifierClient{T: vt}, log, a})
	}
	term := &ownerTerm{}
	start := func(tctx context.Context, l *postgres.Lease) (*roles.DataOwner, error) {
		fs := pg.Fenced(l)
		if err := importOwner(tctx, fs, s.path(ownerDB)); err != nil {
			return nil, err
		}
		o, err := roles.NewDataOwner(tctx, crs, fs, transport.StorageClient{T: st}, roles.WithHeartbeat(cfg.heartbeat), roles.WithAppendPolicy(cfg.appendPol))
		if err != nil {
			return nil, err
		}
		if k := o.Keys(); k.ID() != keys.ID() {
			return nil, fmt.Errorf("the store holds owner %s, DIR/%s names %s: %w", k.ID().String()[:16], ownerKeysFile, keys.ID().String()[:16], roles.ErrConflict)
		}
		for _, li := range listeners {
			o.Subscribe(li)
		}
		go func() { _ = o.Run(tctx) }()
		go watchOwner(tctx, o, log)
		return o, nil
	}
	go leadLoop(ctx, log, pg, cfg, term, start)
	service := transport.LeaderOwnerService(term.current, crs, keys, roles.DefaultLimits(), file)
	ready := func(ctx context.Context) error {
		o, err := term.current()
		if err != nil {
			return err
		}
		return transport.OwnerReady(o)(ctx)
	}
	state := func(ctx context.Context) (uint64, time.Time, bool) {
		o, err := term.current()
		if err != nil {
			return 0, time.Time{}, false
		}
		sst, err := o.LatestState(ctx)
		if err != nil {
			return 0, time.Time{}, false
		}
		return sst.State.Epoch, time.UnixMilli(sst.IssuedAt), true
	}
	return s.serve(ctx, ready, state, []transport.Option{transport.WithAuthorizer(auth)}, service,
		"owner ready (standby until it holds the lease)", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16],
		"storage", s.storage, "heartbeat", cfg.heartbeat, "lease", cfg.lease, "renew", cfg.renew, "holder", pg.Holder(), "mutations", how)
}

// leadLoop acquires the lease whenever it is free, leads for the term
// (start's DataOwner serves) and renews it every cfg.renew; the term ends
// when a renewal is refused (another term began, or it expired) or has not
// succeeded by the time the lease would lapse (the database unreachable),
// measured on this process's clock from before the call that granted it.
func leadLoop(ctx context.Context, log *slog.Logger, pg *postgres.Store, cfg haConfig, term *ownerTerm,
	start func(context.Context, *postgres.Lease) (*roles.DataOwner, error)) {
	sleep := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	waiting := false
	for ctx.Err() == nil {
		t0 := time.Now()
		actx, cancel := context.WithTimeout(ctx, cfg.renew)
		l, err := pg.AcquireLease(actx, "", cfg.lease)
		cancel()
		if err != nil {
			if !waiting {
				log.Info("standing by", "reason", err)
				waiting = true
			}
			if !sleep(cfg.renew / 2) {
				return
			}
			continue
		}
		waiting = false
		deadline := t0.Add(cfg.lease)
		tctx, end := context.WithCancel(ctx)
		o, err := start(tctx, l)
		if err != nil {
			end()
			log.Error("could not start the term", "token", l.Token, "err", err)
			_ = pg.ReleaseLease(context.WithoutCancel(ctx), l)
			if !sleep(cfg.renew) {
				return
			}
			continue
		}
		term.set(o, l.Token)
		log.Info("leading", "token", l.Token, "holder", l.Holder)
		for {
			if !sleep(cfg.renew) {
				term.set(nil, 0)
				end()
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_ = pg.ReleaseLease(rctx, l)
				cancel()
				log.Info("stopped leading: shutting down; lease released", "token", l.Token)
				return
			}
			t1 := time.Now()
			if !t1.Before(deadline) {
				log.Warn("stopped leading: the lease lapsed before it was renewed", "token", l.Token)
				break
			}
			rctx, cancel := context.WithDeadline(ctx, deadline)
			nl, err := pg.RenewLease(rctx, l, cfg.lease)
			cancel()
			if err == nil {
				l, deadline = nl, t1.Add(cfg.lease)
				continue
			}
			if errors.Is(err, roles.ErrNotLeader) || !time.Now().Before(deadline) {
				log.Warn("stopped leading", "token", l.Token, "err", err)
				break
			}
			log.Warn("lease renewal failed; retrying", "token", l.Token, "err", err)
		}
		term.set(nil, 0)
		end()
	}
}
