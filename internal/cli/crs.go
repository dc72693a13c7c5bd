package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/errs"
)

// RunCRS runs the CRS ceremony commands of SPEC §3.1:
//
//	vds crs init       -n N -out FILE               a starting CRS (trapdoor known to this run)
//	vds crs contribute -in FILE -out FILE -name NAME add a contribution
//	vds crs verify     -in FILE                     check a whole transcript
func RunCRS(ctx context.Context, args []string) error {
	sub := map[string]func(context.Context, []string) error{
		"init":       runCRSInit,
		"contribute": runCRSContribute,
		"verify":     runCRSVerify,
	}
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprintln(os.Stderr, crsUsage)
		return errHelp
	}
	if len(args) == 0 || sub[args[0]] == nil {
		fmt.Fprintln(os.Stderr, crsUsage)
		return errUsage
	}
	return sub[args[0]](ctx, args[1:])
}

const crsUsage = `usage: vds crs init|contribute|verify [flags]

  init       -n N -out FILE                 write a starting CRS (its maker knows its trapdoor: contribute before use)
  contribute -in FILE -out FILE -name NAME  re-randomise a CRS or transcript with a fresh secret, append a record
  verify     -in FILE                       verify a transcript, list its contributors and the final digest
                                            (exit 1 and "REJECTED: …" if any part is invalid)

Then: vds setup -crs FILE uses the transcript's final CRS. Run vds crs <cmd> -h for flags.`

// crsFlags returns a flag set for a crs subcommand.
func crsFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("vds crs "+name, flag.ContinueOnError)
}

// parseCRSFlags parses args and requires the named string flags to be set.
func parseCRSFlags(fs *flag.FlagSet, args []string, required map[string]*string) error {
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	for name, v := range required {
		if *v == "" {
			fmt.Fprintf(os.Stderr, "vds %s: -%s is required\n", fs.Name()[len("vds "):], name)
			return errUsage
		}
	}
	return nil
}

func runCRSInit(_ context.Context, args []string) error {
	fs := crsFlags("init")
	n := capacityFlag(fs)
	out := fs.String("out", "", "file to write the starting CRS to")
	quiet := quietFlag(fs)
	if err := parseCRSFlags(fs, args, map[string]*string{"out": out}); err != nil {
		return err
	}
	progress := progressOut(*quiet)
	start := time.Now()
	crs, err := generateCRS(*n, progress)
	if err != nil {
		return err
	}
	file, err := crs.MarshalBinary()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, file, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(progress, "starting CRS for n = %d (%s): digest %s\n", *n, time.Since(start).Round(time.Millisecond), crs.Digest())
	fmt.Println("wrote", *out, "- its trapdoor was known to this process: have at least one party you trust run vds crs contribute on it")
	return nil
}

func runCRSContribute(_ context.Context, args []string) error {
	fs := crsFlags("contribute")
	in := fs.String("in", "", "CRS file (from vds crs init or vds setup) or transcript to contribute to")
	out := fs.String("out", "", "file to write the extended transcript to (may equal -in)")
	name := fs.String("name", "", "your name as it will appear in the transcript (printable, at most 64 bytes)")
	quiet := quietFlag(fs)
	if err := parseCRSFlags(fs, args, map[string]*string{"in": in, "out": out, "name": name}); err != nil {
		return err
	}
	if err := commitment.CheckContributorName(*name); err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	progress := progressOut(*quiet)
	bar := newBar(progress, "contribution")
	start := time.Now()
	var buf bytes.Buffer
	rc, err := commitment.Contribute(f, &buf, *name, rand.Reader, commitment.WithProgress(bar.update))
	bar.done()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(progress, "contribution computed in %s; your secret is erased\n", time.Since(start).Round(time.Millisecond))
	fmt.Printf("contribution #%d by %q\ncontribution hash: %s\nnew CRS digest:    %s\nwrote %s\n",
		rc.Index, rc.Name, hex.EncodeToString(rc.Hash[:]), rc.Digest, *out)
	fmt.Println("Publish the contribution hash: anyone verifying the transcript sees it next to your name.")
	return nil
}

func runCRSVerify(_ context.Context, args []string) error {
	fs := crsFlags("verify")
	in := fs.String("in", "", "transcript to verify")
	if err := parseCRSFlags(fs, args, map[string]*string{"in": in}); err != nil {
		return err
	}
	tr, err := loadTranscriptFile(*in)
	if err != nil {
		// A transcript that does not verify is a rejected proof: exit 1,
		// "REJECTED: …", like every other verification of the command.
		return fmt.Errorf("invalid transcript: %w: %w", errs.ErrBadProof, err)
	}
	printTranscript(os.Stdout, tr)
	fmt.Println("transcript OK: the final CRS is safe if at least one contributor above was honest")
	return nil
}

// generateCRS runs commitment.Setup with a progress bar on progress.
func generateCRS(n int, progress io.Writer) (*commitment.CRS, error) {
	fmt.Fprintf(progress, "generating a CRS for batches of %d rows\n", n)
	bar := newBar(progress, "CRS")
	defer bar.done()
	return commitment.Setup(n, rand.Reader, commitment.WithProgress(bar.update))
}

// loadTranscriptFile reads and verifies a transcript file.
func loadTranscriptFile(path string) (*commitment.Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return commitment.LoadTranscript(f)
}

// printTranscript lists a verified transcript's contributions.
func printTranscript(w io.Writer, tr *commitment.Transcript) {
	cs := tr.Contributions()
	fmt.Fprintf(w, "transcript: n = %d, %d contribution(s)\ninitial CRS digest: %s\n", tr.CRS().N(), len(cs), tr.InitialDigest())
	for _, c := range cs {
		fmt.Fprintf(w, "  #%d %-24q hash %s\n", c.Index, c.Name, hex.EncodeToString(c.Hash[:]))
	}
	fmt.Fprintf(w, "final CRS digest:   %s\n", tr.CRS().Digest())
}
