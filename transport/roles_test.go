package transport_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/internal/testkit"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// recLink is the owner's link to its storage server A, recording every
// push (as a call that replays it on another server) while rec is set.
type recLink struct {
	a   *roles.StorageServer
	mu  sync.Mutex
	ops []func(roles.StorageClient) error
	// last request of each kind, for the matrix's pushes
	sb *roles.StoreBatchRequest
	st *roles.SignedState
	ub *roles.UpdateBatchRequest
}

func (l *recLink) add(op func(roles.StorageClient) error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
}

func (l *recLink) StoreBatch(ctx context.Context, r *roles.StoreBatchRequest) error {
	l.add(func(c roles.StorageClient) error { return c.StoreBatch(ctx, r) })
	l.sb = r
	return l.a.StoreBatch(ctx, r)
}

func (l *recLink) ApplyState(ctx context.Context, st *roles.SignedState) error {
	l.add(func(c roles.StorageClient) error { return c.ApplyState(ctx, st) })
	l.st = st
	return l.a.ApplyState(ctx, st)
}

func (l *recLink) UpdateBatch(ctx context.Context, r *roles.UpdateBatchRequest) error {
	l.add(func(c roles.StorageClient) error { return c.UpdateBatch(ctx, r) })
	l.ub = r
	return l.a.UpdateBatch(ctx, r)
}

func (l *recLink) LatestState(ctx context.Context) (*roles.SignedState, error) {
	return l.a.LatestState(ctx)
}

// replay applies the recorded pushes to c and forgets them.
func (l *recLink) replay(t *testing.T, c roles.StorageClient) {
	t.Helper()
	l.mu.Lock()
	ops := l.ops
	l.ops = nil
	l.mu.Unlock()
	for _, op := range ops {
		require.NoError(t, op(c))
	}
}

// matrixWorld is an owner O (pushing to its storage server A, in process),
// a storage server B and a verifier V, all three served by one HTTP
// handler, with a valid request ready for every restricted method: one
// that changes the state when an allowed caller sends it.
type matrixWorld struct {
	o       *roles.DataOwner
	ostore  *memory.OwnerStore
	a, b    *roles.StorageServer
	v       *roles.Verifier
	svcs    []*transport.Service
	reqs    map[string]any // "service/method" → request
	queried roles.BatchID
}

func mbatch(stream string, rows int, base int64) *roles.Batch {
	b := batch(rows)
	b.Stream = stream
	for i := range b.Columns[0].Values {
		b.Columns[0].Values[i] += base
	}
	return b
}

func newMatrixWorld(t *testing.T) *matrixWorld {
	ctx := context.Background()
	crs := testCRS(t)
	w := &matrixWorld{}
	link := &recLink{}
	var err error
	w.ostore = memory.NewOwnerStore()
	w.o, err = roles.NewDataOwner(ctx, crs, w.ostore, link)
	require.NoError(t, err)
	w.a, err = roles.NewStorageServer(crs, w.o.Keys(), memory.NewServerStore(), roles.WithoutPrecompute())
	require.NoError(t, err)
	link.a = w.a
	require.NoError(t, w.o.Sync(ctx))
	w.b, err = roles.NewStorageServer(crs, w.o.Keys(), memory.NewServerStore(), roles.WithoutPrecompute())
	require.NoError(t, err)

	id := func(sh *roles.SignedHeader) roles.BatchID {
		d, err := sh.Header.Digest()
		require.NoError(t, err)
		return d
	}
	mk := func(stream string) roles.BatchID {
		sh, err := w.o.CreateBatch(ctx, mbatch(stream, 8, 0))
		require.NoError(t, err)
		return id(sh)
	}
	w.queried = mk("q")
	revokeByAdmin, updateByAdmin, checkByAdmin := mk("ra"), mk("ua"), mk("ca")
	revokeByOwner, updateByOwner := mk("ro"), mk("uo")
	link.replay(t, w.b) // B holds what A holds
	w.v, err = roles.NewVerifier(crs.VerifierKey(), w.o.Keys(), roles.WithTrustedSource(w.o))
	require.NoError(t, err)
	require.NoError(t, w.v.Sync(ctx))

	// The owner's pushes B and V have not had yet, in an order B can apply.
	_, err = w.o.CreateBatch(ctx, mbatch("p", 8, 1))
	require.NoError(t, err)
	sb := link.sb
	_, err = w.o.Revoke(ctx, revokeByOwner)
	require.NoError(t, err)
	st := link.st
	_, _, err = w.o.Update(ctx, updateByOwner, mbatch("uo", 8, 5))
	require.NoError(t, err)
	ub := link.ub
	link.ops = nil // A has them; B gets them through the matrix

	// Real answers, so that every verification reaches the verifier.
	answer := func(q *roles.Query) *transport.VerifyRequest {
		ans, err := w.b.Answer(ctx, q)
		require.NoError(t, err)
		return &transport.VerifyRequest{Query: *q, Answer: *ans}
	}
	rangeQ := &roles.Query{Batch: w.queried, Kind: roles.QueryRange, Columns: []string{"v"}, From: 1, To: 8}
	auditQ := &roles.Query{Batch: w.queried, Kind: roles.QueryAudit, Columns: []string{"v"}, Nonce: []byte("n")}
	windowQ := &roles.Query{Batch: w.queried, Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 100, TimeTo: 150}
	streamQ := &roles.StreamQuery{Stream: "q", Kind: roles.QueryWindow, Columns: []string{"v"}, TimeFrom: 100, TimeTo: 150}
	sans, err := w.b.AnswerStream(ctx, streamQ)
	require.NoError(t, err)
	dc := answer(rangeQ)

	w.svcs = []*transport.Service{transport.OwnerService(w.o, []byte("crs")), transport.StorageService(w.b), transport.VerifierService(w.v)}
	w.reqs = map[string]any{
		"owner/create_batch": transport.FromBatch(mbatch("new", 8, 2)),
		"owner/revoke_batch": &transport.BatchRef{Batch: revokeByAdmin},
		"owner/update_batch": &transport.UpdateRequest{Batch: updateByAdmin, New: *transport.FromBatch(mbatch("ua", 8, 3))},
		"owner/check_update": &transport.UpdateRequest{Batch: checkByAdmin, New: *transport.FromBatch(mbatch("ca", 8, 4))},
		"owner/refresh":      &transport.Empty{},
		"owner/append_rows": &transport.AppendRequest{Stream: "live", Columns: []roles.ColumnInfo{{Name: "v"}},
			Rows: []roles.Row{{Time: 1, Values: []int64{5}}, {Time: 2, Values: []int64{6}}}},
		"owner/rotate_key":              &transport.Empty{},
		"storage/store_batch":           sb,
		"storage/add_revoked_item":      st,
		"storage/update_batch":          ub,
		"verifier/update_global_pk":     st,
		"storage/generate_dc_proof":     rangeQ,
		"storage/generate_da_proof":     auditQ,
		"storage/generate_time_proofs":  windowQ,
		"storage/generate_stream_proof": streamQ,
		"verifier/verify_dc_query":      dc,
		"verifier/verify_da_audit":      answer(auditQ),
		"verifier/verify_time_proofs":   answer(windowQ),
		"verifier/verify_stream":        &transport.VerifyStreamRequest{Query: *streamQ, Answer: *sans},
		"verifier/verify_many":          &transport.VerifyManyRequest{Items: []transport.VerifyRequest{*dc}},
		"storage/get_header":            &transport.BatchRef{Batch: w.queried},
		"storage/get_states":            &transport.EpochRange{From: 0, To: 0},
		"owner/get_states":              &transport.EpochRange{From: 0, To: 0},
	}
	return w
}

// snapshot is what a refused call must leave unchanged.
func (w *matrixWorld) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ost, err := w.o.LatestState(ctx)
	require.NoError(t, err)
	bst, err := w.b.LatestState(ctx)
	require.NoError(t, err)
	al, err := w.a.ListBatches(ctx, "")
	require.NoError(t, err)
	bl, err := w.b.ListBatches(ctx, "")
	require.NoError(t, err)
	vst := w.v.State()
	rows, err := w.ostore.PendingRows(ctx, "live")
	require.NoError(t, err)
	return fmt.Sprintf("owner %d@%d, A %v, B %d@%d %v, verifier %d@%d, pending rows %v", ost.State.Epoch, ost.IssuedAt, al,
		bst.State.Epoch, bst.IssuedAt, bl, vst.State.Epoch, vst.IssuedAt, rows)
}

// request returns the request of a method: a prepared one, or the
// method's zero request.
func (w *matrixWorld) request(svc *transport.Service, name string) any {
	if r, ok := w.reqs[svc.Name+"/"+name]; ok {
		return r
	}
	m, _ := svc.Method(name)
	return m.NewRequest()
}

// identity is a caller of the matrix.
type identity struct {
	name  string
	tls   *tls.Config // nil: plain HTTP
	token string
	role  transport.Role // what the server should read ("" for none)
}

// matrixPKI is the development PKI of a deployment plus the odd
// certificates the servers must not take for a role.
type matrixPKI struct {
	files devpki.Files
	ids   []identity // certificates of the deployment's CA
	alien []identity // refused at the handshake by a server requiring client certificates
}

func newMatrixPKI(t *testing.T) *matrixPKI {
	dir := t.TempDir()
	ca, err := devpki.NewCA()
	require.NoError(t, err)
	f, err := ca.WriteRoles(dir)
	require.NoError(t, err)
	p := &matrixPKI{files: f}
	client := func(cert, key string) *tls.Config {
		c, err := transport.ClientTLS(f.CA, cert, key)
		require.NoError(t, err)
		return c
	}
	for _, r := range transport.Roles {
		p.ids = append(p.ids, identity{name: string(r), tls: client(f.Certs[string(r)], f.Keys[string(r)]), role: r})
	}
	odd := map[string][]*url.URL{
		"no role (old dev PKI)": nil,
		"two roles":             {devpki.RoleURI("admin"), devpki.RoleURI("owner")},
		"unknown role":          {devpki.RoleURI("root")},
		"other URI only":        {{Scheme: "spiffe", Host: "vds", Path: "/admin"}},
	}
	for name, uris := range odd {
		c, k := filepath.Join(dir, "odd.pem"), filepath.Join(dir, "odd-key.pem")
		require.NoError(t, ca.Issue(c, k, "vds admin", false, nil, uris...))
		p.ids = append(p.ids, identity{name: name, tls: client(c, k)})
	}
	foreign, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	p.alien = []identity{
		{name: "no certificate", tls: client("", "")},
		{name: "admin certificate of another CA", tls: client(foreign.Certs["admin"], foreign.Keys["admin"])},
	}
	return p
}

// countRequests counts the requests that reach the handler.
func countRequests(h http.Handler, n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// runMatrix calls every method of every service as every identity, the
// refused ones before the allowed ones, and checks: a refused call fails
// with ErrUnauthorized and changes nothing; an allowed call is not
// refused, and an allowed restricted call that mutates changes the state
// (so that the unchanged state after a refused one means something).
func runMatrix(t *testing.T, w *matrixWorld, base string, ids []identity, allowed func(id identity, a transport.Access) bool) {
	ctx := context.Background()
	clients := map[string]*transport.HTTPClient{}
	for _, id := range ids {
		opts := []transport.Option{transport.WithRetries(0, 0)}
		if id.tls != nil {
			opts = append(opts, transport.WithTLS(id.tls))
		}
		if id.token != "" {
			opts = append(opts, transport.WithBearerToken(id.token))
		}
		c, err := transport.NewHTTPClient(base, opts...)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		clients[id.name] = c
	}
	readOnly := map[string]bool{"owner/check_update": true}
	var nAllowed, nRefused int
	defer func() { t.Logf("%d calls: %d allowed, %d refused", nAllowed+nRefused, nAllowed, nRefused) }()
	for _, svc := range w.svcs {
		for _, name := range svc.Methods() {
			key := svc.Name + "/" + name
			a := transport.MethodAccess(svc.Name, name)
			var yes, no []identity
			for _, id := range ids {
				if allowed(id, a) {
					yes = append(yes, id)
				} else {
					no = append(no, id)
				}
			}
			nAllowed, nRefused = nAllowed+len(yes), nRefused+len(no)
			for _, id := range no {
				before := w.snapshot(t)
				err := clients[id.name].Call(ctx, svc.Name, name, w.request(svc, name), new(cbor.RawMessage))
				require.ErrorIs(t, err, errs.ErrUnauthorized, "%s as %s", key, id.name)
				require.Equal(t, before, w.snapshot(t), "%s as %s changed the state", key, id.name)
			}
			for i, id := range yes {
				before := w.snapshot(t)
				err := clients[id.name].Call(ctx, svc.Name, name, w.request(svc, name), new(cbor.RawMessage))
				require.NotErrorIs(t, err, errs.ErrUnauthorized, "%s as %s", key, id.name)
				require.False(t, err != nil && strings.Contains(err.Error(), "encode"), "%s: the request did not reach the server: %v", key, err)
				if a != transport.AccessPublic && !readOnly[key] && i == 0 {
					require.NoError(t, err, "%s as %s", key, id.name)
					require.NotEqual(t, before, w.snapshot(t), "%s as %s changed nothing: the matrix's request is not effective", key, id.name)
				}
			}
		}
	}
}

// byRole is the policy of a server that verifies client certificates:
// a public method for everyone, a restricted one for its role only.
func byRole(id identity, a transport.Access) bool {
	if a == transport.AccessPublic {
		return true
	}
	return id.role != "" && id.role == a.Roles()[0]
}

func serveMatrix(t *testing.T, w *matrixWorld, n *atomic.Int64, opts ...transport.Option) string {
	t.Helper()
	opts = append(opts, transport.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	ls, err := transport.ListenHTTP("127.0.0.1:0", countRequests(transport.NewHTTPHandler(w.svcs, opts...), n), opts...)
	require.NoError(t, err)
	return testkit.Serve(t, ls)
}

// TestRoleMatrix checks every method of the owner, storage and verifier
// services against the certificate of every role, certificates that name
// no role, several or an unknown one, no certificate and a certificate of
// another CA, over HTTPS on 127.0.0.1 with the mutual TLS of -tls-dir: only
// the admin may call the owner's mutations, only the owner may push to
// storage servers and verifiers, and a refused call changes nothing.
func TestRoleMatrix(t *testing.T) {
	p := newMatrixPKI(t)
	w := newMatrixWorld(t)
	stc, err := transport.ServerTLS(p.files.Certs["owner"], p.files.Keys["owner"], p.files.CA)
	require.NoError(t, err)
	var n atomic.Int64
	addr := serveMatrix(t, w, &n, transport.WithTLS(stc))
	runMatrix(t, w, "https://"+addr, p.ids, byRole)

	// Without a certificate of the deployment's CA, the handshake fails:
	// no request reaches the handler, nothing changes.
	ctx := context.Background()
	calls := 0
	defer func() { t.Logf("%d calls refused at the handshake", calls) }()
	for _, id := range p.alien {
		c, err := transport.NewHTTPClient("https://"+addr, transport.WithTLS(id.tls), transport.WithRetries(0, 0))
		require.NoError(t, err)
		for _, svc := range w.svcs {
			for _, name := range svc.Methods() {
				calls++
				before, seen := w.snapshot(t), n.Load()
				err := c.Call(ctx, svc.Name, name, w.request(svc, name), new(cbor.RawMessage))
				require.ErrorIs(t, err, errs.ErrUnavailable, "%s/%s as %s", svc.Name, name, id.name)
				require.Equal(t, seen, n.Load(), "%s/%s as %s reached the handler", svc.Name, name, id.name)
				require.Equal(t, before, w.snapshot(t))
			}
		}
		c.Close()
	}
}

// TestRoleMatrixOptionalClientCert runs the matrix on a server that asks
// for client certificates without requiring them: a caller without one
// may call the public methods only — the owner's pushes too are refused,
// because the server verifies client certificates.
func TestRoleMatrixOptionalClientCert(t *testing.T) {
	p := newMatrixPKI(t)
	w := newMatrixWorld(t)
	stc, err := transport.ServerTLS(p.files.Certs["owner"], p.files.Keys["owner"], p.files.CA)
	require.NoError(t, err)
	stc.ClientAuth = tls.VerifyClientCertIfGiven
	var n atomic.Int64
	addr := serveMatrix(t, w, &n, transport.WithTLS(stc))
	runMatrix(t, w, "https://"+addr, append(p.ids, p.alien[0]), byRole)
}

// TestRoleMatrixBearerToken runs the matrix over plain HTTP with a token
// authorizer (the option without TLS): the admin's methods need the
// token; the owner's pushes stay open to every caller (their input is
// owner-signed; SECURITY.md), as before roles.
func TestRoleMatrixBearerToken(t *testing.T) {
	w := newMatrixWorld(t)
	tok, err := transport.NewToken()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "tok")
	require.NoError(t, os.WriteFile(path, []byte(tok), 0o600))
	auth, err := transport.NewTokenAuthorizer(path)
	require.NoError(t, err)
	var n atomic.Int64
	addr := serveMatrix(t, w, &n, transport.WithAuthorizer(auth))
	ids := []identity{{name: "anyone"}, {name: "wrong token", token: strings.Repeat("x", 43)}, {name: "token holder", token: tok}}
	runMatrix(t, w, "http://"+addr, ids, func(id identity, a transport.Access) bool {
		return a != transport.AccessAdmin || id.token == tok
	})
}

// TestRoleOf checks the reading of a certificate's role.
func TestRoleOf(t *testing.T) {
	u := func(s string) *url.URL {
		v, err := url.Parse(s)
		require.NoError(t, err)
		return v
	}
	for _, c := range []struct {
		uris []*url.URL
		want transport.Role
	}{
		{[]*url.URL{u("vds:role:owner")}, transport.RoleOwner},
		{[]*url.URL{u("VDS:role:admin")}, transport.RoleAdmin},
		{[]*url.URL{u("spiffe://x/y"), u("vds:role:verifier")}, transport.RoleVerifier},
		{nil, ""},
		{[]*url.URL{u("vds:role:")}, ""},
		{[]*url.URL{u("vds:role:Admin")}, ""},
		{[]*url.URL{u("vds:role:admin"), u("vds:role:admin")}, ""},
		{[]*url.URL{u("vds:role:admin"), u("vds:role:storage")}, ""},
		{[]*url.URL{u("vds://role/admin")}, ""},
	} {
		r, err := transport.RoleOf(&x509.Certificate{URIs: c.uris})
		require.Equal(t, c.want, r, "%v", c.uris)
		if c.want == "" {
			require.ErrorIs(t, err, errs.ErrUnauthorized, "%v", c.uris)
		} else {
			require.NoError(t, err)
		}
	}
	// The development PKI names each role once, in the form RoleOf reads.
	require.Equal(t, transport.RoleURIPrefix, devpki.RoleURIPrefix)
	f, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	for _, r := range transport.Roles {
		b, err := os.ReadFile(f.Certs[string(r)])
		require.NoError(t, err)
		blk, _ := pem.Decode(b)
		require.NotNil(t, blk)
		cert, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		got, err := transport.RoleOf(cert)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
}

// FuzzRoleOf checks that any set of URI SANs yields a known role or an
// ErrUnauthorized error, never a panic or an unknown role.
func FuzzRoleOf(f *testing.F) {
	f.Add("vds:role:owner", "")
	f.Add("vds:role:admin", "vds:role:admin")
	f.Add("vds:role:\x00", "vds:ROLE:owner")
	f.Fuzz(func(t *testing.T, a, b string) {
		var uris []*url.URL
		for _, s := range []string{a, b} {
			if v, err := url.Parse(s); err == nil && s != "" {
				uris = append(uris, v)
			}
		}
		r, err := transport.RoleOf(&x509.Certificate{URIs: uris})
		if err != nil {
			if !errors.Is(err, errs.ErrUnauthorized) || r != "" {
				t.Fatalf("RoleOf(%v) = %q, %v", uris, r, err)
			}
			return
		}
		found := false
		for _, k := range transport.Roles {
			found = found || k == r
		}
		if !found {
			t.Fatalf("RoleOf(%v) = unknown role %q", uris, r)
		}
	})
}
