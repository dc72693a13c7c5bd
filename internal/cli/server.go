package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/transport"
)

// server is what every `vds <role> serve` shares: the common flags,
// -listen and -metrics, and, once parsed, its logger and its metrics.
type server struct {
	*common
	role    serverRole
	listen  *string
	metrics *string
	// metricsTLS is -metrics-tls: none, tls or mtls.
	metricsTLS *string
	log        *slog.Logger
	mon        *monitor // nil without -metrics
}

// newServer declares the flags of `vds <role> serve`: the common ones,
// -listen (default from PREFIX_HOST and PREFIX_PORT) and -metrics (env
// PREFIX_METRICS). The caller adds its own, then calls parse.
func newServer(r serverRole) *server {
	s := &server{common: newCommon(r.name + " serve"), role: r}
	s.tlsRole = r.name
	s.listen = s.fs.String("listen", r.defaultAddr(), "address to serve on: host:port or unix:///path")
	s.metrics = s.fs.String("metrics", env(r.env+"_METRICS", ""), "serve Prometheus metrics (/metrics), /healthz and /readyz on this separate address, host:port, plain HTTP unless -metrics-tls (env "+r.env+"_METRICS; default off)")
	s.metricsTLS = s.fs.String("metrics-tls", env(r.env+"_METRICS_TLS", "none"), "the metrics listener's TLS: none (plain HTTP), tls (HTTPS with the server's certificate of -tls-dir) or mtls (HTTPS, and scrapers must present a certificate of -tls-dir's CA) (env "+r.env+"_METRICS_TLS)")
	return s
}

// parse checks that args start with "serve", parses the flags after it
// and makes the server's logger and metrics.
func (s *server) parse(args []string) error {
	n := s.role.name
	args, err := subcommand(args, "serve", "usage: vds "+n+" serve [flags] (vds "+n+" serve -h: the flags)")
	if err != nil {
		return err
	}
	if err := s.common.parse(args); err != nil {
		return err
	}
	s.log = s.logger(n)
	s.mon = newMonitor(n, *s.metrics)
	return s.metricsTLSConfig()
}

// metricsTLSConfig sets the metrics listener's TLS from -metrics-tls.
func (s *server) metricsTLSConfig() error {
	mode := *s.metricsTLS
	switch mode {
	case "none":
		return nil
	case "tls", "mtls":
	default:
		return usageErrorf("-metrics-tls %q: want none, tls or mtls", mode)
	}
	if s.tlsDir == "" {
		return usageErrorf("-metrics-tls %s needs -tls-dir", mode)
	}
	if s.mon == nil {
		return nil
	}
	cert, key := s.tlsIdentity(true)
	ca := ""
	if mode == "mtls" {
		ca = filepath.Join(s.tlsDir, "ca.pem")
	}
	c, err := transport.ServerTLS(cert, key, ca)
	if err != nil {
		return err
	}
	s.mon.tls, s.mon.scheme = c, "https"
	if mode == "mtls" {
		s.mon.scheme = "https (mutual TLS)"
	}
	return nil
}

// storageClient dials -storage as dialStorage does, logging each
// fail-over and counting it in the server's metrics.
func (s *server) storageClient() (transport.Transport, error) {
	s.onFailover = s.mon.failoverHook()
	return s.dialStorage(s.log)
}

// serve starts the metrics server (with -metrics), logs msg and attrs (the
// server is ready), then serves the services on -listen until ctx ends.
// Over HTTP(S) it also serves GET /healthz and /readyz (ready).
func (s *server) serve(ctx context.Context, ready transport.ReadyFunc, state metrics.StateFunc, extra []transport.Option, service *transport.Service, msg string, attrs ...any) error {
	if err := s.mon.start(ctx, s.log, ready, state); err != nil {
		return err
	}
	s.log.Info(msg, attrs...)
	log := s.log
	opts := append([]transport.Option{transport.WithLogger(log), transport.WithReadiness(ready)}, s.mon.serverOptions()...)
	opts = append(opts, extra...)
	services := []*transport.Service{service}
	addr := *s.listen
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
	tc, err := s.serverTLS()
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
