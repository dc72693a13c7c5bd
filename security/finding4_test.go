package security

// Finding 4: memory and CPU from one message. Request bodies up to 64 MiB
// were read whole before decoding, nothing capped concurrent requests, the
// decoder decompressed and subgroup-checked every point of a header's
// commitment array before the 64-column limit applied (65,536 points: 4.7 s
// of CPU), and a values array of 2^20 scalars allocated 335 MB. Now every
// method has a body limit sized to what it carries, checked against the
// declared length before reading and enforced while reading; arrays are
// limited by the well-formedness pass before any point is decoded; and a
// server refuses requests beyond its concurrency limit at once.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/worstcase"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// structural returns a codec with the structural limits of a method's codec
// and room for any message size: what the method's limits do once the body
// limit has let a message through.
func structural(t *testing.T, m *transport.Method) *codec.CBOR {
	t.Helper()
	mc, ok := m.Codec.(*codec.CBOR)
	require.True(t, ok, "%s has no CBOR codec of its own", m.Name)
	l := mc.Limits()
	l.MaxMessageBytes = 1 << 30
	c, err := codec.NewCBOR(l)
	require.NoError(t, err)
	return c
}

// The 65,536-point header and a values array above MaxColumns are refused
// for their size, before any of their points or scalars (all invalid here)
// is looked at; over HTTP and Unix sockets a body above the limit is
// refused as too large.
func TestFinding4OversizedArrays(t *testing.T) {
	d := newTrDeployment(t)
	l := roles.DefaultLimits()
	svc := transport.VerifierService(d.verifier)
	m, ok := svc.Method("verify_dc_query")
	require.True(t, ok)

	header, err := worstcase.OversizedHeader(trN, l, 1<<16)
	require.NoError(t, err)
	values, err := worstcase.OversizedValues(trN, l, l.MaxColumns+1)
	require.NoError(t, err)
	for name, msg := range map[string][]byte{"65536-point header": header, "65-value answer": values} {
		// Decoded without limits, the spoiled points and scalars are the error.
		loose, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: 1 << 30, MaxArrayElements: 1 << 20})
		require.NoError(t, err)
		err = loose.Unmarshal(msg, m.NewRequest())
		require.ErrorIs(t, err, vds.ErrInvalidEncoding, name)
		require.NotErrorIs(t, err, vds.ErrTooLarge, name)
		// The method's structural limits stop first.
		require.ErrorIs(t, structural(t, m).Unmarshal(msg, m.NewRequest()), vds.ErrTooLarge, name)
	}

	httpAddr := "http://" + trServeHTTP(t, []*transport.Service{svc})
	unixAddr := trServeUnix(t, []*transport.Service{svc})
	for _, addr := range []string{httpAddr, unixAddr} {
		c := trDial(t, addr)
		for name, msg := range map[string][]byte{"65536-point header": header, "65-value answer": values} {
			var res transport.VerifyResult
			err := c.Call(context.Background(), transport.ServiceVerifier, "verify_dc_query", rawMessage(msg), &res)
			require.ErrorIs(t, err, vds.ErrTooLarge, "%s over %s", name, addr)
		}
	}
}

// rawMessage is a request already encoded: it marshals to itself.
type rawMessage []byte

func (r rawMessage) MarshalCBOR() ([]byte, error) { return r, nil }

func (r *rawMessage) UnmarshalCBOR(b []byte) error { *r = append((*r)[:0], b...); return nil }

// valuesStream is a verify_dc_query request whose answer carries 2^20
// values, produced as it is read (41 MB that are never held in memory).
func valuesStream(t *testing.T, count int) (io.Reader, int64) {
	t.Helper()
	r := worstcase.VerifyRequest(trN, roles.DefaultLimits())
	r.Answer.Values = []codec.Scalar{}
	b, err := codec.Default().Marshal(r)
	require.NoError(t, err)
	// "x": [] in the answer map, once.
	key := []byte{0x61, 'x', 0x80}
	require.Equal(t, 1, bytes.Count(b, key))
	at := bytes.Index(b, key) + 2
	head := []byte{0x9a, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(head[1:], uint32(count))
	one, err := codec.Default().Marshal(codec.Scalar{})
	require.NoError(t, err)
	body := io.MultiReader(bytes.NewReader(b[:at]), bytes.NewReader(head),
		&repeatReader{unit: one, left: int64(count) * int64(len(one))}, bytes.NewReader(b[at+1:]))
	return body, int64(at) + int64(len(head)) + int64(count)*int64(len(one)) + int64(len(b)-at-1)
}

// repeatReader repeats unit for left bytes.
type repeatReader struct {
	unit []byte
	off  int
	left int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.unit[r.off:])
		c = int(min(int64(c), r.left))
		n += c
		r.left -= int64(c)
		r.off = (r.off + c) % len(r.unit)
	}
	return n, nil
}

// A values array of 2^20 scalars is refused: with its length declared,
// before the body is read; streamed without a length, after the method's
// limit, not 41 MB, has been read.
func TestFinding4ValuesArray(t *testing.T) {
	d := newTrDeployment(t)
	svc := transport.VerifierService(d.verifier)
	m, _ := svc.Method("verify_dc_query")
	url := "http://" + trServeHTTP(t, []*transport.Service{svc}) + "/v1/verifier/verify_dc_query"
	for _, declared := range []bool{true, false} {
		body, size := valuesStream(t, 1<<20)
		require.Greater(t, size, int64(40_000_000))
		counted := &countingReader{r: body}
		req, err := http.NewRequest(http.MethodPost, url, io.NopCloser(counted))
		require.NoError(t, err)
		req.Header.Set("Content-Type", transport.ContentType)
		if declared {
			req.ContentLength = size
		} else {
			req.ContentLength = -1 // chunked
		}
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "declared=%v", declared)
			res.Body.Close()
		}
		// Whether or not the client saw the answer before its write failed,
		// it sent (and so the server read) little more than the limit.
		sent := counted.n.Load()
		require.Less(t, sent, m.MaxRequestBytes+(4<<20), "declared=%v: the server read %d bytes", declared, sent)
	}
}

// countingReader counts what the HTTP client's writer (a goroutine of its
// own, which may outlive Do) reads from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// A body whose declared length is above the method's limit is refused
// without being read: the server answers 413 to the head alone (HTTP) or
// to the frame head alone (Unix).
func TestFinding4DeclaredLengthRefusedUnread(t *testing.T) {
	d := newTrDeployment(t)
	services := []*transport.Service{transport.VerifierService(d.verifier), transport.StorageService(d.storage)}
	httpAddr := trServeHTTP(t, services)
	unixAddr := trServeUnix(t, services)
	for _, path := range []string{"verifier/verify_dc_query", "storage/store_batch", "verifier/health"} {
		conn, err := net.Dial("tcp", httpAddr)
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = fmt.Fprintf(conn, "POST /v1/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/cbor\r\nContent-Length: %d\r\n\r\n", path, 64<<20)
		require.NoError(t, err)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "%s: no answer to the head alone", path)
		res.Body.Close()
		conn.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, path)

		service, method, _ := strings.Cut(path, "/")
		we := unixHead(t, unixAddr, service, method, 64<<20)
		require.Equal(t, "too_large", we.Code, path)
	}
}

// unixHead sends only the head of a request frame declaring size body
// bytes and returns the server's error.
func unixHead(t *testing.T, addr, service, method string, size int) *transport.WireError {
	t.Helper()
	conn, err := net.Dial("unix", transport.UnixPath(addr))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	writeUnixHead(t, conn, service, method, size)
	return readUnixError(t, conn)
}

func writeUnixHead(t *testing.T, conn net.Conn, service, method string, size int) {
	t.Helper()
	head := append(append(append([]byte{byte(len(service))}, service...), byte(len(method))), method...)
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(head)+size))
	_, err := conn.Write(append(l[:], head...))
	require.NoError(t, err)
}

func readUnixError(t *testing.T, conn net.Conn) *transport.WireError {
	t.Helper()
	var l [4]byte
	_, err := io.ReadFull(conn, l[:])
	require.NoError(t, err, "no answer to the frame head")
	f := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err = io.ReadFull(conn, f)
	require.NoError(t, err)
	if f[0] == 0 {
		return &transport.WireError{Code: "ok"}
	}
	var we transport.WireError
	require.NoError(t, codec.Default().Unmarshal(f[1:], &we))
	return &we
}

// Beyond WithMaxConcurrent, a request is refused at once with 503 (HTTP)
// or "unavailable" (Unix), before its body is read; once the requests in
// flight end, the server serves again.
func TestFinding4ConcurrencyCap(t *testing.T) {
	d := newTrDeployment(t)
	svc := []*transport.Service{transport.VerifierService(d.verifier)}
	const limit = 2
	httpAddr := trServeHTTP(t, svc, transport.WithMaxConcurrent(limit))
	var held []net.Conn
	for range limit {
		conn, err := net.Dial("tcp", httpAddr)
		require.NoError(t, err)
		_, err = fmt.Fprintf(conn, "POST /v1/verifier/update_global_pk HTTP/1.1\r\nHost: x\r\nContent-Type: application/cbor\r\nContent-Length: 100\r\n\r\n\xa0")
		require.NoError(t, err)
		held = append(held, conn)
	}
	busy := func() *http.Response {
		res, err := http.Post("http://"+httpAddr+"/v1/verifier/health", transport.ContentType, strings.NewReader("\xa0"))
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	deadline := time.Now().Add(5 * time.Second)
	res := busy()
	for res.StatusCode != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		res = busy()
	}
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "a request beyond the limit was served")
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	for _, c := range held {
		c.Close() // the handlers' reads fail; their slots are released
	}
	deadline = time.Now().Add(5 * time.Second)
	for res.StatusCode != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		res = busy()
	}
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The same on a Unix socket.
	unixAddr := trServeUnix(t, svc, transport.WithMaxConcurrent(1))
	conn, err := net.Dial("unix", transport.UnixPath(unixAddr))
	require.NoError(t, err)
	writeUnixHead(t, conn, "verifier", "update_global_pk", 100)
	deadline = time.Now().Add(5 * time.Second)
	probe := func() *transport.WireError {
		c, err := net.Dial("unix", transport.UnixPath(unixAddr))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		writeUnixHead(t, c, "verifier", "health", 1)
		_, _ = c.Write([]byte{0xa0}) // a busy server may have closed already
		return readUnixError(t, c)
	}
	for {
		we := probe()
		if we.Code == "unavailable" || time.Now().After(deadline) {
			require.Equal(t, "unavailable", we.Code)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()
	c := transport.VerifierClient{T: trDial(t, unixAddr, transport.WithRetries(10, 20*time.Millisecond))}
	_, err = c.Health(context.Background())
	require.NoError(t, err, "the Unix server does not serve again after the request in flight ended")
}
