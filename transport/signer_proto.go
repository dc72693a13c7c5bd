package transport

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/vdsproject/vds/roles"
)

// The signer protocol: what an owner (SignerClient) and a signer process
// (ServeSigner) say over a Unix socket, one request and one response per
// connection. Every frame is
//
//	magic "VDSK" | version 1 | code (1 byte) | length (2 bytes, big-endian) | payload
//
// A request's code is signerPublic (empty payload) or signerSign (the
// 32-byte digest to sign); a response's is signerOK (the 32-byte public
// key, or the 64-byte signature) or signerFail (a UTF-8 message of at most
// maxSignerMessage bytes). Anything else is refused.
const (
	signerMagic   = "VDSK"
	signerVersion = 1

	signerPublic byte = 1
	signerSign   byte = 2

	signerOK   byte = 0
	signerFail byte = 1

	signerDigestSize = 32
	maxSignerMessage = 256
	signerHeaderSize = len(signerMagic) + 1 + 1 + 2
)

// signerFrame is one decoded frame of the signer protocol.
type signerFrame struct {
	code    byte
	payload []byte
}

// encode returns the frame's bytes.
func (f *signerFrame) encode() []byte {
	b := make([]byte, 0, signerHeaderSize+len(f.payload))
	b = append(b, signerMagic...)
	b = append(b, signerVersion, f.code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.payload)))
	return append(b, f.payload...)
}

// readSignerFrame reads one frame whose payload is at most max bytes.
func readSignerFrame(r io.Reader, max int) (*signerFrame, error) {
	var h [signerHeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("signer protocol: header: %w", err)
	}
	if string(h[:4]) != signerMagic || h[4] != signerVersion {
		return nil, fmt.Errorf("signer protocol: not a version %d frame: %w", signerVersion, roles.ErrInvalidEncoding)
	}
	n := int(binary.BigEndian.Uint16(h[6:]))
	if n > max {
		return nil, fmt.Errorf("signer protocol: payload of %d bytes, at most %d: %w", n, max, roles.ErrTooLarge)
	}
	f := &signerFrame{code: h[5], payload: make([]byte, n)}
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return nil, fmt.Errorf("signer protocol: payload: %w", err)
	}
	return f, nil
}

// decodeSignerRequest reads and checks a request: its code and the size of
// its payload.
func decodeSignerRequest(r io.Reader) (*signerFrame, error) {
	f, err := readSignerFrame(r, signerDigestSize)
	if err != nil {
		return nil, err
	}
	switch {
	case f.code == signerPublic && len(f.payload) == 0:
	case f.code == signerSign && len(f.payload) == signerDigestSize:
	default:
		return nil, fmt.Errorf("signer protocol: request code %d with %d bytes: %w", f.code, len(f.payload), roles.ErrInvalidEncoding)
	}
	return f, nil
}

// decodeSignerResponse reads and checks the response to a request with
// code req: a public key, a signature, or a failure. A failure is
// returned as an error wrapping ErrSignerFailed.
func decodeSignerResponse(r io.Reader, req byte) ([]byte, error) {
	f, err := readSignerFrame(r, maxSignerMessage)
	if err != nil {
		return nil, err
	}
	switch f.code {
	case signerOK:
		want := ed25519.PublicKeySize
		if req == signerSign {
			want = ed25519.SignatureSize
		}
		if len(f.payload) != want {
			return nil, fmt.Errorf("signer protocol: answer of %d bytes, want %d: %w", len(f.payload), want, roles.ErrInvalidEncoding)
		}
		return f.payload, nil
	case signerFail:
		if !utf8.Valid(f.payload) {
			return nil, fmt.Errorf("signer protocol: failure message not UTF-8: %w", roles.ErrInvalidEncoding)
		}
		return nil, fmt.Errorf("%w: %s", ErrSignerFailed, f.payload)
	default:
		return nil, fmt.Errorf("signer protocol: response code %d: %w", f.code, roles.ErrInvalidEncoding)
	}
}

// failFrame is a failure response with msg cut to maxSignerMessage bytes
// of valid UTF-8.
func failFrame(msg string) *signerFrame {
	b := []byte(msg)
	for len(b) > maxSignerMessage || !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return &signerFrame{code: signerFail, payload: b}
}
