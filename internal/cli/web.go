package cli

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/vdsproject/vds/dashboard"
	"github.com/vdsproject/vds/transport"
)

// RunWeb is `vds web`: the browser dashboard (package dashboard). It pins
// the trust root of -keys (crs.bin, crs.digest and owner-keys.cbor of a
// data directory or of the public directory `setup -public-dir` writes)
// into the page; without it the page verifies nothing. The storage server
// must allow the page's origin: `vds storage serve -cors-origin
// http://LISTEN`.
func RunWeb(ctx context.Context, args []string) error {
	c := newCommon("web")
	listen := c.fs.String("listen", env("VDS_WEB_LISTEN", "127.0.0.1:5004"), "address to serve the dashboard on, host:port (env VDS_WEB_LISTEN)")
	keys := c.fs.String("keys", "", "directory with the public files the page pins (crs.bin, crs.digest, owner-keys.cbor; default -dir)")
	noKeys := c.fs.Bool("no-keys", false, "serve the page without a trust root: it shows what it receives and marks nothing verified")
	unit := c.fs.String("time-unit", "s", "the unit of the streams' timestamps as ingested: s or ms")
	maxAge := c.fs.Duration("max-state-age", 0, "refuse answers when the owner's latest state is older than this (0: no check)")
	if err := c.parse(args); err != nil {
		return err
	}
	storage := firstStorage(c.storage)
	if !strings.HasPrefix(storage, "http://") && !strings.HasPrefix(storage, "https://") {
		storage = "http://" + storage
	}
	cfg := dashboard.Config{Storage: storage, TimeUnit: *unit, MaxStateAge: *maxAge}
	if !*noKeys {
		dir := *keys
		if dir == "" {
			dir = c.dir
		}
		t, err := loadTrustRoot(dir)
		if err != nil {
			return err
		}
		cfg.Trust = t
	}
	h, err := dashboard.Handler(cfg)
	if err != nil {
		return err
	}
	log := c.logger("web")
	srv, err := transport.ListenHTTP(*listen, h, transport.WithLogger(log))
	if err != nil {
		return err
	}
	attrs := []any{"url", "http://" + srv.Addr() + "/", "storage", storage}
	if cfg.Trust != nil {
		attrs = append(attrs, "crs", cfg.Trust.CRSDigest[:16], "owner", cfg.Trust.OwnerID[:16], "keys", cfg.Trust.Source)
	} else {
		attrs = append(attrs, "keys", "none: the page verifies nothing")
	}
	log.Info("dashboard ready (the storage server needs -cors-origin http://"+srv.Addr()+")", attrs...)
	return srv.Serve(ctx)
}

// firstStorage returns the first address of a -storage list.
func firstStorage(s string) string {
	if l := splitList(s); len(l) > 0 {
		return l[0]
	}
	return s
}

// loadTrustRoot reads the public files of dir and checks them: the CRS
// against its digest, the owner's keys.
func loadTrustRoot(dir string) (*dashboard.TrustRoot, error) {
	c := &common{dir: dir}
	crs, keys, err := c.loadPublic()
	if err != nil {
		return nil, err
	}
	crsBytes, err := os.ReadFile(c.path(crsFile))
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(c.path(ownerKeysFile))
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	t := &dashboard.TrustRoot{OwnerKeys: kb, OwnerID: keys.ID().String(), CRSDigest: crs.Digest().String(), CRS: crsBytes, Source: abs}
	for _, k := range keys.Signing {
		t.KeyIDs = append(t.KeyIDs, k.ID)
	}
	return t, nil
}

// errOrigin is a -cors-origin that is not scheme://host[:port].
var errOrigin = errors.New("not an origin")

// checkOrigin checks a -cors-origin value: http(s)://host[:port], no path.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
		return usageErrorf("-cors-origin %q: %v: want http(s)://host:port", o, errOrigin)
	}
	return nil
}
