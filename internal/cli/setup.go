package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
)

// RunSetup is `vds setup`: the CRS (or a ceremony's), the owner's keys
// and token, and optionally a development TLS PKI, into a data directory.
func RunSetup(ctx context.Context, args []string) error {
	c := newCommon("setup")
	n := capacityFlag(c.fs)
	withTLS := c.fs.Bool("tls", false, "also write a development CA and one certificate per role (owner, storage, verifier, admin) into DIR/tls")
	force := c.fs.Bool("force", false, "replace an existing set-up")
	quiet := quietFlag(c.fs)
	crsPath := c.fs.String("crs", "", "use the final CRS of this ceremony transcript (vds crs) instead of generating one; it is verified first")
	ifMissing := c.fs.Bool("if-missing", false, "if DIR already holds a set-up, keep it and succeed (for a one-shot set-up container that runs on every start)")
	signer := signerFlag(c.fs)
	publicDir := c.fs.String("public-dir", "", "also copy the public files (CRS, its digest, the owner's public keys) into this directory, for storage servers and verifiers that must not see the owner's secrets")
	if err := c.parse(args); err != nil {
		return err
	}
	if *ifMissing && *force {
		fmt.Fprintln(os.Stderr, "vds setup: -if-missing and -force exclude each other")
		return errUsage
	}
	if *ifMissing {
		if _, err := os.Stat(filepath.Join(c.dir, crsFile)); err == nil {
			fmt.Fprintf(progressOut(*quiet), "%s already holds a set-up: kept\n", c.dir)
			return copyPublic(c.dir, *publicDir)
		}
	}
	if *crsPath != "" {
		nSet := false
		c.fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
		if !nSet {
			*n = 0 // take the transcript's
		}
	}
	opts, err := ownerSignerOpts(ctx, *signer)
	if err != nil {
		return err
	}
	if err := setupFrom(ctx, c.dir, *n, *crsPath, *withTLS, *force, progressOut(*quiet), opts...); err != nil {
		return err
	}
	return copyPublic(c.dir, *publicDir)
}

// publicFiles are the files of a data directory that storage servers and
// verifiers need and anyone may read.
var publicFiles = []string{crsFile, digestFile, ownerKeysFile}

// copyPublic copies the public files of the set-up in dir into pub (made
// if missing; nothing to do if pub is ""), each atomically, mode 0644.
func copyPublic(dir, pub string) error {
	if pub == "" {
		return nil
	}
	if err := os.MkdirAll(pub, 0o755); err != nil {
		return err
	}
	for _, f := range publicFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(pub, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func progressOut(quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return os.Stderr
}

// setup writes a deployment into dir: the CRS, its digest, the owner's
// store with fresh keys and the state of epoch 0, the owner's public keys,
// and optionally a development TLS PKI.
func setup(ctx context.Context, dir string, n int, withTLS, force bool, progress io.Writer) error {
	return setupFrom(ctx, dir, n, "", withTLS, force, progress)
}

// setupFrom is setup with the CRS taken from a verified ceremony transcript
// when crsPath is not empty (n, if not 0, must then match its capacity),
// and the owner created with opts (its signer).
func setupFrom(ctx context.Context, dir string, n int, crsPath string, withTLS, force bool, progress io.Writer, opts ...roles.OwnerOption) error {
	var crs *commitment.CRS
	if crsPath != "" {
		// Verify before touching the directory.
		start := time.Now()
		fmt.Fprintf(progress, "verifying the CRS transcript %s\n", crsPath)
		tr, err := loadTranscriptFile(crsPath)
		if err != nil {
			return fmt.Errorf("CRS transcript %s: %w", crsPath, err)
		}
		if n != 0 && n != tr.CRS().N() {
			return fmt.Errorf("CRS transcript %s is for n = %d, not -n %d", crsPath, tr.CRS().N(), n)
		}
		printTranscript(progress, tr)
		fmt.Fprintf(progress, "transcript verified (%s)\n", time.Since(start).Round(time.Millisecond))
		crs = tr.CRS()
	}
	if _, err := os.Stat(filepath.Join(dir, crsFile)); err == nil && !force {
		return fmt.Errorf("%s already holds a set-up (use -force to replace it)", dir)
	}
	if force {
		for _, p := range []string{crsFile, digestFile, ownerKeysFile, ownerDB, storageDB, ownerTokenFile} {
			_ = os.Remove(filepath.Join(dir, p))
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "owner"), filepath.Join(dir, "storage")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	start := time.Now()
	if crs == nil {
		var err error
		if crs, err = generateCRS(n, progress); err != nil {
			return err
		}
	}
	file, err := crs.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, crsFile), file, 0o644); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, digestFile), []byte(crs.Digest().String()+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(progress, "CRS: %d bytes, digest %s (%s)\n", len(file), crs.Digest(), time.Since(start).Round(time.Millisecond))

	st, err := bolt.Open(filepath.Join(dir, ownerDB))
	if err != nil {
		return err
	}
	defer st.Close()
	// The owner needs no storage server to create its keys and first state.
	o, err := roles.NewDataOwner(ctx, crs, st, offline{}, opts...)
	if err != nil {
		return err
	}
	keys := o.Keys()
	b, err := codec.Default().Marshal(&keys)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, ownerKeysFile), b, 0o644); err != nil {
		return err
	}
	where := "secrets in " + filepath.Join(dir, ownerDB) + ", mode 0600"
	if len(opts) > 0 {
		where = "the signing key stays in the signer; the accumulator secret in " + filepath.Join(dir, ownerDB) + ", mode 0600"
	}
	fmt.Fprintf(progress, "owner keys: id %s, signing key %s (%s)\n", keys.ID().String()[:16], keys.Signing[0].ID, where)
	if err := writeToken(filepath.Join(dir, ownerTokenFile)); err != nil {
		return err
	}
	fmt.Fprintf(progress, "owner token: %s (mode 0600; clients of the owner's mutations present it, vds token rotate replaces it)\n", filepath.Join(dir, ownerTokenFile))
	if withTLS {
		// The shared certificates of a PKI from before roles go: the new
		// CA did not sign them.
		for _, p := range []string{"server.pem", "server-key.pem", "client.pem", "client-key.pem"} {
			_ = os.Remove(filepath.Join(dir, tlsSubdir, p))
		}
		f, err := devpki.Write(filepath.Join(dir, tlsSubdir))
		if err != nil {
			return err
		}
		fmt.Fprintf(progress, "TLS: CA %s, one certificate per role (owner, storage, verifier, admin) in %s\n", f.CA, filepath.Dir(f.CA))
	}
	return nil
}

// offline is a storage client for an owner that is not connected yet.
type offline struct{}

var errOffline = fmt.Errorf("owner is offline: %w", roles.ErrUnavailable)

func (offline) StoreBatch(context.Context, *roles.StoreBatchRequest) error   { return errOffline }
func (offline) ApplyState(context.Context, *roles.SignedState) error         { return errOffline }
func (offline) UpdateBatch(context.Context, *roles.UpdateBatchRequest) error { return errOffline }
func (offline) LatestState(context.Context) (*roles.SignedState, error)      { return nil, errOffline }

// bar draws a progress bar on w.
type bar struct {
	w     io.Writer
	label string
	last  time.Time
	drawn bool
}

func newBar(w io.Writer, label string) *bar { return &bar{w: w, label: label} }

func (b *bar) update(done, total int) {
	if time.Since(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = time.Now()
	const width = 40
	fill := width * done / max(total, 1)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3d%% %d/%d points", b.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*done/max(total, 1), done, total)
	b.drawn = true
}

func (b *bar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
