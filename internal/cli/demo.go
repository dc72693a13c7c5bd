package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/transport"
)

// RunDemo is `vds demo`: the whole story on a small system, explained.
func RunDemo(ctx context.Context, args []string) error {
	c := newCommon("demo")
	inproc := c.fs.Bool("inproc", false, "run the three roles in this process instead of three processes over Unix sockets")
	n := c.fs.Int("n", 64, "batch capacity")
	keep := c.fs.Bool("keep", false, "keep the demo's data directory")
	if err := c.parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vds-demo-")
	if err != nil {
		return err
	}
	if *keep {
		defer fmt.Printf("\n(data kept in %s)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	c.dir, c.tlsDir = dir, ""
	d := &demo{out: os.Stdout}
	d.say("vds demo: a data owner, an untrusted storage server and a verifier")
	d.step("Set-up: a CRS for batches of %d rows and the data owner's keys", *n)
	if err := setup(ctx, dir, *n, false, false, io.Discard); err != nil {
		return err
	}
	crs, keys, err := c.loadPublic()
	if err != nil {
		return err
	}
	d.say("CRS digest %s…; α was used once and forgotten.", crs.Digest().String()[:16])
	d.say("Owner %s… signs with Ed25519 key %s; its accumulator key ĝ^s is public.", keys.ID().String()[:16], keys.Signing[0].ID)

	var owner transport.OwnerClient
	var storage transport.StorageClient
	var verifier transport.VerifierClient
	if *inproc {
		d.step("The three roles, in this process (every call still goes through the CBOR codec)")
		t, stop, err := inprocSystem(ctx, c)
		if err != nil {
			return err
		}
		defer stop()
		owner, storage, verifier = transport.OwnerClient{T: t}, transport.StorageClient{T: t}, transport.VerifierClient{T: t}
	} else {
		d.step("The three roles as three processes talking over Unix sockets")
		c.owner, c.storage, c.verifier = "unix://"+filepath.Join(dir, "owner.sock"), "unix://"+filepath.Join(dir, "storage.sock"), "unix://"+filepath.Join(dir, "verifier.sock")
		stop, err := processSystem(ctx, c, d)
		if err != nil {
			return err
		}
		defer stop()
		var ts [3]transport.Transport
		for i, a := range []string{c.owner, c.storage, c.verifier} {
			if ts[i], err = c.dial(a); err != nil {
				return err
			}
			defer ts[i].Close()
		}
		owner, storage, verifier = transport.OwnerClient{T: ts[0]}, transport.StorageClient{T: ts[1]}, transport.VerifierClient{T: ts[2]}
	}
	return d.story(ctx, *n, owner, storage, verifier)
}

type demo struct {
	out io.Writer
	n   int
}

func (d *demo) step(format string, args ...any) {
	d.n++
	fmt.Fprintf(d.out, "\n%d. %s\n", d.n, fmt.Sprintf(format, args...))
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "   %s\n", fmt.Sprintf(format, args...))
}

// inprocSystem wires the roles in this process behind one in-process
// transport.
func inprocSystem(ctx context.Context, c *common) (transport.Transport, func(), error) {
	crs, keys, err := c.loadPublic()
	if err != nil {
		return nil, nil, err
	}
	file, err := os.ReadFile(c.path(crsFile))
	if err != nil {
		return nil, nil, err
	}
	ss, err := bolt.Open(c.path(storageDB))
	if err != nil {
		return nil, nil, err
	}
	os_, err := bolt.Open(c.path(ownerDB))
	if err != nil {
		ss.Close()
		return nil, nil, err
	}
	stop := func() { ss.Close(); os_.Close() }
	srv, err := roles.NewStorageServer(crs, keys, ss)
	if err != nil {
		stop()
		return nil, nil, err
	}
	storageT := transport.NewInProc([]*transport.Service{transport.StorageService(srv)})
	o, err := roles.NewDataOwner(ctx, crs, os_, transport.StorageClient{T: storageT})
	if err != nil {
		stop()
		return nil, nil, err
	}
	v, err := roles.NewVerifier(crs.VerifierKey(), keys, roles.WithTrustedSource(o), roles.WithStateSource(transport.StorageClient{T: storageT}))
	if err != nil {
		stop()
		return nil, nil, err
	}
	o.Subscribe(v, roles.DeliverInline())
	if err := o.Sync(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return transport.NewInProc([]*transport.Service{transport.OwnerService(o, file), transport.StorageService(srv), transport.VerifierService(v)}), stop, nil
}

// processSystem starts the three servers as child processes.
func processSystem(ctx context.Context, c *common, d *demo) (func(), error) {
	var cmds []*exec.Cmd
	stop := func() {
		for i := len(cmds) - 1; i >= 0; i-- {
			_ = cmds[i].Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(done) }(cmds[i])
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmds[i].Process.Kill()
			}
		}
	}
	if err := os.MkdirAll(c.path("logs"), 0o700); err != nil {
		return nil, err
	}
	for _, s := range serverRoles {
		logFile := c.path(filepath.Join("logs", s.name+".log"))
		cmd, err := spawn(c, s.name, logFile, false)
		if err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, cmd)
		if err := waitHealthy(ctx, c, s.name, s.service, 30*time.Second); err != nil {
			stop()
			b, _ := os.ReadFile(logFile)
			return nil, fmt.Errorf("%w\n%s", err, b)
		}
		d.say("%-8s pid %-7d %s", s.name, cmd.Process.Pid, c.roleAddr(s.name))
	}
	return stop, nil
}

// sampleCSV is a greenhouse sensor stream: a reading a minute, temperature
// with one decimal place, humidity in percent, and a power meter in Wh
// that goes negative when the solar panel feeds the grid.
func sampleCSV(rows int) string {
	var b strings.Builder
	b.WriteString("timestamp,temp,humidity,power\n")
	for i := range rows {
		t := 1_767_225_600 + 60*i // 2026-01-01T00:00Z, one a minute
		temp := 18.0 + 4*math.Sin(float64(i)/20)
		hum := 60 - i%9
		power := int(300*math.Cos(float64(i)/15)) - 50
		fmt.Fprintf(&b, "%d,%.1f,%d,%d\n", t, temp, hum, power)
	}
	return b.String()
}

func (d *demo) story(ctx context.Context, n int, owner transport.OwnerClient, storage transport.StorageClient, verifier transport.VerifierClient) error {
	d.step("The owner commits to a stream of sensor readings")
	rows := 2*n + n/2
	t, err := readCSV(strings.NewReader(sampleCSV(rows)), csvOptions{timeCol: "timestamp"})
	if err != nil {
		return err
	}
	d.say("%d readings of temp (scale %d), humidity and power, cut into batches of at most %d rows.", rows, t.scales[0], n)
	var ids []roles.BatchID
	for _, b := range t.batches("greenhouse-7", n) {
		r, err := owner.CreateBatch(ctx, b)
		if err != nil {
			return err
		}
		h := &r.Header
		id, _ := h.Header.Digest()
		ids = append(ids, id)
		d.say("batch %s…  seq %d  %2d rows  t=%d..%d  signed, committed (C_temp, C_humidity, C_power in G1, Ĉ_time in G2), stored", id.Short(), h.Header.Seq, h.Header.Rows, h.Header.FirstTime, h.Header.LastTime)
	}
	list, err := storage.ListBatches(ctx, "greenhouse-7")
	if err != nil {
		return err
	}
	d.say("The storage server holds %d batches and the data; the owner keeps only keys and the revocation log.", len(list))

	ask := func(what string, q *roles.Query) (*roles.Answer, *transport.VerifyResult, error) {
		ans, err := storage.Answer(ctx, q)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		res, err := verifier.Verify(ctx, q, ans)
		if err != nil {
			return ans, nil, fmt.Errorf("%s: %w", what, err)
		}
		var vals []string
		for i, c := range res.Columns {
			vals = append(vals, c+" = "+res.Values[i])
		}
		extra := ""
		if q.Kind == roles.QueryWindow {
			extra = fmt.Sprintf(" (rows %d..%d)", res.First, res.Last)
		}
		if q.Kind == roles.QueryAudit {
			d.say("✔ %-44s passed: the server still holds every value", what)
		} else {
			d.say("✔ %-44s %s%s", what, strings.Join(vals, ", "), extra)
		}
		return ans, res, nil
	}

	d.step("Data consumers ask the untrusted server; the verifier checks every answer")
	b0 := ids[0]
	if _, _, err := ask("temp at row 7 of batch 1", &roles.Query{Batch: b0, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 7}); err != nil {
		return err
	}
	rq := &roles.Query{Batch: b0, Kind: roles.QueryRange, Columns: []string{"temp", "humidity", "power"}, From: 1, To: uint32(n)}
	rangeAns, _, err := ask("sums of 3 columns over the whole batch 1", rq)
	if err != nil {
		return err
	}
	first := t.times[0]
	if _, _, err := ask("power over the first 10 minutes (time window)", &roles.Query{Batch: b0, Kind: roles.QueryWindow, Columns: []string{"power"}, TimeFrom: first, TimeTo: first + 599}); err != nil {
		return err
	}
	d.say("  one proof per answer, whatever the number of columns; each verification is one multi-pairing.")

	d.step("A data auditor challenges the server with a fresh nonce")
	if _, _, err := ask("audit of batch 2 (temp, humidity)", &roles.Query{Batch: ids[1], Kind: roles.QueryAudit, Columns: []string{"temp", "humidity"}, Nonce: []byte(time.Now().String())}); err != nil {
		return err
	}

	d.step("A lying server is caught")
	forged := *rangeAns
	forged.Values = append([]codec.Scalar(nil), rangeAns.Values...)
	var one bls.Element
	one.SetOne()
	x := bls.Element(forged.Values[0])
	x.Add(&x, &one)
	forged.Values[0] = codec.Scalar(x)
	if _, err := verifier.Verify(ctx, rq, &forged); err != nil {
		d.say("✘ sum of temp raised by 0.1:                 rejected (%s)", short(err))
	} else {
		return errors.New("a forged sum was accepted")
	}
	other := *rangeAns
	other.Query.To = uint32(n) - 1
	if _, err := verifier.Verify(ctx, rq, &other); err != nil {
		d.say("✘ an answer to another range:                rejected (%s)", short(err))
	} else {
		return errors.New("an answer to another query was accepted")
	}

	d.step("The owner revokes batch 2")
	st, err := owner.Revoke(ctx, ids[1])
	if err != nil {
		return err
	}
	d.say("epoch %d: f ← f^(x+s) with x = H(batch 2's digest); the new state is signed and pushed to the server and the verifier.", st.State.Epoch)
	if _, err := storage.Answer(ctx, &roles.Query{Batch: ids[1], Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 1}); errors.Is(err, roles.ErrRevoked) {
		d.say("✘ the honest server refuses to answer about batch 2 (%s)", short(err))
	} else {
		return fmt.Errorf("server answered about a revoked batch: %v", err)
	}
	if _, err := verifier.Verify(ctx, rq, rangeAns); err != nil {
		d.say("✘ an answer about batch 1 made before the revocation is now stale (%s)", short(err))
	} else {
		return errors.New("a stale answer was accepted")
	}
	if _, _, err := ask("the same sums, asked again", rq); err != nil {
		return err
	}

	d.step("The owner corrects batch 3: a new version replaces the old one in one step")
	last := ids[len(ids)-1]
	corr, err := readCSV(strings.NewReader(sampleCSV(rows)), csvOptions{timeCol: "timestamp"})
	if err != nil {
		return err
	}
	bs := corr.batches("greenhouse-7", n)
	nb := bs[len(bs)-1]
	nb.Columns[0].Values[0] += 5 // the first temperature was 0.5 too low
	up, err := owner.Update(ctx, last, nb)
	if err != nil {
		return err
	}
	newID, _ := up.Header.Header.Digest()
	d.say("version %d of seq %d is batch %s…; the old version was revoked at epoch %d.", up.Header.Header.Version, up.Header.Header.Seq, newID.Short(), up.State.State.Epoch)
	if _, err := storage.Answer(ctx, &roles.Query{Batch: last, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 1}); errors.Is(err, roles.ErrRevoked) {
		d.say("✘ the old version: refused (%s)", short(err))
	} else {
		return fmt.Errorf("server answered about a replaced version: %v", err)
	}
	if _, _, err := ask("temp at row 1 of the new version", &roles.Query{Batch: newID, Kind: roles.QueryPoint, Columns: []string{"temp"}, Row: 1}); err != nil {
		return err
	}

	d.step("Everyone agrees on the state")
	ost, err := owner.LatestState(ctx)
	if err != nil {
		return err
	}
	h, err := storage.Health(ctx)
	if err != nil {
		return err
	}
	vh, err := verifier.Health(ctx)
	if err != nil {
		return err
	}
	d.say("owner epoch %d, storage server epoch %d, verifier epoch %d: two revocations, each signed and chained.", ost.State.Epoch, h.Epoch, vh.Epoch)
	fmt.Fprintln(d.out, "\nDone: every answer above was checked against the owner's public keys alone.")
	return nil
}

// short returns the innermost message of an error.
func short(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": vds: "); i >= 0 {
		return s[i+2:]
	}
	return s
}
