package cli

import (
	"context"
	"crypto/tls"
	"log/slog"

	"github.com/vdsproject/vds/metrics"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// monitor is a server's metrics when -metrics names an address; a nil
// *monitor (no -metrics) changes nothing.
type monitor struct {
	m      *metrics.Metrics
	addr   string
	tls    *tls.Config // -metrics-tls; nil: plain HTTP
	scheme string      // for the log
}

func newMonitor(role, addr string) *monitor {
	if addr == "" {
		return nil
	}
	return &monitor{m: metrics.New(role), addr: addr, scheme: "http"}
}

// wrap times the calls of a storage server's store.
func (mo *monitor) wrap(s roles.ServerStore) roles.ServerStore {
	if mo == nil {
		return s
	}
	return mo.m.WrapServerStore(s)
}

// serverOptions are the options of the server's transport.
func (mo *monitor) serverOptions() []transport.Option {
	if mo == nil {
		return nil
	}
	return []transport.Option{transport.WithObserver(mo.m)}
}

// failoverHook is the hook that counts the fail-overs of the server's
// storage client (nil without -metrics).
func (mo *monitor) failoverHook() func(from, to string, err error) {
	if mo == nil {
		return nil
	}
	return mo.m.FailoverHook()
}

// start binds the metrics address and serves it until ctx ends.
func (mo *monitor) start(ctx context.Context, log *slog.Logger, ready transport.ReadyFunc, state metrics.StateFunc) error {
	if mo == nil {
		return nil
	}
	mo.m.WatchState(state)
	srv, err := metrics.ListenTLS(mo.addr, mo.m.Handler(ready), mo.tls)
	if err != nil {
		return err
	}
	log.Info("metrics listening", "addr", srv.Addr(), "scheme", mo.scheme, "paths", "/metrics /healthz /readyz")
	go func() {
		if err := srv.Serve(ctx); err != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return nil
}
