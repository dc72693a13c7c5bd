package transport

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/vdsproject/vds/roles"
)

// ErrSignerFailed: the signer process refused or failed a request; the
// error carries its message. It wraps roles.ErrUnavailable.
var ErrSignerFailed = fmt.Errorf("vds: the signer failed: %w", roles.ErrUnavailable)

// ErrSignerPeer: a signer refused a caller that is not its own user
// (SO_PEERCRED). It wraps roles.ErrInvalidInput.
var ErrSignerPeer = fmt.Errorf("vds: signer: caller refused: %w", roles.ErrInvalidInput)

// signerTimeout bounds one request to a signer process.
const signerTimeout = 10 * time.Second

// SignerClient is a roles.Signer whose Ed25519 key lives in another
// process, a signer server (ServeSigner, `vds signer serve`) on a Unix
// socket: the owner's process never holds the key. Each Sign is one
// connection; the signer's public key is read once, by DialSigner.
type SignerClient struct {
	path string
	pub  ed25519.PublicKey
	id   string
}

var _ roles.Signer = (*SignerClient)(nil)

// DialSigner connects to the signer server on the Unix socket path and
// reads its public key.
func DialSigner(ctx context.Context, path string) (*SignerClient, error) {
	c := &SignerClient{path: path}
	pub, err := c.call(ctx, &signerFrame{code: signerPublic})
	if err != nil {
		return nil, fmt.Errorf("signer %s: %w", path, err)
	}
	c.pub = ed25519.PublicKey(pub)
	c.id = roles.KeyID(c.pub)
	return c, nil
}

// KeyID implements roles.Signer.
func (c *SignerClient) KeyID() string { return c.id }

// Public implements roles.Signer.
func (c *SignerClient) Public() ed25519.PublicKey { return c.pub }

// Sign implements roles.Signer: it asks the signer to sign the 32-byte
// digest msg and checks the signature against the signer's key.
func (c *SignerClient) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if len(msg) != signerDigestSize {
		return nil, fmt.Errorf("signer: a %d-byte message, not a %d-byte digest: %w", len(msg), signerDigestSize, roles.ErrInvalidInput)
	}
	sig, err := c.call(ctx, &signerFrame{code: signerSign, payload: msg})
	if err != nil {
		return nil, fmt.Errorf("signer %s: %w", c.path, err)
	}
	if !ed25519.Verify(c.pub, msg, sig) {
		return nil, fmt.Errorf("signer %s: the signature does not verify: %w", c.path, roles.ErrBadSignature)
	}
	return sig, nil
}

// String names the signer's socket and key.
func (c *SignerClient) String() string { return "SignerClient(" + c.path + ", " + c.id + ")" }

func (c *SignerClient) call(ctx context.Context, req *signerFrame) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, signerTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", roles.ErrUnavailable, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(req.encode()); err != nil {
		return nil, fmt.Errorf("%w: %w", roles.ErrUnavailable, err)
	}
	return decodeSignerResponse(conn, req.code)
}

// ListenSigner listens on the Unix socket path with mode 0600 (created
// under umask 0177, so it is never more open), replacing a stale socket
// left there.
func ListenSigner(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// ServeSigner answers the signer protocol on ln with key until ctx ends,
// then closes ln and returns ctx's error. key is any crypto.Signer whose
// Public() is an ed25519.PublicKey (an ed25519.PrivateKey, a KMS or
// PKCS#11 key). Who may ask: the socket's mode (0600, ListenSigner) and,
// where the system tells (Linux SO_PEERCRED), only callers running as the
// signer's own user; others are refused (ErrSignerPeer). The signer signs
// any 32-byte digest its callers send: whoever may connect may sign as
// the owner.
func ServeSigner(ctx context.Context, ln net.Listener, key crypto.Signer) error {
	s, err := roles.NewCryptoSigner(key)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			serveSignerConn(ctx, conn, s)
		}()
	}
}

// serveSignerConn answers one request.
func serveSignerConn(ctx context.Context, conn net.Conn, s roles.Signer) {
	_ = conn.SetDeadline(time.Now().Add(signerTimeout))
	resp := func() *signerFrame {
		if err := checkPeer(conn); err != nil {
			return failFrame(err.Error())
		}
		req, err := decodeSignerRequest(conn)
		if err != nil {
			return failFrame(err.Error())
		}
		if req.code == signerPublic {
			return &signerFrame{code: signerOK, payload: s.Public()}
		}
		sig, err := s.Sign(ctx, req.payload)
		if err != nil {
			return failFrame("sign: " + err.Error())
		}
		return &signerFrame{code: signerOK, payload: sig}
	}()
	_, _ = conn.Write(resp.encode())
}
