package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/vdsproject/vds/internal/errs"
)

// errUnavailableSentinel marks failures worth retrying.
var errUnavailableSentinel = errs.ErrUnavailable

// The Unix-socket framing. A request is
//
//	u32 length ‖ u8 len(service) ‖ service ‖ u8 len(method) ‖ method ‖ body
//
// and a response is
//
//	u32 length ‖ u8 status ‖ body
//
// with status 0 and the encoded response, or status 1 and an encoded
// WireError. Lengths are big-endian and count what follows them. A
// connection carries one call at a time; clients keep a pool of them.

const (
	statusOK  = 0
	statusErr = 1
)

func writeFrame(w *bufio.Writer, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(n))
	if _, err := w.Write(l[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Flush()
}

func readFrame(r *bufio.Reader, limit int64) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int64(binary.BigEndian.Uint32(l[:]))
	if n > limit {
		return nil, fmt.Errorf("transport: frame of %d bytes above the limit of %d: %w", n, limit, errTooLarge)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// UnixServer serves services on a Unix socket.
type UnixServer struct {
	ln   *net.UnixListener
	path string
	reg  registry
	opts options
	gate *gate
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]bool
}

// ListenUnix binds a Unix socket at path for the services. The socket is
// created with mode 0600 (only the owner of the process may connect); a
// stale socket file left by a crashed server is removed first.
func ListenUnix(path string, services []*Service, opts ...Option) (*UnixServer, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("transport: %s: a server is already listening", path)
		}
		_ = os.Remove(path)
	}
	old := umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	o := buildOptions(opts)
	return &UnixServer{ln: ln, path: path, reg: newRegistry(services), opts: o, gate: newGate(&o), conn: map[net.Conn]bool{}}, nil
}

// Addr returns the socket path.
func (s *UnixServer) Addr() string { return s.path }

// Serve serves until ctx ends, then stops accepting, lets calls in flight
// finish within the grace period, closes idle connections and removes the
// socket file.
func (s *UnixServer) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("transport: accept: %w", err)
		}
		s.mu.Lock()
		s.conn[c] = false
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(ctx, c)
	}
	// Close connections that are idle now; busy ones close after their call.
	s.mu.Lock()
	for c, busy := range s.conn {
		if !busy {
			c.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.http.shutdown):
		s.mu.Lock()
		for c := range s.conn {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	_ = os.Remove(s.path)
	return nil
}

func (s *UnixServer) setBusy(c net.Conn, busy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn[c] = busy
}

func (s *UnixServer) serveConn(ctx context.Context, c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conn, c)
		s.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	peer := &Peer{Transport: PeerUnix, Addr: "unix:" + s.path}
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.opts.http.idleTimeout))
		size, service, method, err := readRequestHead(r)
		if err != nil {
			if errors.Is(err, errInvalid) {
				s.reply(ctx, c, w, time.Now(), "", "", nil, &WireError{Code: "invalid_encoding", Message: "malformed request frame"})
			}
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.opts.http.readTimeout))
		s.setBusy(c, true)
		start := time.Now()
		// Everything is checked before the body is read; a refused
		// request's body is never read, and its connection is closed.
		m, err := s.reg.lookup(service, method)
		if err == nil {
			err = s.opts.authorize(ctx, peer, service, m)
		}
		if err != nil {
			s.reply(ctx, c, w, start, service, method, nil, ToWire(err))
			return
		}
		limit := s.opts.http.maxBody
		if m.MaxRequestBytes > 0 {
			limit = min(limit, m.MaxRequestBytes)
		}
		if size > limit {
			s.reply(ctx, c, w, start, service, method, nil, &WireError{Code: "too_large", Message: fmt.Sprintf("%s/%s request of %d bytes, above its limit of %d", service, method, size, limit)})
			return
		}
		release, ok := s.gate.acquire(size)
		if !ok {
			s.reply(ctx, c, w, start, service, method, nil, busy(s.gate.maxN))
			return
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(r, body); err != nil {
			release()
			return
		}
		out, we := serveBody(ctx, m, service, &s.opts, body)
		body = nil
		release()
		if !s.reply(ctx, c, w, start, service, method, out, we) || ctx.Err() != nil {
			return
		}
		s.setBusy(c, false)
	}
}

// reply writes a response frame (the wire error if we is set), logs the
// request and reports whether the connection may carry another call.
func (s *UnixServer) reply(ctx context.Context, c net.Conn, w *bufio.Writer, start time.Time, service, method string, out []byte, we *WireError) bool {
	status := byte(statusOK)
	if we != nil {
		status = statusErr
		out, _ = s.opts.codec.Marshal(we)
	}
	_ = c.SetWriteDeadline(time.Now().Add(s.opts.http.writeTimeout))
	err := writeFrame(w, []byte{status}, out)
	s.opts.observeRequest(s.reg, service, method, we, start)
	if l := s.opts.http.logger; l != nil {
		code := "ok"
		if we != nil {
			code = we.Code
		}
		l.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("transport", "unix"),
			slog.String("service", service), slog.String("method", method),
			slog.String("status", code), slog.Duration("duration", time.Since(start)))
	}
	return err == nil
}

// readRequestHead reads the length, the service and the method of a
// request frame and returns the length of the body that follows. A frame
// whose names do not fit its length is an error wrapping ErrInvalidInput.
func readRequestHead(r *bufio.Reader) (size int64, service, method string, err error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return 0, "", "", err
	}
	size = int64(binary.BigEndian.Uint32(l[:]))
	name := func() (string, error) {
		n, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if size < 1+int64(n) {
			return "", fmt.Errorf("transport: malformed request frame: %w", errInvalid)
		}
		size -= 1 + int64(n)
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		return string(b), nil
	}
	if size < 1 {
		return 0, "", "", fmt.Errorf("transport: malformed request frame: %w", errInvalid)
	}
	if service, err = name(); err != nil {
		return 0, "", "", err
	}
	if size < 1 {
		return 0, "", "", fmt.Errorf("transport: malformed request frame: %w", errInvalid)
	}
	if method, err = name(); err != nil {
		return 0, "", "", err
	}
	return size, service, method, nil
}

// UnixClient is the Unix-socket transport's client.
type UnixClient struct {
	path string
	opts options
	idle chan *unixConn
	mu   sync.Mutex
	done bool
}

type unixConn struct {
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	used time.Time
}

// maxIdle is how long a pooled connection is reused: well under the
// server's idle timeout, so that a call never meets a connection the server
// is about to close.
const maxIdle = 20 * time.Second

// NewUnixClient returns a client for the server at the socket path.
func NewUnixClient(path string, opts ...Option) (*UnixClient, error) {
	if path == "" {
		return nil, fmt.Errorf("transport: empty socket path: %w", errInvalid)
	}
	return &UnixClient{path: path, opts: buildOptions(opts), idle: make(chan *unixConn, 64)}, nil
}

// get returns a pooled connection that is still open (pooled = true), or a
// new one.
func (c *UnixClient) get(ctx context.Context) (uc *unixConn, pooled bool, err error) {
	for {
		select {
		case uc := <-c.idle:
			if time.Since(uc.used) < maxIdle && open(uc.c) {
				return uc, true, nil
			}
			uc.c.Close()
			continue
		default:
		}
		break
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return nil, false, err
	}
	return &unixConn{c: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}, false, nil
}

func (c *UnixClient) put(uc *unixConn) {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if !done {
		select {
		case c.idle <- uc:
			return
		default:
		}
	}
	uc.c.Close()
}

// Call implements Transport. An idempotent call is retried after a
// transport failure or an unavailable server, with exponential backoff and
// jitter (WithRetries); any call is re-sent once on a fresh connection when
// a pooled one turns out to be closed before the request reached the server.
func (c *UnixClient) Call(ctx context.Context, service, name string, req, resp any) error {
	if len(service) > 255 || len(name) > 255 {
		return fmt.Errorf("transport: name too long: %w", errInvalid)
	}
	body, err := c.opts.codec.Marshal(req)
	if err != nil {
		return fmt.Errorf("transport: encode %s/%s request: %w", service, name, err)
	}
	if _, ok := ctx.Deadline(); !ok && c.opts.http.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.http.timeout)
		defer cancel()
	}
	attempts := 1
	if Idempotent(service, name) {
		attempts += c.opts.http.retries
	}
	head := append(append(append([]byte{byte(len(service))}, service...), byte(len(name))), name...)
	delay := c.opts.http.backoff
	for i := 0; ; i++ {
		err := c.once(ctx, service+"/"+name, head, body, resp)
		if err == nil || i+1 >= attempts || ctx.Err() != nil || !errors.Is(err, errUnavailableSentinel) {
			return err
		}
		if !backoffWait(ctx, &delay) {
			return err
		}
	}
}

// once makes one call: on a pooled connection if one is alive, again on a
// fresh one if the pooled connection failed before the server could have
// read the request.
func (c *UnixClient) once(ctx context.Context, op string, head, body []byte, resp any) error {
	out, status, notSent, err := c.roundTrip(ctx, head, body, false)
	if err != nil && notSent && ctx.Err() == nil {
		out, status, _, err = c.roundTrip(ctx, head, body, true)
	}
	if err != nil {
		return unavailable(op, err)
	}
	if status == statusOK {
		return c.opts.codec.Unmarshal(out, resp)
	}
	var we WireError
	if err := c.opts.codec.Unmarshal(out, &we); err != nil {
		return unavailable(op, fmt.Errorf("undecodable error: %w", err))
	}
	return we.Err()
}

// roundTrip sends one request on a pooled (or, when fresh is set, a new)
// connection and reads its response. notSent reports a failure on a pooled
// connection that the server had closed (a failed write, or end of file
// before any byte of the response): the request was not processed.
func (c *UnixClient) roundTrip(ctx context.Context, head, body []byte, fresh bool) (out []byte, status byte, notSent bool, err error) {
	var uc *unixConn
	pooled := false
	if fresh {
		var d net.Dialer
		nc, derr := d.DialContext(ctx, "unix", c.path)
		if derr != nil {
			return nil, 0, false, derr
		}
		uc = &unixConn{c: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	} else if uc, pooled, err = c.get(ctx); err != nil {
		return nil, 0, false, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = uc.c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = uc.c.SetDeadline(time.Unix(1, 0)) })
	werr := writeFrame(uc.w, head, body)
	// Read the response even after a failed write: a server that refuses
	// a request before its body (too large, busy, unauthorized) replies
	// and closes the connection without reading the rest.
	f, err := readFrame(uc.r, c.opts.http.maxBody)
	if werr != nil {
		if err == nil && len(f) > 0 && f[0] == statusErr {
			stop()
			uc.c.Close()
			return f[1:], f[0], false, nil
		}
		err = werr
	}
	cancelled := !stop()
	if err != nil || cancelled || len(f) == 0 {
		uc.c.Close()
		if err == nil {
			err = errors.New("empty response frame")
		}
		if cancelled && ctx.Err() != nil {
			return nil, 0, false, ctx.Err()
		}
		notSent = pooled && (werr != nil || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
		return nil, 0, notSent, err
	}
	_ = uc.c.SetDeadline(time.Time{})
	uc.used = time.Now()
	c.put(uc)
	return f[1:], f[0], false, nil
}

// Close implements Transport: it closes the pooled connections.
func (c *UnixClient) Close() error {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	for {
		select {
		case uc := <-c.idle:
			uc.c.Close()
		default:
			return nil
		}
	}
}
