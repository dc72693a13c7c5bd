package transport

import (
	"context"
	"fmt"
	"reflect"

	"github.com/vdsproject/vds/codec"
)

// Option configures a transport client or server.
type Option func(*options)

type options struct {
	codec   codec.Codec
	noCodec bool
	http    httpOptions
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

// handle serves one encoded request: decode, call, encode. Errors come back
// in wire form.
func handle(ctx context.Context, reg registry, c codec.Codec, service, name string, body []byte) ([]byte, *WireError) {
	m, err := reg.lookup(service, name)
	if err != nil {
		return nil, ToWire(err)
	}
	req := m.NewRequest()
	if err := c.Unmarshal(body, req); err != nil {
		return nil, ToWire(fmt.Errorf("decode %s/%s request: %w", service, name, err))
	}
	resp, err := m.Serve(ctx, req)
	if err != nil {
		return nil, ToWire(err)
	}
	out, err := c.Marshal(resp)
	if err != nil {
		return nil, ToWire(fmt.Errorf("encode %s/%s response: %w", service, name, err))
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
		out, err := m.Serve(ctx, req)
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
	out, werr := handle(ctx, t.reg, c, service, name, body)
	if werr != nil {
		return werr.Err()
	}
	return c.Unmarshal(out, resp)
}

// Close implements Transport.
func (t *InProc) Close() error { return nil }
