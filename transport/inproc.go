package transport

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/vdsproject/vds/codec"
)

// Option configures a transport client or server.
type Option func(*options)

type options struct {
	codec         codec.Codec
	noCodec       bool
	http          httpOptions
	auth          Authorizer // server: policy of restricted methods
	token         string     // HTTP client: bearer token
	maxConcurrent int        // server: requests at once
	maxInflight   int64      // server: request bytes at once
	failover      failoverOptions
	observer      Observer  // server: metrics
	ready         ReadyFunc // server: readiness (HTTP /readyz, health)
}

func buildOptions(opts []Option) options {
	o := options{codec: codec.Default()}
	o.http = defaultHTTPOptions()
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithCodec sets the codec (default codec.Default()).
func WithCodec(c codec.Codec) Option { return func(o *options) { o.codec = c } }

// WithoutCodec makes the in-process transport pass request and response
// values directly instead of encoding and decoding them.
func WithoutCodec() Option { return func(o *options) { o.noCodec = true } }

// handle serves one encoded request of the in-process transport: look the
// method up, apply the server's policy, decode, call, encode. Errors come
// back in wire form.
func handle(ctx context.Context, reg registry, o *options, p *Peer, service, name string, body []byte) ([]byte, *WireError) {
	m, err := reg.lookup(service, name)
	if err != nil {
		return nil, ToWire(err)
	}
	if err := o.authorize(ctx, p, service, m); err != nil {
		return nil, ToWire(err)
	}
	return serveBody(ctx, m, service, o, body)
}

// serveBody decodes a request of m (with the method's codec when the
// server speaks CBOR), serves it and encodes the response.
func serveBody(ctx context.Context, m *Method, service string, o *options, body []byte) ([]byte, *WireError) {
	c := o.codec
	if m.MaxRequestBytes > 0 && int64(len(body)) > m.MaxRequestBytes {
		return nil, ToWire(fmt.Errorf("transport: %s/%s request of %d bytes, above its limit of %d: %w", service, m.Name, len(body), m.MaxRequestBytes, errTooLarge))
	}
	dc := c
	if m.Codec != nil && c.ContentType() == codec.ContentTypeCBOR {
		dc = m.Codec
	}
	req := m.NewRequest()
	if err := dc.Unmarshal(body, req); err != nil {
		return nil, ToWire(fmt.Errorf("decode %s/%s request: %w", service, m.Name, err))
	}
	resp, err := o.serve(ctx, service, m, req)
	if err != nil {
		return nil, ToWire(err)
	}
	out, err := c.Marshal(resp)
	if err != nil {
		return nil, ToWire(fmt.Errorf("encode %s/%s response: %w", service, m.Name, err))
	}
	return out, nil
}

// InProc is the in-process transport: it calls the services directly, by
// default through the codec so that every call exercises the wire path.
type InProc struct {
	reg  registry
	opts options
}

// NewInProc returns an in-process transport to the given services.
func NewInProc(services []*Service, opts ...Option) *InProc {
	return &InProc{reg: newRegistry(services), opts: buildOptions(opts)}
}

// Call implements Transport.
func (t *InProc) Call(ctx context.Context, service, name string, req, resp any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.opts.noCodec {
		m, err := t.reg.lookup(service, name)
		if err != nil {
			return err
		}
		if err := t.opts.authorize(ctx, &Peer{Transport: PeerInProc}, service, m); err != nil {
			return err
		}
		start := time.Now()
		out, err := t.opts.serve(ctx, service, m, req)
		t.opts.observeRequest(t.reg, service, name, ToWire(err), start)
		if err != nil {
			return err
		}
		rv := reflect.ValueOf(resp)
		ov := reflect.ValueOf(out)
		if rv.Kind() != reflect.Pointer || rv.IsNil() || ov.Type() != rv.Type() {
			return fmt.Errorf("transport: %s/%s: response of type %T into %T: %w", service, name, out, resp, errInvalid)
		}
		rv.Elem().Set(ov.Elem())
		return nil
	}
	c := t.opts.codec
	body, err := c.Marshal(req)
	if err != nil {
		return fmt.Errorf("transport: encode %s/%s request: %w", service, name, err)
	}
	start := time.Now()
	out, werr := handle(ctx, t.reg, &t.opts, &Peer{Transport: PeerInProc}, service, name, body)
	t.opts.observeRequest(t.reg, service, name, werr, start)
	if werr != nil {
		return werr.Err()
	}
	return c.Unmarshal(out, resp)
}

// Close implements Transport.
func (t *InProc) Close() error { return nil }
