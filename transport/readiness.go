package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
)

// HealthRequest is the request of the health method. Clients that predate
// readiness send Empty, which decodes as a HealthRequest without Ready.
type HealthRequest struct {
	// Ready asks for the server's readiness (Health.Ready, NotReady). A
	// server that predates readiness refuses the field as unknown; ask it
	// again without (CheckHealth does).
	Ready bool `cbor:"ready,omitempty"`
}

// notReady is the error of a readiness check that failed: it wraps
// ErrUnavailable.
func notReady(format string, a ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), errs.ErrUnavailable)
}

// StorageReady is the readiness of a storage server: its CRS and the
// owner's keys are loaded (a StorageServer holds them from its
// construction), its store is reachable (StorageServer.Ping) and it holds
// a signed state of the owner.
func StorageReady(s *roles.StorageServer) ReadyFunc {
	return func(ctx context.Context) error {
		if err := s.Ping(ctx); err != nil {
			return notReady("store unreachable: %v", err)
		}
		if _, err := s.LatestState(ctx); err != nil {
			if errors.Is(err, roles.ErrUnknownState) {
				return notReady("no signed state of the owner yet")
			}
			return notReady("store unreachable: %v", err)
		}
		return nil
	}
}

// OwnerReady is the readiness of a data owner: its CRS and keys are loaded
// (a DataOwner holds them from its construction), its store is reachable
// (DataOwner.Ping) and it holds its latest signed state.
func OwnerReady(o *roles.DataOwner) ReadyFunc {
	return func(ctx context.Context) error {
		if err := o.Ping(ctx); err != nil {
			return notReady("store unreachable: %v", err)
		}
		if _, err := o.LatestState(ctx); err != nil {
			return notReady("no signed state: %v", err)
		}
		return nil
	}
}

// VerifierReady is the readiness of a verifier: it holds a state of the
// owner (anchored) no older than its maximum state age, so that it
// verifies answers now (roles.Freshness.Fresh). Its CRS key and the
// owner's keys are loaded from its construction.
func VerifierReady(v *roles.Verifier) ReadyFunc {
	return func(context.Context) error {
		f := v.Freshness()
		why := ""
		if f.SyncErr != nil {
			why = fmt.Sprintf(" (last catch-up: %v)", f.SyncErr)
		}
		switch {
		case !f.Anchored:
			return notReady("not anchored at the owner's state yet%s", why)
		case !f.Fresh():
			return notReady("state of epoch %d issued %s ago, older than the maximum state age %s%s",
				f.Epoch, f.Age.Round(time.Second), f.MaxAge, why)
		}
		return nil
	}
}

// healthMethod is the health method of a service: fill answers what every
// version answers, ready the readiness asked by a HealthRequest.
func healthMethod(fill func(ctx context.Context) *Health, ready ReadyFunc) *Method {
	return &Method{Name: "health", Idempotent: true,
		NewRequest: func() any { return new(HealthRequest) },
		Serve: func(ctx context.Context, req any) (any, error) {
			var ask bool
			switch r := req.(type) {
			case *HealthRequest:
				ask = r.Ready
			case *Empty: // in-process, without the codec
			default:
				return nil, fmt.Errorf("transport: health: request of type %T: %w", req, errInvalid)
			}
			h := fill(ctx)
			if ask {
				ok := true
				if err := ready(ctx); err != nil {
					ok, h.NotReady = false, err.Error()
				}
				h.Ready = &ok
			}
			return h, nil
		}}
}

// CheckHealth calls a service's health method and asks for its readiness.
// A server that predates readiness refuses the request: CheckHealth then
// asks again without, and the answer's Ready is nil.
func CheckHealth(ctx context.Context, t Transport, service string) (*Health, error) {
	var h Health
	err := t.Call(ctx, service, "health", &HealthRequest{Ready: true}, &h)
	if errors.Is(err, errs.ErrInvalidEncoding) {
		h = Health{}
		err = t.Call(ctx, service, "health", &Empty{}, &h)
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}
