package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// RunVerifier is `vds verifier serve`: the verifier's server.
func RunVerifier(ctx context.Context, args []string) error {
	s := newServer(verifierRole)
	maxAge := s.fs.Duration("max-state-age", roles.DefaultMaxStateAge, "refuse to verify against a state issued longer ago than this: the longest a revocation can go unnoticed (a few of the owner's -heartbeat; 0 turns the check off, which is unsafe)")
	poll := s.fs.Duration("poll", roles.DefaultPollInterval, "ask the owner for its latest state this often, in case a push was lost")
	if err := s.parse(args); err != nil {
		return err
	}
	if *maxAge < 0 || *poll <= 0 {
		return fmt.Errorf("-max-state-age must not be negative and -poll must be positive")
	}
	log := s.log
	crs, keys, err := s.loadPublic()
	if err != nil {
		return err
	}
	ot, err := s.dialOwners()
	if err != nil {
		return err
	}
	defer ot.Close()
	stt, err := s.storageClient()
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
	return s.serve(ctx, transport.VerifierReady(v), metrics.VerifierState(v), nil, transport.VerifierService(v),
		"verifier ready", "crs", crs.Digest().String()[:16], "owner", keys.ID().String()[:16], "max_state_age", *maxAge, "poll", *poll)
}
