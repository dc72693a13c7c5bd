package transport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vdsproject/vds/internal/errs"
)

// errUnauthorized is vds.ErrUnauthorized.
var errUnauthorized = errs.ErrUnauthorized

// Transport names of a Peer.
const (
	PeerInProc = "inproc"
	PeerUnix   = "unix"
	PeerHTTP   = "http"
	PeerHTTPS  = "https"
)

// Peer describes the caller of a method as the transport knows it. Its
// bearer token, if any, is held unexported: a Peer logs (LogValue) and
// prints (String) without it.
type Peer struct {
	// Transport is PeerInProc, PeerUnix, PeerHTTP or PeerHTTPS.
	Transport string
	// Addr is the remote address ("" in-process and on Unix sockets).
	Addr string
	// CertSubject is the subject of the client certificate the TLS
	// handshake verified against the server's client CAs ("" without one).
	CertSubject string
	// Role is the role that certificate names (RoleOf), taken from the
	// verified chain only; "" without a verified certificate or when the
	// certificate names no role, several, or an unknown one (RoleError
	// says which).
	Role Role
	// MutualTLS reports whether the server verifies client certificates
	// (its TLS configuration, given to the handler with WithTLS, asks for
	// them): a caller without one is then refused the owner's pushes.
	MutualTLS bool
	// TokenPresented reports whether the caller sent a bearer token.
	TokenPresented bool

	token   string
	roleErr error
}

// RoleError returns why a verified client certificate has no Role (nil
// with a role, or without a certificate).
func (p *Peer) RoleError() error { return p.roleErr }

// BearerToken returns the bearer token the caller sent, if any. Compare it
// in constant time and never log it.
func (p *Peer) BearerToken() (string, bool) { return p.token, p.TokenPresented }

// String describes the peer without its token.
func (p *Peer) String() string {
	s := p.Transport
	if p.Addr != "" {
		s += " " + p.Addr
	}
	if p.CertSubject != "" {
		s += " cert=" + p.CertSubject
	}
	if p.Role != "" {
		s += " role=" + string(p.Role)
	}
	if p.TokenPresented {
		s += " token=presented"
	}
	return s
}

// LogValue implements slog.LogValuer: the peer's fields without its token.
func (p *Peer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("transport", p.Transport), slog.String("addr", p.Addr),
		slog.String("cert", p.CertSubject), slog.String("role", string(p.Role)), slog.Bool("token_presented", p.TokenPresented))
}

// httpPeer describes the caller of an HTTP request; srv is the TLS
// configuration the handler was given (nil if none).
func httpPeer(r *http.Request, srv *tls.Config) *Peer {
	p := &Peer{Transport: PeerHTTP, Addr: r.RemoteAddr}
	if r.TLS != nil {
		p.Transport = PeerHTTPS
		p.MutualTLS = srv != nil && srv.ClientAuth >= tls.VerifyClientCertIfGiven
		if leaf := verifiedLeaf(r.TLS); leaf != nil {
			p.CertSubject = leaf.Subject.String()
			p.Role, p.roleErr = RoleOf(leaf)
		}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, _ := strings.Cut(a, " ")
		if strings.EqualFold(scheme, "Bearer") {
			p.token = strings.TrimSpace(tok)
		}
		// Any Authorization header counts as presented: a refusal says so.
		p.TokenPresented = true
	}
	return p
}

// verifiedLeaf returns the client certificate whose chain the handshake
// verified, or nil.
func verifiedLeaf(cs *tls.ConnectionState) *x509.Certificate {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	return cs.VerifiedChains[0][0]
}

// Authorizer decides whether a peer may call a restricted method (see
// Method.Restricted and MethodAccess). It returns nil to allow the call, or an error
// wrapping vds.ErrUnauthorized whose message says why — and never contains
// a secret: servers log it.
type Authorizer interface {
	Authorize(ctx context.Context, p *Peer, service, method string) error
}

// AuthorizerFunc is an Authorizer as a function.
type AuthorizerFunc func(ctx context.Context, p *Peer, service, method string) error

// Authorize implements Authorizer.
func (f AuthorizerFunc) Authorize(ctx context.Context, p *Peer, service, method string) error {
	return f(ctx, p, service, method)
}

// WithAuthorizer sets the policy a server applies to restricted methods
// (default DefaultAuthorizer).
func WithAuthorizer(a Authorizer) Option { return func(o *options) { o.auth = a } }

// DefaultAuthorizer is the policy of servers given no WithAuthorizer. It
// applies the table of MethodAccess (SECURITY.md, "Roles"):
//   - in-process callers are trusted, and so are Unix-socket callers
//     (the socket's mode 0600 admits only the server's own user);
//   - a caller with a client certificate that the handshake verified may
//     call a method whose Access lists the certificate's Role; a
//     certificate that names no role (a development PKI from before
//     roles), several or an unknown one may call public methods only;
//   - a caller without a verified certificate may call the owner's pushes
//     (AccessOwner, owner-signed input) unless the server verifies client
//     certificates (Peer.MutualTLS), and no AccessAdmin method (see
//     TokenAuthorizer for the bearer token).
//
// Any other call is refused with ErrUnauthorized.
var DefaultAuthorizer Authorizer = AuthorizerFunc(defaultAuthorize)

func defaultAuthorize(_ context.Context, p *Peer, service, method string) error {
	if p.Transport == PeerInProc || p.Transport == PeerUnix {
		return nil
	}
	a := restrictedAccess(service, method)
	if p.CertSubject != "" {
		if p.roleErr != nil {
			return fmt.Errorf("transport: %s/%s is for the %s role: %w", service, method, a, p.roleErr)
		}
		if p.Role == "" {
			return fmt.Errorf("transport: %s/%s is for the %s role, and the client certificate names none: %w", service, method, a, errUnauthorized)
		}
		if slices.Contains(a.Roles(), p.Role) {
			return nil
		}
		return fmt.Errorf("transport: %s/%s is for the %s role, not a certificate of the %s role: %w", service, method, a, p.Role, errUnauthorized)
	}
	if a == AccessOwner && !p.MutualTLS {
		return nil
	}
	return fmt.Errorf("transport: %s/%s needs the %s's credentials (a client certificate of the %s role%s): %w", service, method, a, a, tokenHint(a), errUnauthorized)
}

// tokenHint is how a refusal mentions the bearer token: only the admin
// has one.
func tokenHint(a Access) string {
	if a == AccessAdmin {
		return " or the bearer token"
	}
	return ""
}

// TokenAuthorizer admits callers of the admin's methods (AccessAdmin)
// that present the bearer token held in a file, besides those
// DefaultAuthorizer admits: the token is the admin's credential, whatever
// certificate its holder presents. It admits nobody else to the owner's
// pushes (AccessOwner): storage servers and verifiers have no token.
// Tokens are compared in constant time, as SHA-256 digests of equal length.
// The file is read again at most once a second, so a token rotates
// without a restart: within a second of the new file being in place, the
// old token is refused. Replace the file atomically (write and rename).
type TokenAuthorizer struct {
	path string

	mu      sync.Mutex
	digest  [sha256.Size]byte
	checked time.Time
}

// MinTokenBytes is the shortest token a TokenAuthorizer accepts in its file.
const MinTokenBytes = 16

// NewTokenAuthorizer returns an authorizer for the token in the file at
// path (text; surrounding white space is ignored).
func NewTokenAuthorizer(path string) (*TokenAuthorizer, error) {
	a := &TokenAuthorizer{path: path}
	if err := a.reload(time.Now()); err != nil {
		return nil, err
	}
	return a, nil
}

// reload reads the token file again (it is small: reading it is cheaper
// and surer than trusting modification times, which a rename within the
// same clock tick leaves unchanged). The caller holds a.mu or owns a.
func (a *TokenAuthorizer) reload(now time.Time) error {
	a.checked = now
	b, err := os.ReadFile(a.path)
	if err != nil {
		return fmt.Errorf("transport: token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < MinTokenBytes {
		return fmt.Errorf("transport: token file %s holds %d bytes, want at least %d: %w", a.path, len(tok), MinTokenBytes, errs.ErrInvalidInput)
	}
	a.digest = sha256.Sum256([]byte(tok))
	return nil
}

// Authorize implements Authorizer.
func (a *TokenAuthorizer) Authorize(ctx context.Context, p *Peer, service, method string) error {
	derr := defaultAuthorize(ctx, p, service, method)
	if derr == nil || restrictedAccess(service, method) != AccessAdmin {
		return derr
	}
	tok, ok := p.BearerToken()
	if !ok || tok == "" {
		return fmt.Errorf("transport: %s/%s: no bearer token (%w)", service, method, derr)
	}
	a.mu.Lock()
	if now := time.Now(); now.Sub(a.checked) >= time.Second {
		// A failed reload keeps the last good token (a rotation in
		// progress must not lock the operator out).
		_ = a.reload(now)
	}
	want := a.digest
	a.mu.Unlock()
	got := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("transport: %s/%s: wrong bearer token: %w", service, method, errUnauthorized)
	}
	return nil
}

// NewToken returns a fresh bearer token: 32 random bytes in unpadded
// URL-safe base64 (43 characters).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// WithBearerToken makes an HTTP client send "Authorization: Bearer tok"
// with every call. Give it only to the client of the owner: any server it
// calls learns the token. The Unix and in-process transports ignore it.
func WithBearerToken(tok string) Option { return func(o *options) { o.token = tok } }

// authorize applies the server's policy to a call of m and logs a refusal
// (at WARN: the peer, the method, the reason — never a token).
func (o *options) authorize(ctx context.Context, p *Peer, service string, m *Method) error {
	if !m.Restricted {
		return nil
	}
	a := o.auth
	if a == nil {
		a = DefaultAuthorizer
	}
	err := a.Authorize(ctx, p, service, m.Name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, errUnauthorized) {
		err = fmt.Errorf("transport: %s/%s: %w: %w", service, m.Name, errUnauthorized, err)
	}
	l := o.http.logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelWarn, "refused", slog.Any("peer", p), slog.String("service", service),
		slog.String("method", m.Name), slog.String("reason", err.Error()))
	return err
}
