package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/roles/boltstore"
	"github.com/vdsproject/vds/transport"
)

// listenAndServe serves the services on addr (host:port or unix:///path)
// until ctx ends.
func listenAndServe(ctx context.Context, c *common, addr string, log *slog.Logger, services ...*transport.Service) error {
	opts := []transport.Option{transport.WithLogger(log)}
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
		fmt.Fprintf(os.Stderr, "usage: vds %s serve [flags]\n", name)
		return nil, errUsage
	}
	return args[1:], nil
}

func runStorage(ctx context.Context, args []string) error {
	args, err := subcommand("storage", args)
	if err != nil {
		return err
	}
	c := newCommon("storage serve")
	listen := c.fs.String("listen", defaultAddr("SS", "5002"), "address to serve on: host:port or unix:///path")
	if err := c.parse(args); err != nil {
		return err
	}
	log := c.logger("storage")
	crs, err := c.loadCRS()
	if err != nil {
		return err
	}
	keys, err := c.loadOwnerKeys()
	if err != nil {
		return err
	}
	store, err := boltstore.Open(c.path(storageDB))
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := roles.NewStorageServer(crs, keys, store)
	if err != nil {
		return err
	}
	log.Info("storage server ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "store", c.path(storageDB))
	return listenAndServe(ctx, c, *listen, log, transport.StorageService(srv))
}

func runOwner(ctx context.Context, args []string) error {
	args, err := subcommand("owner", args)
	if err != nil {
		return err
	}
	c := newCommon("owner serve")
	listen := c.fs.String("listen", defaultAddr("DO", "5001"), "address to serve on: host:port or unix:///path")
	verifiers := c.fs.String("verifiers", "", "comma-separated verifier addresses that receive every new state (default: -verifier)")
	if err := c.parse(args); err != nil {
		return err
	}
	log := c.logger("owner")
	crs, err := c.loadCRS()
	if err != nil {
		return err
	}
	file, err := os.ReadFile(c.path(crsFile))
	if err != nil {
		return err
	}
	store, err := boltstore.Open(c.path(ownerDB))
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := c.dial(c.storage)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := roles.NewDataOwner(ctx, crs, store, transport.StorageClient{T: st})
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
	// Keep the storage server up to date in the background: it may start
	// after the owner, or miss a push while it restarts.
	go func() {
		failures := 0
		for {
			if !o.InSync() {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := o.Sync(sctx)
				cancel()
				switch {
				case err == nil:
					log.Info("storage server in sync")
					failures = 0
				case ctx.Err() == nil:
					if failures%20 == 0 {
						log.Warn("storage server not in sync yet", "err", err)
					}
					failures++
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	keys := o.Keys()
	log.Info("owner ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "storage", c.url(c.storage))
	return listenAndServe(ctx, c, *listen, log, transport.OwnerService(o, file))
}

// loggedListener forwards states to a remote verifier and logs failures
// (delivery is best effort: the verifier catches up by itself).
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

func runVerifier(ctx context.Context, args []string) error {
	args, err := subcommand("verifier", args)
	if err != nil {
		return err
	}
	c := newCommon("verifier serve")
	listen := c.fs.String("listen", defaultAddr("VERIFIER", "5003"), "address to serve on: host:port or unix:///path")
	maxAge := c.fs.Duration("max-state-age", 0, "refuse to verify against a state issued longer ago than this (0: no limit)")
	if err := c.parse(args); err != nil {
		return err
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
	stt, err := c.dial(c.storage)
	if err != nil {
		return err
	}
	defer stt.Close()
	opts := []roles.VerifierOption{
		roles.WithTrustedSource(transport.OwnerClient{T: ot}),
		roles.WithStateSource(transport.StorageClient{T: stt}),
	}
	if *maxAge > 0 {
		opts = append(opts, roles.WithMaxStateAge(*maxAge))
	}
	v, err := roles.NewVerifier(crs.VerifierKey(), keys, opts...)
	if err != nil {
		return err
	}
	// Anchor at the owner's latest state as soon as the owner answers (it
	// may start after the verifier); until then verifications and pushed
	// states anchor first or fail.
	go func() {
		for i := 0; !v.Anchored(); i++ {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := v.Sync(sctx)
			cancel()
			switch {
			case err == nil:
				log.Info("anchored at the owner's state", "epoch", v.State().State.Epoch)
				return
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
	}()
	log.Info("verifier ready", "crs", crs.Digest().String()[:16], "owner", keys.ID().String()[:16])
	return listenAndServe(ctx, c, *listen, log, transport.VerifierService(v))
}
