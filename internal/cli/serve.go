package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/transport"
)

// listenAndServe serves the services on addr (host:port or unix:///path)
// until ctx ends.
// Over HTTP(S) it also serves GET /healthz and /readyz (ready).
func listenAndServe(ctx context.Context, c *common, addr string, log *slog.Logger, ready transport.ReadyFunc, extra []transport.Option, services ...*transport.Service) error {
	opts := append([]transport.Option{transport.WithLogger(log), transport.WithReadiness(ready)}, extra...)
	if strings.HasPrefix(addr, "unix:") {
		srv, err := transport.ListenUnix(transport.UnixPath(addr), services, opts...)
		if err != nil {
			return err
		}
		log.Info("listening", "addr", "unix://"+srv.Addr(), "pid", os.Getpid())
		err = srv.Serve(ctx)
		log.Info("stopped")
		return err
	}
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	tc, err := c.serverTLS()
	if err != nil {
		return err
	}
	if tc != nil {
		opts = append(opts, transport.WithTLS(tc))
	}
	h := transport.NewHTTPHandler(services, opts...)
	srv, err := transport.ListenHTTP(addr, h, opts...)
	if err != nil {
		return err
	}
	scheme := "http"
	if tc != nil {
		scheme = "https (mutual TLS)"
	}
	log.Info("listening", "addr", srv.Addr(), "scheme", scheme, "pid", os.Getpid())
	err = srv.Serve(ctx)
	log.Info("stopped")
	return err
}

func subcommand(name string, args []string) ([]string, error) {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintf(os.Stderr, "usage: vds %s serve [flags] (vds %s serve -h: the flags)\n", name, name)
		if len(args) > 0 && isHelp(args[0]) {
			return nil, errHelp
		}
		return nil, errUsage
	}
	return args[1:], nil
}

// RunStorage is `vds storage serve`: the storage server.
func RunStorage(ctx context.Context, args []string) error {
	args, err := subcommand("storage", args)
	if err != nil {
		return err
	}
	c := newCommon("storage serve")
	listen := c.fs.String("listen", defaultAddr("SS", "5002"), "address to serve on: host:port or unix:///path")
	precompute := c.fs.Bool("precompute", true, "precompute proof tables in the background (answers in O(1) group operations; costs 128 bytes per row and column)")
	workers := c.fs.Int("precompute-workers", roles.DefaultPrecomputeWorkers(), "cores the precomputation may use")
	metricsAddr := c.metricsFlag("SS")
	storeArg := c.fs.String("store", "", "the server's store: a bbolt file (default DIR/"+storageDB+") or a postgres:// DSN that several replicas share (env "+storeEnv+")")
	if err := c.parse(args); err != nil {
		return err
	}
	log := c.logger("storage")
	mon := newMonitor("storage", *metricsAddr)
	crs, err := c.loadCRS()
	if err != nil {
		return err
	}
	keys, err := c.loadOwnerKeys()
	if err != nil {
		return err
	}
	store, where, err := openServerStore(ctx, c, *storeArg)
	if err != nil {
		return err
	}
	defer store.Close()
	opts := []roles.ServerOption{roles.WithPrecomputeWorkers(*workers)}
	if !*precompute {
		opts = append(opts, roles.WithoutPrecompute())
	}
	srv, err := roles.NewStorageServer(crs, keys, mon.wrap(store), opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	// Batches stored before a restart, or whose precomputation a crash
	// interrupted, get their tables now.
	resumed, err := srv.ResumePrecompute(ctx)
	if err != nil {
		return err
	}
	ready := transport.StorageReady(srv)
	if err := mon.start(ctx, log, ready, metrics.StorageState(srv)); err != nil {
		return err
	}
	log.Info("storage server ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "store", where, "precompute", *precompute, "resumed", resumed)
	return listenAndServe(ctx, c, *listen, log, ready, mon.serverOptions(), transport.StorageService(srv))
}

// storeEnv is the environment variable read when -store is not given.
const storeEnv = "VDS_STORE"

// openServerStore opens the storage server's store: arg (or $VDS_STORE),
// a postgres:// or postgresql:// DSN for a PostgreSQL store, or a bbolt
// file path; without either, the bbolt file of the data directory. It
// returns how to name the store in logs (a DSN without its password).
func openServerStore(ctx context.Context, c *common, arg string) (roles.ServerStore, string, error) {
	if arg == "" {
		arg = os.Getenv(storeEnv)
	}
	if arg == "" {
		arg = c.path(storageDB)
	}
	if !postgres.IsDSN(arg) {
		s, err := bolt.Open(arg)
		return s, arg, err
	}
	where := "postgres (DSN does not parse)"
	if u, err := url.Parse(arg); err == nil {
		where = u.Redacted()
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := postgres.Open(octx, arg)
	if err != nil {
		return nil, where, fmt.Errorf("store %s: %w", where, err)
	}
	return s, where, nil
}

// RunOwner is `vds owner serve`: the data owner's server.
func RunOwner(ctx context.Context, args []string) error {
	args, err := subcommand("owner", args)
	if err != nil {
		return err
	}
	c := newCommon("owner serve")
	listen := c.fs.String("listen", defaultAddr("DO", "5001"), "address to serve on: host:port or unix:///path")
	verifiers := c.fs.String("verifiers", "", "comma-separated verifier addresses that receive every new state (default: -verifier)")
	heartbeat := c.fs.Duration("heartbeat", roles.DefaultHeartbeat, "re-sign the latest state this often, so verifiers know it is current (keep verifiers' -max-state-age a few heartbeats)")
	insecure := c.fs.Bool("insecure", false, "serve on TCP without a token file or mutual TLS: anyone who reaches the port can create, update and revoke batches")
	metricsAddr := c.metricsFlag("DO")
	if err := c.parse(args); err != nil {
		return err
	}
	mon := newMonitor("owner", *metricsAddr)
	if *heartbeat <= 0 {
		return fmt.Errorf("-heartbeat must be positive")
	}
	log := c.logger("owner")
	auth, how, err := c.ownerAuthorizer(*listen, *insecure)
	if err != nil {
		return err
	}
	if *insecure && how == "NONE (-insecure)" {
		log.Warn("INSECURE: the owner's mutations need no authentication (-insecure): anyone who can reach " + *listen + " can create, update and revoke batches")
	}
	crs, err := c.loadCRS()
	if err != nil {
		return err
	}
	file, err := os.ReadFile(c.path(crsFile))
	if err != nil {
		return err
	}
	store, err := bolt.Open(c.path(ownerDB))
	if err != nil {
		return err
	}
	defer store.Close()
	c.onFailover = mon.failoverHook()
	st, err := c.dialStorage(log)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := roles.NewDataOwner(ctx, crs, store, transport.StorageClient{T: st}, roles.WithHeartbeat(*heartbeat))
	if err != nil {
		return err
	}
	list := *verifiers
	if list == "" {
		list = c.verifier
	}
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		vt, err := c.dial(a)
		if err != nil {
			return err
		}
		defer vt.Close()
		o.Subscribe(loggedListener{transport.VerifierClient{T: vt}, log, a})
	}
	// Keep the storage server and the verifiers current in the background
	// (SPEC §6.1): push what the storage server lacks, re-sign the latest
	// state every heartbeat, re-deliver it until each verifier has it.
	go func() { _ = o.Run(ctx) }()
	go watchOwner(ctx, o, log)
	keys := o.Keys()
	ready := transport.OwnerReady(o)
	if mon != nil {
		mon.m.WatchOwner(o)
	}
	if err := mon.start(ctx, log, ready, metrics.OwnerState(o)); err != nil {
		return err
	}
	log.Info("owner ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "storage", c.storage, "heartbeat", *heartbeat, "mutations", how)
	return listenAndServe(ctx, c, *listen, log, ready, append(mon.serverOptions(), transport.WithAuthorizer(auth)), transport.OwnerService(o, file))
}

// watchOwner logs when the storage server falls out of sync with the owner
// and when it is back.
func watchOwner(ctx context.Context, o *roles.DataOwner, log *slog.Logger) {
	synced := true
	for {
		if in := o.InSync(); in != synced {
			if in {
				log.Info("storage server in sync")
			} else {
				log.Warn("storage server not in sync yet; retrying")
			}
			synced = in
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// loggedListener forwards states to a remote verifier and logs failures
// (the owner re-delivers until the verifier acknowledges).
type loggedListener struct {
	transport.VerifierClient
	log  *slog.Logger
	addr string
}

func (l loggedListener) AcceptState(ctx context.Context, st *roles.SignedState) error {
	err := l.VerifierClient.AcceptState(ctx, st)
	if err != nil {
		l.log.Warn("verifier did not take the new state", "verifier", l.addr, "epoch", st.State.Epoch, "err", err)
	}
	return err
}

// RunVerifier is `vds verifier serve`: the verifier's server.
func RunVerifier(ctx context.Context, args []string) error {
	args, err := subcommand("verifier", args)
	if err != nil {
		return err
	}
	c := newCommon("verifier serve")
	listen := c.fs.String("listen", defaultAddr("VERIFIER", "5003"), "address to serve on: host:port or unix:///path")
	maxAge := c.fs.Duration("max-state-age", roles.DefaultMaxStateAge, "refuse to verify against a state issued longer ago than this: the longest a revocation can go unnoticed (a few of the owner's -heartbeat; 0 turns the check off, which is unsafe)")
	poll := c.fs.Duration("poll", roles.DefaultPollInterval, "ask the owner for its latest state this often, in case a push was lost")
	metricsAddr := c.metricsFlag("VERIFIER")
	if err := c.parse(args); err != nil {
		return err
	}
	mon := newMonitor("verifier", *metricsAddr)
	if *maxAge < 0 || *poll <= 0 {
		return fmt.Errorf("-max-state-age must not be negative and -poll must be positive")
	}
	log := c.logger("verifier")
	crs, err := c.loadCRS()
	if err != nil {
		return err
	}
	keys, err := c.loadOwnerKeys()
	if err != nil {
		return err
	}
	ot, err := c.dial(c.owner)
	if err != nil {
		return err
	}
	defer ot.Close()
	c.onFailover = mon.failoverHook()
	stt, err := c.dialStorage(log)
	if err != nil {
		return err
	}
	defer stt.Close()
	opts := []roles.VerifierOption{
		roles.WithTrustedSource(transport.OwnerClient{T: ot}),
		roles.WithStateSource(transport.StorageClient{T: stt}),
	}
	opts = append(opts, roles.WithPollInterval(*poll))
	if *maxAge > 0 {
		opts = append(opts, roles.WithMaxStateAge(*maxAge))
	} else {
		opts = append(opts, roles.WithoutMaxStateAge())
		log.Warn("-max-state-age 0: the verifier may accept answers about a revoked batch for as long as it misses the revocation")
	}
	v, err := roles.NewVerifier(crs.VerifierKey(), keys, opts...)
	if err != nil {
		return err
	}
	// Anchor at the owner's latest state as soon as the owner answers (it
	// may start after the verifier; until then verifications and pushed
	// states anchor first or fail), then poll it (SPEC §6.1).
	go func() {
		for i := 0; !v.Anchored(); i++ {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := v.Sync(sctx)
			cancel()
			switch {
			case err == nil:
				log.Info("anchored at the owner's state", "epoch", v.State().State.Epoch)
			case ctx.Err() != nil:
				return
			case i%20 == 0:
				log.Warn("not anchored at the owner's state yet", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
		_ = v.Run(ctx)
	}()
	ready := transport.VerifierReady(v)
	if err := mon.start(ctx, log, ready, metrics.VerifierState(v)); err != nil {
		return err
	}
	log.Info("verifier ready", "crs", crs.Digest().String()[:16], "owner", keys.ID().String()[:16], "max_state_age", *maxAge, "poll", *poll)
	return listenAndServe(ctx, c, *listen, log, ready, mon.serverOptions(), transport.VerifierService(v))
}
