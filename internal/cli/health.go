package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vdsproject/vds/internal/errs"
)

// defaultHealthURL is what `vds health` probes without an argument: the
// readiness endpoint of a server run with `-metrics :9090`, as in the
// Dockerfile and compose.yaml.
const defaultHealthURL = "http://127.0.0.1:9090/readyz"

// RunHealth probes a server's health endpoint (`vds health [URL]`): a GET
// that must answer 2xx within the timeout. It exists for container health
// checks in images without curl or a shell. Exit 0 when healthy, 3 when the
// server cannot be reached or answers anything else.
func RunHealth(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vds health", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	quiet := fs.Bool("q", false, "print nothing when healthy")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vds health [-timeout D] [-q] [URL]\n\nGET URL (default %s, env VDS_HEALTH_URL) and exit 0 if it answers 2xx, 3 otherwise.\n\n", defaultHealthURL)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 || *timeout <= 0 {
		fs.Usage()
		return errUsage
	}
	target := env("VDS_HEALTH_URL", defaultHealthURL)
	if fs.NArg() == 1 {
		target = fs.Arg(0)
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(os.Stderr, "vds health: %q is not an http(s) URL\n", target)
		return errUsage
	}
	status, body, err := probe(ctx, target, *timeout)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if !*quiet {
		fmt.Printf("%s: %s %s\n", target, status, body)
	}
	return nil
}

// probe GETs target and returns its status and the first line of its body
// (at most 200 bytes); an answer other than 2xx is an error that wraps
// ErrUnavailable, as is a server that cannot be reached.
func probe(ctx context.Context, target string, timeout time.Duration) (status, body string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	body, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	body = safeText(body)
	if resp.StatusCode/100 != 2 {
		return resp.Status, body, fmt.Errorf("%s %s: %w", resp.Status, body, errs.ErrUnavailable)
	}
	return resp.Status, body, nil
}
