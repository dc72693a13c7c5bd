package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// capacity is the batch capacity n of every system of the suite.
const capacity = 16

// The transports the suite runs over.
const (
	kindInProc = "inproc"
	kindHTTP   = "http"
	kindUnix   = "unix"
)

var kinds = []string{kindInProc, kindHTTP, kindUnix}

// system is a data owner, a storage server and a verifier, reached through
// one transport, and what a test needs to know about them.
type system struct {
	kind string
	crs  *commitment.CRS // the deployment's CRS (the test forges with its prover key)
	keys roles.OwnerKeys

	owner    transport.OwnerClient
	storage  transport.StorageClient
	verifier transport.VerifierClient

	// restartStorage stops the storage server and starts it again on the
	// same address and data; it returns once the server is healthy.
	restartStorage func(t *testing.T)
	// restartAll stops the three servers and starts them again, in the
	// order of `vds start` (storage, verifier, owner), on the same
	// addresses and data. The verifier keeps no state across a restart.
	restartAll func(t *testing.T)
	// stop stops every server (idempotent); clean-up calls it too.
	stop func()
	// Process systems only: stop and start the storage server separately.
	stopStorage, startStorage func(t *testing.T)

	// Process systems only.
	dir    string            // data directory written by vds setup
	addrs  map[string]string // role → address as given to the servers
	tlsDir string            // set for mutual TLS
}

// sysOptions configure newSystem.
type sysOptions struct {
	tls bool // mutual TLS (HTTP only)
}

func newSystem(t *testing.T, kind string, o sysOptions) *system {
	t.Helper()
	switch kind {
	case kindInProc:
		require.False(t, o.tls, "no TLS in-process")
		return newInProcSystem(t)
	case kindHTTP, kindUnix:
		return newProcessSystem(t, kind, o)
	}
	t.Fatalf("unknown transport %q", kind)
	return nil
}

// ---- in-process ----

func sharedCRS(t testing.TB) *commitment.CRS { return testkit.CRS(t, capacity) }

// swapTransport is the in-process way to reach a storage server that can be
// restarted: calls hold a read lock, a restart the write lock, so no call is
// in flight while the store is closed and reopened.
type swapTransport struct {
	mu    sync.RWMutex
	t     transport.Transport
	store *bolt.Store
}

func (s *swapTransport) Call(ctx context.Context, service, method string, req, resp any) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.t == nil {
		return fmt.Errorf("e2e: storage server is down: %w", roles.ErrUnavailable)
	}
	return s.t.Call(ctx, service, method, req, resp)
}

func (s *swapTransport) Close() error { return nil }

// open (re)opens the store file and builds a storage server on it. The
// caller holds s.mu.
func (s *swapTransport) open(crs *commitment.CRS, keys roles.OwnerKeys, path string) error {
	st, err := bolt.Open(path)
	if err != nil {
		return err
	}
	srv, err := roles.NewStorageServer(crs, keys, st)
	if err != nil {
		st.Close()
		return err
	}
	s.t, s.store = transport.NewInProc([]*transport.Service{transport.StorageService(srv)}), st
	return nil
}

func (s *swapTransport) close() error {
	s.t = nil
	if s.store == nil {
		return nil
	}
	err := s.store.Close()
	s.store = nil
	return err
}

// newInProcSystem builds the three roles in this process, each behind an
// in-process transport that encodes and decodes every call: the owner with a
// memory store, the storage server on a bbolt file, the verifier anchored
// at the owner and catching up from the storage server.
func newInProcSystem(t *testing.T) *system {
	ctx := context.Background()
	crs := sharedCRS(t)
	file, err := crs.MarshalBinary()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "storage.db")
	sw := &swapTransport{}
	o, err := roles.NewDataOwner(ctx, crs, memory.NewOwnerStore(), transport.StorageClient{T: sw})
	require.NoError(t, err)
	keys := o.Keys()
	sw.mu.Lock()
	err = sw.open(crs, keys, path)
	sw.mu.Unlock()
	require.NoError(t, err)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sw.mu.Lock()
			defer sw.mu.Unlock()
			if err := sw.close(); err != nil {
				t.Errorf("close storage store: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	require.NoError(t, o.Sync(ctx))
	// The verifier as cmd/vds builds it: anchored by the owner, catching up
	// from the storage server, receiving the owner's new states.
	newVerifier := func(t *testing.T) transport.VerifierClient {
		v, err := roles.NewVerifier(crs.VerifierKey(), keys, roles.WithTrustedSource(o), roles.WithStateSource(transport.StorageClient{T: sw}))
		require.NoError(t, err)
		o.Subscribe(v, roles.DeliverInline())
		return transport.VerifierClient{T: transport.NewInProc([]*transport.Service{transport.VerifierService(v)})}
	}
	s := &system{
		kind: kindInProc, crs: crs, keys: keys,
		owner:    transport.OwnerClient{T: transport.NewInProc([]*transport.Service{transport.OwnerService(o, file)})},
		storage:  transport.StorageClient{T: sw},
		verifier: newVerifier(t),
		restartStorage: func(t *testing.T) {
			sw.mu.Lock()
			defer sw.mu.Unlock()
			require.NoError(t, sw.close())
			require.NoError(t, sw.open(crs, keys, path))
		},
		stop: stop,
	}
	// In-process, the owner's store lives in memory and survives; the
	// storage server reopens its file and the verifier starts afresh.
	s.restartAll = func(t *testing.T) {
		s.restartStorage(t)
		s.verifier = newVerifier(t)
	}
	return s
}

// ---- three OS processes ----

// logBuffer collects a child's output, keeping its first and last part.
type logBuffer struct {
	mu   sync.Mutex
	head bytes.Buffer
	tail []byte
	cut  int
}

const logKeep = 64 << 10

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n0 := len(p)
	if b.head.Len() < logKeep {
		n := min(len(p), logKeep-b.head.Len())
		b.head.Write(p[:n])
		p = p[n:]
	}
	b.tail = append(b.tail, p...)
	if len(b.tail) > 2*logKeep {
		b.cut += len(b.tail) - logKeep
		b.tail = append([]byte(nil), b.tail[len(b.tail)-logKeep:]...)
	}
	return n0, nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.head.String()
	if b.cut > 0 {
		s += fmt.Sprintf("\n[… %d bytes left out …]\n", b.cut)
	}
	return s + string(b.tail)
}

// child is one server process.
type child struct {
	role, service string
	args          []string
	log           *logBuffer
	cmd           *exec.Cmd
	done          chan struct{} // closed when the process has exited and been reaped
	waitErr       error
	stopping      bool // we sent SIGTERM
}

func (c *child) start(bin string) error {
	cmd := exec.Command(bin, c.args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = c.log, c.log
	tieToParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd, c.done, c.stopping = cmd, make(chan struct{}), false
	go func(done chan struct{}) {
		c.waitErr = cmd.Wait()
		close(done)
	}(c.done)
	return nil
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits for a graceful exit, and kills the process if
// it has not exited after the grace period. It reports a process that died
// before it was asked to, failed to stop in time, or exited with an error.
func (c *child) stop() error {
	if c.cmd == nil {
		return nil
	}
	defer func() { c.cmd = nil }()
	if c.exited() {
		return fmt.Errorf("%s exited before it was stopped: %v", c.role, c.waitErr)
	}
	c.stopping = true
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within 15 s of SIGTERM (killed)", c.role)
	}
	if c.waitErr != nil {
		return fmt.Errorf("%s exited with %v after SIGTERM", c.role, c.waitErr)
	}
	return nil
}

// childEnv is this process's environment without the variables that would
// change a server's configuration behind the flags' back. Servers built
// with the race detector exit without its default one-second pause (a race
// still makes them exit with status 66, which stop reports).
func childEnv() []string {
	var env []string
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "VDS_"), strings.HasPrefix(name, "DO_"), strings.HasPrefix(name, "SS_"),
			strings.HasPrefix(name, "VERIFIER_"), name == "VECTOR_DIM":
			continue
		case name == "GORACE":
			gorace = strings.TrimSpace(val + " " + gorace)
			continue
		}
		env = append(env, kv)
	}
	if raceEnabled {
		env = append(env, "GORACE="+gorace)
	}
	return env
}

// freePort returns a TCP address on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) string { return testkit.FreeAddr(t) }

// shortTempDir returns a fresh directory with a short path (Unix socket
// paths are limited to about 100 bytes), removed at the end of the test.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vdse2e")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// vds runs a short vds command and returns its combined output.
func vds(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(needVDS(t), args...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "vds %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// newProcessSystem sets up a data directory with `vds setup` and starts
// `vds storage serve`, `vds verifier serve` and `vds owner serve` as three
// child processes on 127.0.0.1 ports (http) or Unix sockets (unix), in the
// order of `vds start`.
func newProcessSystem(t *testing.T, kind string, o sysOptions) *system {
	t.Helper()
	bin := needVDS(t)
	dir := shortTempDir(t)
	setup := []string{"setup", "-dir", dir, "-n", fmt.Sprint(capacity), "-q"}
	if o.tls {
		require.Equal(t, kindHTTP, kind, "mutual TLS is an HTTP matter")
		setup = append(setup, "-tls")
	}
	vds(t, setup...)

	s := &system{kind: kind, dir: dir, addrs: map[string]string{}}
	if o.tls {
		s.tlsDir = filepath.Join(dir, "tls")
	}
	for _, role := range []string{"owner", "storage", "verifier"} {
		if kind == kindUnix {
			s.addrs[role] = "unix://" + filepath.Join(dir, role+".sock")
		} else {
			s.addrs[role] = freePort(t)
		}
	}
	s.crs, s.keys = loadDeployment(t, dir)

	servers := []struct{ role, service string }{
		{"storage", transport.ServiceStorage},
		{"verifier", transport.ServiceVerifier},
		{"owner", transport.ServiceOwner},
	}
	children := map[string]*child{}
	var order []*child
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			for i := len(order) - 1; i >= 0; i-- {
				if err := order[i].stop(); err != nil {
					t.Errorf("stop: %v", err)
				}
			}
		})
	}
	// Clean-up runs last-in first-out: the logs are printed after the
	// servers have stopped (and written their last lines).
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range order {
				t.Logf("---- %s server (vds %s) output ----\n%s", c.role, strings.Join(c.args, " "), c.log.String())
			}
		}
	})
	t.Cleanup(s.stop)
	for _, r := range servers {
		args := []string{r.role, "serve", "-dir", dir, "-listen", s.addrs[r.role],
			"-owner", s.addrs["owner"], "-storage", s.addrs["storage"], "-verifier", s.addrs["verifier"]}
		if o.tls {
			args = append(args, "-tls-dir", s.tlsDir)
		}
		c := &child{role: r.role, service: r.service, args: args, log: &logBuffer{}}
		require.NoError(t, c.start(bin))
		children[r.role] = c
		order = append(order, c)
		s.waitHealthy(t, c)
	}
	s.owner = transport.OwnerClient{T: s.dial(t, s.addrs["owner"], s.ownerToken(t)...)}
	s.storage = transport.StorageClient{T: s.dial(t, s.addrs["storage"])}
	s.verifier = transport.VerifierClient{T: s.dial(t, s.addrs["verifier"])}
	s.stopStorage = func(t *testing.T) {
		t.Helper()
		c := children["storage"]
		require.NoError(t, c.stop(), "the storage server must stop gracefully")
		fmt.Fprintf(c.log, "\n---- e2e: storage server stopped ----\n")
	}
	s.startStorage = func(t *testing.T) {
		t.Helper()
		c := children["storage"]
		require.NoError(t, c.start(bin))
		s.waitHealthy(t, c)
	}
	s.restartStorage = func(t *testing.T) {
		t.Helper()
		s.stopStorage(t)
		s.startStorage(t)
	}
	s.restartAll = func(t *testing.T) {
		t.Helper()
		for i := len(order) - 1; i >= 0; i-- {
			require.NoError(t, order[i].stop(), "the %s server must stop gracefully", order[i].role)
			fmt.Fprintf(order[i].log, "\n---- e2e: every server restarted ----\n")
		}
		for _, c := range order {
			require.NoError(t, c.start(bin))
			s.waitHealthy(t, c)
		}
	}
	return s
}

// closeClients closes the system's own client transports (they are closed
// at clean-up too; closing twice is harmless).
func (s *system) closeClients() {
	for _, tr := range []transport.Transport{s.owner.T, s.storage.T, s.verifier.T} {
		if tr != nil {
			tr.Close()
		}
	}
}

// loadDeployment reads the CRS (pinned to its recorded digest) and the
// owner's public keys that vds setup wrote.
func loadDeployment(t testing.TB, dir string) (*commitment.CRS, roles.OwnerKeys) {
	crs, keys := testkit.LoadPublic(t, dir)
	require.Equal(t, capacity, crs.N())
	return crs, keys
}

// url is the client address of a server address.
func (s *system) url(addr string) string {
	if strings.HasPrefix(addr, "unix:") {
		return addr
	}
	if s.tlsDir != "" {
		return "https://" + addr
	}
	return "http://" + addr
}

// clientTLS returns the client TLS configuration of the deployment: its CA
// and the admin's certificate (the client of the owner's mutations).
func (s *system) clientTLS(t testing.TB) *tls.Config {
	t.Helper()
	c, err := transport.ClientTLS(filepath.Join(s.tlsDir, "ca.pem"), filepath.Join(s.tlsDir, "admin.pem"), filepath.Join(s.tlsDir, "admin-key.pem"))
	require.NoError(t, err)
	return c
}

// dial returns a client transport to a server of a process system, with
// the deployment's client certificate under mutual TLS; it is closed at the
// end of the test.
func (s *system) dial(t testing.TB, addr string, opts ...transport.Option) transport.Transport {
	t.Helper()
	// A bounded call time, so that a hung server fails the test instead of
	// stalling it; the caller's options come last and win.
	opts = append([]transport.Option{transport.WithTimeout(30 * time.Second)}, opts...)
	if s.tlsDir != "" {
		opts = append([]transport.Option{transport.WithTLS(s.clientTLS(t))}, opts...)
	}
	c, err := transport.Dial(s.url(addr), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// ownerToken returns the client option that presents the owner's bearer
// token, written by vds setup, over HTTP (none on Unix sockets, where the
// socket's mode is the check).
func (s *system) ownerToken(t testing.TB) []transport.Option {
	t.Helper()
	if s.kind != kindHTTP {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "owner.token"))
	require.NoError(t, err)
	return []transport.Option{transport.WithBearerToken(strings.TrimSpace(string(b)))}
}

// waitHealthy polls a server's health method until it answers, failing
// early if the process exits.
func (s *system) waitHealthy(t testing.TB, c *child) {
	t.Helper()
	var opts []transport.Option
	if s.tlsDir != "" {
		opts = append(opts, transport.WithTLS(s.clientTLS(t)))
	}
	opts = append(opts, transport.WithRetries(0, 0), transport.WithTimeout(2*time.Second))
	cl, err := transport.Dial(s.url(s.addrs[c.role]), opts...)
	require.NoError(t, err)
	defer cl.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h transport.Health
		err := cl.Call(context.Background(), c.service, "health", &transport.Empty{}, &h)
		if err == nil {
			require.Equal(t, c.service, h.Service)
			return
		}
		if c.exited() {
			t.Fatalf("%s server exited while starting (%v):\n%s", c.role, c.waitErr, c.log.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s server not healthy after 30 s: %v\n%s", c.role, err, c.log.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// errorsIsAny reports whether err matches one of the targets.
func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
