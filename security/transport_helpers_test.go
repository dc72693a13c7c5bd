// Helpers of the transport findings (1, 4, 5: content type).

package security

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// trN is the batch capacity of the in-process systems of the suite.
const trN = 8

func trCRS(t testing.TB) *commitment.CRS { return testkit.CRS(t, trN) }

// trDeployment is an owner, its storage server and a verifier in this process
// (the owner reaches the storage server in-process); tests serve their
// services over the transport they examine.
type trDeployment struct {
	owner    *roles.DataOwner
	storage  *roles.StorageServer
	verifier *roles.Verifier
}

type trLate struct{ transport.Transport }

func newTrDeployment(t *testing.T) *trDeployment {
	t.Helper()
	ctx := context.Background()
	late := &trLate{}
	o, err := roles.NewDataOwner(ctx, trCRS(t), memory.NewOwnerStore(), transport.StorageClient{T: late})
	require.NoError(t, err)
	srv, err := roles.NewStorageServer(trCRS(t), o.Keys(), memory.NewServerStore())
	require.NoError(t, err)
	late.Transport = transport.NewInProc([]*transport.Service{transport.StorageService(srv)})
	require.NoError(t, o.Sync(ctx))
	v, err := roles.NewVerifier(trCRS(t).VerifierKey(), o.Keys(), roles.WithTrustedSource(o))
	require.NoError(t, err)
	return &trDeployment{owner: o, storage: srv, verifier: v}
}

// trServeHTTP serves the services on 127.0.0.1 until the test ends and
// returns the address.
func trServeHTTP(t *testing.T, services []*transport.Service, opts ...transport.Option) string {
	t.Helper()
	ls, err := transport.ListenHTTP("127.0.0.1:0", transport.NewHTTPHandler(services, opts...), opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ls.Serve(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return ls.Addr()
}

// trServeUnix serves the services on a Unix socket until the test ends and
// returns the "unix://" address.
func trServeUnix(t *testing.T, services []*transport.Service, opts ...transport.Option) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sock")
	ls, err := transport.ListenUnix(path, services, opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ls.Serve(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return "unix://" + path
}

// trDial returns a client transport, closed when the test ends.
func trDial(t *testing.T, addr string, opts ...transport.Option) transport.Transport {
	t.Helper()
	c, err := transport.Dial(addr, append([]transport.Option{transport.WithRetries(0, 0)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// trLogBuffer is a concurrency-safe log sink.
type trLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *trLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *trLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTrLogger() (*slog.Logger, *trLogBuffer) {
	b := &trLogBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// trBatch is a batch of rows rows in one column.
func trBatch(stream string, rows int) *transport.NewBatch {
	b := &transport.NewBatch{Stream: stream}
	c := transport.ColumnValues{Name: "v"}
	for i := range rows {
		b.Timestamps = append(b.Timestamps, uint64(100+10*i))
		c.Values = append(c.Values, int64(i))
	}
	b.Columns = []transport.ColumnValues{c}
	return b
}
