package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// stateJSON is `vds state -json`.
type stateJSON struct {
	Owner    ownerStateJSON  `json:"owner"`
	Storage  serverStateJSON `json:"storage"`
	Verifier serverStateJSON `json:"verifier"`
	// Replicas are the storage replicas when -storage names several.
	Replicas []replicaStateJSON `json:"storage_replicas,omitempty"`
}

type ownerStateJSON struct {
	Epoch    uint64 `json:"epoch"`
	State    string `json:"state"`     // the state digest
	IssuedAt string `json:"issued_at"` // RFC 3339, UTC
	KeyID    string `json:"key_id"`
	Revoked  string `json:"revoked,omitempty"` // the batch this epoch revoked
}

// replicaStateJSON is one storage replica of -storage a,b.
type replicaStateJSON struct {
	Addr string `json:"addr"`
	serverStateJSON
}

type serverStateJSON struct {
	Reachable bool    `json:"reachable"`
	Epoch     *uint64 `json:"epoch,omitempty"` // absent: no state yet (or unreachable)
	// Ready is absent when the server is unreachable or predates
	// readiness; NotReady says why it is not ready.
	Ready    *bool  `json:"ready,omitempty"`
	NotReady string `json:"not_ready,omitempty"`
	Error    string `json:"error,omitempty"`
}

// describe is one line about a server for vds state.
func (s *serverStateJSON) describe() string {
	if !s.Reachable {
		return "unreachable: " + safeText(s.Error)
	}
	d := "no state yet"
	if s.Epoch != nil {
		d = fmt.Sprintf("epoch %d", *s.Epoch)
	}
	switch {
	case s.Ready == nil:
		d += " (readiness unknown: an older server)"
	case *s.Ready:
		d += ", ready"
	default:
		d += ", NOT READY: " + safeText(s.NotReady)
	}
	return d
}

// serverHealth calls a server's health method, with its readiness:
// callErr is the call's failure (also in r.Error), dialErr that the address
// cannot be dialled at all (malformed, TLS without -tls-dir).
func serverHealth(ctx context.Context, c *common, addr, svc string) (r serverStateJSON, callErr, dialErr error) {
	t, err := c.dial(addr)
	if err != nil {
		return r, nil, err
	}
	h, err := transport.CheckHealth(ctx, t, svc)
	t.Close()
	if err != nil {
		r.Error = err.Error()
		return r, err, nil
	}
	r.Reachable, r.Ready, r.NotReady = true, h.Ready, h.NotReady
	if h.HasEpoch {
		e := h.Epoch
		r.Epoch = &e
	}
	return r, nil, nil
}

// RunState is `vds state`: the owner's signed state and the storage
// servers' and the verifier's epochs and readiness.
func RunState(ctx context.Context, args []string) error {
	c := newCommon("state")
	asJSON := c.jsonFlag()
	if err := c.parse(args); err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.LatestState(ctx)
	if err != nil {
		return fmt.Errorf("owner: %w", err)
	}
	d, _ := st.State.Digest()
	acc := (*bls.G1Affine)(&st.State.Acc).Bytes()
	out := stateJSON{Owner: ownerStateJSON{Epoch: st.State.Epoch, State: d.String(), IssuedAt: time.UnixMilli(st.IssuedAt).UTC().Format(time.RFC3339), KeyID: st.KeyID}}
	if r := st.State.Revoked; r != nil {
		out.Owner.Revoked = r.Batch.String()
	}
	var down, fatal []error
	probe := func(name, addr, svc string) serverStateJSON {
		r, err, derr := serverHealth(ctx, c, addr, svc)
		switch {
		case derr != nil:
			fatal = append(fatal, derr)
		case err != nil:
			down = append(down, fmt.Errorf("%s: %w", name, err))
		}
		return r
	}
	if addrs := transport.SplitAddrs(c.storage); len(addrs) > 1 {
		// Replicas: each one's own health; "storage" is the first that answers.
		for i, a := range addrs {
			r := replicaStateJSON{Addr: a, serverStateJSON: probe("storage "+a, a, transport.ServiceStorage)}
			out.Replicas = append(out.Replicas, r)
			if i == 0 || (!out.Storage.Reachable && r.Reachable) {
				out.Storage = r.serverStateJSON
			}
		}
	} else {
		out.Storage = probe("storage", c.storage, transport.ServiceStorage)
	}
	out.Verifier = probe("verifier", c.verifier, transport.ServiceVerifier)
	if len(fatal) > 0 {
		return fatal[0]
	}
	if *asJSON {
		if err := printJSON(out); err != nil {
			return err
		}
		return errors.Join(down...)
	}
	fmt.Printf("owner:    epoch %d, state %s…, f = %x…, issued %s, key %s\n", st.State.Epoch, d.String()[:16], acc[:8], out.Owner.IssuedAt, roles.Display(st.KeyID))
	if r := st.State.Revoked; r != nil {
		fmt.Printf("          epoch %d revoked batch %s\n", st.State.Epoch, r.Batch)
	}
	servers := []struct {
		name string
		out  *serverStateJSON
	}{{"storage", &out.Storage}, {"verifier", &out.Verifier}}
	if len(out.Replicas) > 0 {
		verifier := servers[1]
		servers = servers[:0]
		for i := range out.Replicas {
			r := &out.Replicas[i]
			servers = append(servers, struct {
				name string
				out  *serverStateJSON
			}{"storage " + safeText(r.Addr), &r.serverStateJSON})
		}
		servers = append(servers, verifier)
	}
	for _, s := range servers {
		fmt.Printf("%-9s %s\n", s.name+":", s.out.describe())
	}
	if len(down) > 0 {
		return errors.Join(down...)
	}
	return nil
}
