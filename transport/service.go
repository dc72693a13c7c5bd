package transport

import (
	"context"
	"fmt"
	"sort"

	"github.com/vdsproject/vds/codec"
)

// Method is one method of a service: how to make an empty request value and
// how to serve a decoded request.
type Method struct {
	// Name is the method name of SPEC §8, e.g. "generate_dc_proof".
	Name string
	// Idempotent methods may be retried after a transport failure: calling
	// them twice has the effect of calling them once.
	Idempotent bool
	// Restricted methods may be called only by the callers their Access
	// admits (MethodAccess: the owner's mutations and pushes; a restricted
	// method of another service is AccessAdmin): a server asks its
	// Authorizer (WithAuthorizer, default DefaultAuthorizer) before it
	// reads the request.
	Restricted bool
	// MaxRequestBytes caps the encoded request (0: only the server's
	// WithMaxBody). A server refuses a larger body before reading it.
	MaxRequestBytes int64
	// Codec, if set, decodes the requests of this method when the server
	// speaks CBOR: its limits fit what the method can legitimately carry,
	// so that an oversized array is refused before any point or scalar of
	// the message is decoded.
	Codec codec.Codec
	// NewRequest returns a pointer to a zero request value.
	NewRequest func() any
	// Serve handles a request and returns the response (a pointer).
	Serve func(ctx context.Context, req any) (any, error)
}

// Service is a named set of methods: "owner", "storage" or "verifier".
type Service struct {
	Name    string
	methods map[string]*Method
}

// NewService returns a service with the given methods.
func NewService(name string, methods ...*Method) *Service {
	s := &Service{Name: name, methods: make(map[string]*Method, len(methods))}
	for _, m := range methods {
		s.methods[m.Name] = m
	}
	return s
}

// Method returns the named method.
func (s *Service) Method(name string) (*Method, bool) {
	m, ok := s.methods[name]
	return m, ok
}

// Methods returns the method names, sorted.
func (s *Service) Methods() []string {
	names := make([]string, 0, len(s.methods))
	for n := range s.methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// method builds a Method from a typed handler.
func method[Req, Resp any](name string, idempotent bool, serve func(context.Context, *Req) (*Resp, error)) *Method {
	return &Method{
		Name:       name,
		Idempotent: idempotent,
		NewRequest: func() any { return new(Req) },
		Serve: func(ctx context.Context, req any) (any, error) {
			r, ok := req.(*Req)
			if !ok {
				return nil, fmt.Errorf("transport: %s: request of type %T: %w", name, req, errInvalid)
			}
			return serve(ctx, r)
		},
	}
}

// registry finds methods by service and method name.
type registry map[string]*Service

func newRegistry(services []*Service) registry {
	r := registry{}
	for _, s := range services {
		r[s.Name] = s
	}
	return r
}

func (r registry) lookup(service, name string) (*Method, error) {
	s, ok := r[service]
	if !ok {
		return nil, fmt.Errorf("transport: no service %q: %w", service, errNotFound)
	}
	m, ok := s.Method(name)
	if !ok {
		return nil, fmt.Errorf("transport: service %q has no method %q: %w", service, name, errNotFound)
	}
	return m, nil
}
