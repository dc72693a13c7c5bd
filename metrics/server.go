package metrics

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vdsproject/vds/transport"
)

// stateCollector reports the epoch and age of a server's state, and
// whether it is ready, at each scrape.
type stateCollector struct {
	epoch, age, ready *prometheus.Desc
	mu                sync.Mutex
	f                 StateFunc
	check             transport.ReadyFunc
}

func (c *stateCollector) set(f StateFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.f = f
}

func (c *stateCollector) setReady(check transport.ReadyFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.check = check
}

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.epoch
	ch <- c.age
	ch <- c.ready
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	f, check := c.f, c.check
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if check != nil {
		v := 1.0
		if check(ctx) != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, v)
	}
	if f == nil {
		return
	}
	epoch, issued, ok := f(ctx)
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(epoch))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(issued).Seconds())
}

// Listen binds addr ("127.0.0.1:9102"; port 0 picks one) for h, usually
// Metrics.Handler; serve it with Serve. It speaks plain HTTP: bind it to
// an address only the scraper reaches, or use ListenTLS.
func Listen(addr string, h http.Handler) (*transport.HTTPServer, error) {
	return ListenTLS(addr, h, nil)
}

// ListenTLS is Listen over TLS with c (nil: plain HTTP), for instance
// transport.ServerTLS's configuration: with a client CA, scrapers must
// present a certificate it signed (mutual TLS); the metrics, /healthz and
// /readyz are then served to nobody else.
func ListenTLS(addr string, h http.Handler, c *tls.Config) (*transport.HTTPServer, error) {
	opts := []transport.Option{
		transport.WithServerTimeouts(10*time.Second, 30*time.Second, 2*time.Minute),
		transport.WithShutdownGrace(5 * time.Second),
	}
	if c != nil {
		opts = append(opts, transport.WithTLS(c))
	}
	return transport.ListenHTTP(addr, h, opts...)
}
