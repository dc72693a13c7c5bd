package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// RunUpdate is `vds update -batch ID -file F.csv [-dry-run]`: the owner
// replaces the batch by a new version read from the file.
func RunUpdate(ctx context.Context, args []string) error {
	c := newCommon("update")
	batch := c.batchFlag("batch id (or a unique prefix of at least 8 hex digits) of the version to replace")
	cf := addCSVFlags(c, "CSV file with the new version (one batch)",
		"data columns (default: every column but the timestamp)",
		"decimal places per column (default: the old version's)")
	dryRun := c.fs.Bool("dry-run", false, "check the update with the owner and show what would change; change nothing")
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
	file := *cf.file
	if file == "" {
		return usageErrorf("update: -file is required")
	}
	o, err := cf.options()
	if err != nil {
		return err
	}
	id, err := resolveBatch(ctx, c, *batch)
	if err != nil {
		return err
	}
	// The old version's scales are the default: an update keeps them.
	o.defaults = map[string]uint8{}
	if st, err := c.dialStorage(nil); err == nil {
		h, herr := transport.StorageClient{T: st}.Header(ctx, id)
		st.Close()
		if herr == nil {
			for _, col := range h.Header.Columns {
				o.defaults[col.Name] = col.Scale
			}
		}
	}
	t, err := readCSVFile(file, o)
	if err != nil {
		return err
	}
	if n, err := capacity(ctx, c); err == nil && len(t.times) > n {
		return inputErrorf("%s: %d rows; a batch holds at most %d (the CRS capacity)", file, len(t.times), n)
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
		printPlan(p, o.time)
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
