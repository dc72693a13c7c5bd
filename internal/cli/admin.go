package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// RunRevoke is `vds revoke -batch ID`: the owner revokes the batch.
func RunRevoke(ctx context.Context, args []string) error {
	c := newCommon("revoke")
	batch := c.fs.String("batch", "", "batch id (hex), or a unique prefix of at least 8 hex digits")
	if err := c.parse(args); err != nil {
		return err
	}
	id, err := resolveBatch(ctx, c, *batch)
	if err != nil {
		return err
	}
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	st, err := transport.OwnerClient{T: ot}.Revoke(ctx, id)
	if err != nil {
		return ownerRefusal(err)
	}
	fmt.Printf("revoked %s at epoch %d\n", id, st.State.Epoch)
	return nil
}

// RunUpdate is `vds update -batch ID -file F.csv [-dry-run]`: the owner
// replaces the batch by a new version read from the file.
func RunUpdate(ctx context.Context, args []string) error {
	c := newCommon("update")
	batch := c.fs.String("batch", "", "batch id (or a unique prefix of at least 8 hex digits) of the version to replace")
	file := c.fs.String("file", "", "CSV file with the new version (one batch)")
	timeCol := c.fs.String("time-col", "timestamp", "name of the timestamp column")
	cols := c.fs.String("cols", "", "data columns (default: every column but the timestamp)")
	scales := c.fs.String("scale", "", "decimal places per column (default: the old version's)")
	dryRun := c.fs.Bool("dry-run", false, "check the update with the owner and show what would change; change nothing")
	tf := addTimeFlags(c, true)
	c.fs.Usage = func() {
		fmt.Fprintln(c.fs.Output(), "usage: vds update -batch ID -file F.csv [-dry-run] [flags]")
		c.fs.PrintDefaults()
		fmt.Fprint(c.fs.Output(), `
An update keeps the batch's stream, sequence number, column names and scales,
and its time range stays strictly between its neighbours' (SPEC §11.1);
anything else is refused (exit 4) and nothing changes. The old version is
revoked for good: check first with -dry-run.
`)
	}
	if err := c.parse(args); err != nil {
		return err
	}
	if *file == "" {
		return usageErrorf("update: -file is required")
	}
	spec, sc, err := tf.specAndScales(*scales)
	if err != nil {
		return err
	}
	id, err := resolveBatch(ctx, c, *batch)
	if err != nil {
		return err
	}
	// The old version's scales are the default: an update keeps them.
	defaults := map[string]uint8{}
	if st, err := c.dialStorage(nil); err == nil {
		h, herr := transport.StorageClient{T: st}.Header(ctx, id)
		st.Close()
		if herr == nil {
			for _, col := range h.Header.Columns {
				defaults[col.Name] = col.Scale
			}
		}
	}
	t, err := readCSVFile(*file, csvOptions{timeCol: *timeCol, cols: splitListOrNil(*cols), scales: sc, defaults: defaults, time: spec})
	if err != nil {
		return err
	}
	if n, err := capacity(ctx, c); err == nil && len(t.times) > n {
		return inputErrorf("%s: %d rows; a batch holds at most %d (the CRS capacity)", *file, len(t.times), n)
	}
	bs := t.batches("", len(t.times))
	ot, err := c.dialOwner()
	if err != nil {
		return err
	}
	defer ot.Close()
	owner := transport.OwnerClient{T: ot}
	if *dryRun {
		p, err := owner.CheckUpdate(ctx, id, bs[0])
		if err != nil {
			return ownerRefusal(err)
		}
		printPlan(p, spec)
		return nil
	}
	r, err := owner.Update(ctx, id, bs[0])
	if err != nil {
		return ownerRefusal(err)
	}
	nid, _ := r.Header.Header.Digest()
	fmt.Printf("updated %s/%d to version %d: new batch %s, old one revoked at epoch %d\n", roles.Display(r.Header.Header.Stream), r.Header.Header.Seq, r.Header.Header.Version, nid, r.State.State.Epoch)
	return nil
}

// printPlan shows what an update would change.
func printPlan(p *transport.UpdatePlan, spec *timeSpec) {
	fmt.Printf("dry run: the update would replace %s/%d version %d (batch %s) by version %d\n", roles.Display(p.Stream), p.Seq, p.OldVersion, p.OldBatch, p.NewVersion)
	fmt.Printf("  rows: %d -> %d\n", p.OldRows, p.NewRows)
	fmt.Printf("  time: %s .. %s (t=%d..%d) -> %s .. %s (t=%d..%d)\n", spec.show(p.OldT0), spec.show(p.OldT1), p.OldT0, p.OldT1, spec.show(p.NewT0), spec.show(p.NewT1), p.NewT0, p.NewT1)
	var cs []string
	for _, col := range p.Columns {
		cs = append(cs, fmt.Sprintf("%s (scale %d)", roles.Display(col.Name), col.Scale))
	}
	fmt.Printf("  columns (unchanged): %s\n", strings.Join(cs, ", "))
	fmt.Printf("  the old version would be revoked for good; nothing was changed\n")
}

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
	asJSON := c.fs.Bool("json", false, "print one JSON document")
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

// listJSON is `vds list -json`.
type listJSON struct {
	Batches []batchJSON `json:"batches"`
}

// RunList is `vds list`: the batches the storage server holds.
func RunList(ctx context.Context, args []string) error {
	c := newCommon("list")
	stream := c.fs.String("stream", "", "only this stream")
	asJSON := c.fs.Bool("json", false, "print one JSON document")
	if err := c.parse(args); err != nil {
		return err
	}
	st, err := c.dialStorage(nil)
	if err != nil {
		return err
	}
	defer st.Close()
	sc := transport.StorageClient{T: st}
	l, err := sc.ListBatches(ctx, *stream)
	if err != nil {
		return fmt.Errorf("storage server: %w", err)
	}
	out := listJSON{Batches: []batchJSON{}}
	for _, b := range l {
		revoked := b.Revoked
		bj := batchJSON{ID: b.ID.String(), Stream: b.Stream, Seq: b.Seq, Version: b.Version, Rows: b.Rows, T0: b.FirstTime, T1: b.LastTime, Revoked: &revoked}
		if b.ProofColumns > 0 {
			bj.ProofColumns, bj.ProofBytesColumn = b.ProofColumns, b.ProofBytes/uint64(b.ProofColumns)
		}
		h, err := sc.Header(ctx, b.ID)
		switch {
		case err == nil:
			for _, col := range h.Header.Columns {
				bj.Columns = append(bj.Columns, columnJSON{Name: col.Name, Scale: col.Scale})
			}
		case !errors.Is(err, errs.ErrUnknownBatch) && !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrRevoked):
			return fmt.Errorf("storage server: header of %s: %w", b.ID.Short(), err)
		}
		out.Batches = append(out.Batches, bj)
	}
	if *asJSON {
		return printJSON(out)
	}
	if len(out.Batches) == 0 {
		if *stream != "" {
			fmt.Printf("no batches in stream %s\n", roles.Display(*stream))
		} else {
			fmt.Println("no batches stored yet (vds ingest -file F.csv -stream S)")
		}
		return nil
	}
	for _, b := range out.Batches {
		status := "live"
		if *b.Revoked {
			status = "revoked"
		}
		var cs []string
		for _, col := range b.Columns {
			cs = append(cs, fmt.Sprintf("%s:%d", roles.Display(col.Name), col.Scale))
		}
		tables := "tables 0"
		if b.ProofColumns > 0 {
			tables = fmt.Sprintf("tables %d, %d bytes/column", b.ProofColumns, b.ProofBytesColumn)
		}
		fmt.Printf("%s\t%s/%d v%d\t%d rows\tt=%d..%d\t%s\t%s\t%s\n", b.ID, roles.Display(b.Stream), b.Seq, b.Version, b.Rows, b.T0, b.T1, status, strings.Join(cs, ","), tables)
	}
	return nil
}

// displayAll escapes names for printing (roles.Display).
func displayAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = roles.Display(n)
	}
	return out
}
