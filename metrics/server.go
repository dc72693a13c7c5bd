package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stateCollector reports the epoch and age of a server's state at each
// scrape.
type stateCollector struct {
	epoch, age *prometheus.Desc
	mu         sync.Mutex
	f          StateFunc
}

func (c *stateCollector) set(f StateFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f = f
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.epoch
	ch <- c.age
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	f := c.f
	c.mu.Unlock()
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	epoch, issued, ok := f(ctx)
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(epoch))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(issued).Seconds())
}

// Server serves a metrics handler on a listen address of its own.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr ("127.0.0.1:9102"; port 0 picks one) for h, usually
// Metrics.Handler. Serve it with Serve. It speaks plain HTTP: bind it to
// an address only the scraper reaches.
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	return &Server{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts down (waiting a few seconds for
// scrapes in flight) and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		_ = s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
