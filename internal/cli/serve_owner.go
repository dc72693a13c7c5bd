package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// RunOwner is `vds owner serve`: the data owner's server.
func RunOwner(ctx context.Context, args []string) error {
	s := newServer(ownerRole)
	verifiers := s.fs.String("verifiers", "", "comma-separated verifier addresses that receive every new state (default: -verifier)")
	heartbeat := s.fs.Duration("heartbeat", roles.DefaultHeartbeat, "re-sign the latest state this often, so verifiers know it is current (keep verifiers' -max-state-age a few heartbeats)")
	signer := signerFlag(s.fs)
	insecure := s.fs.Bool("insecure", false, "serve on TCP without a token file or mutual TLS: anyone who reaches the port can create, update and revoke batches")
	storeArg := s.fs.String("store", "", "the owner's store: the bbolt file DIR/"+ownerDB+" (default) or a postgres:// DSN, which owners with -lease share (its first use copies in the keys and states of DIR/"+ownerDB+")")
	lease := s.fs.Duration("lease", 0, "lead only while holding the owner's lease in the -store database, for this long unless renewed; otherwise stand by, refusing calls with not_leader, and take over when it lapses (0: no lease, the only owner)")
	renew := s.fs.Duration("lease-renew", 0, "renew the lease this often (default: a third of -lease)")
	appendRows := s.fs.Int("append-rows", 0, "append_rows: seal a stream's appended rows into a batch once this many are unsealed (0: the CRS capacity n)")
	appendAge := s.fs.Duration("append-age", 0, "append_rows: seal a stream's unsealed rows this long after the first of them (0: by count and on shutdown only)")
	appendPending := s.fs.Int("append-pending", 0, "append_rows: unsealed rows a stream may hold before calls get 503 (0: four times -append-rows)")
	if err := s.parse(args); err != nil {
		return err
	}
	if *heartbeat <= 0 {
		return fmt.Errorf("-heartbeat must be positive")
	}
	pol := roles.AppendPolicy{MaxRows: *appendRows, MaxAge: *appendAge, MaxPending: *appendPending}
	if *lease != 0 {
		return runOwnerHA(ctx, s, haConfig{store: *storeArg, lease: *lease, renew: *renew, heartbeat: *heartbeat, verifiers: *verifiers, insecure: *insecure, appendPol: pol})
	}
	log, listen := s.log, *s.listen
	auth, how, err := s.ownerAuthorizer(listen, *insecure)
	if err != nil {
		return err
	}
	if *insecure && how == "NONE (-insecure)" {
		log.Warn("INSECURE: the owner's mutations need no authentication (-insecure): anyone who can reach " + listen + " can create, update and revoke batches")
	}
	crs, err := s.loadCRS()
	if err != nil {
		return err
	}
	file, err := os.ReadFile(s.path(crsFile))
	if err != nil {
		return err
	}
	store, err := openOwnerStore(ctx, s.common, *storeArg)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := s.storageClient()
	if err != nil {
		return err
	}
	defer st.Close()
	opts, err := ownerSignerOpts(ctx, *signer)
	if err != nil {
		return err
	}
	o, err := roles.NewDataOwner(ctx, crs, store, transport.StorageClient{T: st}, append(opts, roles.WithHeartbeat(*heartbeat), roles.WithAppendPolicy(pol))...)
	if err != nil {
		return err
	}
	// Stops the verifiers' queues before their transports close (the
	// deferred calls run in reverse order).
	defer o.Close()
	list := *verifiers
	if list == "" {
		list = s.verifier
	}
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		vt, err := s.dial(a)
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
	if s.mon != nil {
		s.mon.m.WatchOwner(o)
	}
	return s.serve(ctx, transport.OwnerReady(o), metrics.OwnerState(o), []transport.Option{transport.WithAuthorizer(auth)}, transport.OwnerService(o, file),
		"owner ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "storage", s.storage, "heartbeat", *heartbeat, "mutations", how)
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
