package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/postgres"
	"github.com/vdsproject/vds/transport"
)

// RunStorage is `vds storage serve`: the storage server.
func RunStorage(ctx context.Context, args []string) error {
	s := newServer(storageRole)
	precompute := s.fs.Bool("precompute", true, "precompute proof tables in the background (answers in O(1) group operations; costs 128 bytes per row and column)")
	workers := s.fs.Int("precompute-workers", roles.DefaultPrecomputeWorkers(), "cores the precomputation may use")
	storeArg := s.fs.String("store", "", "the server's store: a bbolt file (default DIR/"+storageDB+") or a postgres:// DSN that several replicas share (env "+storeEnv+")")
	cors := s.fs.String("cors-origin", env("SS_CORS_ORIGIN", ""), "let the pages of this origin (scheme://host:port, e.g. http://127.0.0.1:5004 of `vds web`) call the storage server from a browser; no other origin may (env SS_CORS_ORIGIN; default none)")
	if err := s.parse(args); err != nil {
		return err
	}
	var extra []transport.Option
	if *cors != "" {
		if err := checkOrigin(*cors); err != nil {
			return err
		}
		extra = append(extra, transport.WithCORSOrigin(*cors))
	}
	crs, keys, err := s.loadPublic()
	if err != nil {
		return err
	}
	store, where, err := openServerStore(ctx, s.common, *storeArg)
	if err != nil {
		return err
	}
	defer store.Close()
	opts := []roles.ServerOption{roles.WithPrecomputeWorkers(*workers)}
	if !*precompute {
		opts = append(opts, roles.WithoutPrecompute())
	}
	srv, err := roles.NewStorageServer(crs, keys, s.mon.wrap(store), opts...)
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
	return s.serve(ctx, transport.StorageReady(srv), metrics.StorageState(srv), extra, transport.StorageService(srv),
		"storage server ready", "crs", crs.Digest().String()[:16], "n", crs.N(), "owner", keys.ID().String()[:16], "store", where, "precompute", *precompute, "resumed", resumed)
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
