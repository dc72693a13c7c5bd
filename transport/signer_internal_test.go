package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/vdsproject/vds/roles"
)

// FuzzSignerRequest: the signer's request decoder never panics, and what
// it accepts re-encodes to the bytes it read (no malleability).
func FuzzSignerRequest(f *testing.F) {
	f.Add((&signerFrame{code: signerPublic}).encode())
	f.Add((&signerFrame{code: signerSign, payload: make([]byte, 32)}).encode())
	f.Add((&signerFrame{code: signerSign, payload: make([]byte, 31)}).encode())
	f.Add([]byte("VDSK\x02\x01\x00\x00"))
	f.Add([]byte("VDSK\x01\x02\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeSignerRequest(bytes.NewReader(data))
		if err != nil {
			if fr != nil {
				t.Fatal("a frame returned with an error")
			}
			return
		}
		enc := fr.encode()
		if !bytes.Equal(enc, data[:len(enc)]) {
			t.Fatalf("decoded %x, re-encoded %x", data[:len(enc)], enc)
		}
	})
}

// FuzzSignerResponse: the same for the owner's side, for both requests.
func FuzzSignerResponse(f *testing.F) {
	f.Add(signerSign, (&signerFrame{code: signerOK, payload: make([]byte, 64)}).encode())
	f.Add(signerPublic, (&signerFrame{code: signerOK, payload: make([]byte, 32)}).encode())
	f.Add(signerSign, failFrame("no").encode())
	f.Add(signerSign, []byte("VDSK\x01\x01\x00\x02\xff\xfe"))
	f.Fuzz(func(t *testing.T, req byte, data []byte) {
		out, err := decodeSignerResponse(bytes.NewReader(data), req)
		if err != nil {
			if out != nil {
				t.Fatal("an answer returned with an error")
			}
			return
		}
		enc := (&signerFrame{code: signerOK, payload: out}).encode()
		if !bytes.Equal(enc, data[:len(enc)]) {
			t.Fatalf("decoded %x, re-encoded %x", data[:len(enc)], enc)
		}
		if want := map[bool]int{true: ed25519.SignatureSize, false: ed25519.PublicKeySize}[req == signerSign]; len(out) != want {
			t.Fatalf("an answer of %d bytes to request %d", len(out), req)
		}
	})
}

// TestSignerFrames: each malformed frame is refused with the error it
// deserves.
func TestSignerFrames(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"bad magic":       {[]byte("VDSX\x01\x01\x00\x00"), roles.ErrInvalidEncoding},
		"bad version":     {[]byte("VDSK\x02\x01\x00\x00"), roles.ErrInvalidEncoding},
		"unknown code":    {[]byte("VDSK\x01\x07\x00\x00"), roles.ErrInvalidEncoding},
		"short digest":    {(&signerFrame{code: signerSign, payload: make([]byte, 31)}).encode(), roles.ErrInvalidEncoding},
		"public and data": {(&signerFrame{code: signerPublic, payload: []byte{1}}).encode(), roles.ErrInvalidEncoding},
		"too long":        {[]byte("VDSK\x01\x02\x00\x21"), roles.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeSignerRequest(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := decodeSignerResponse(bytes.NewReader(failFrame("denied").encode()), signerSign); !errors.Is(err, ErrSignerFailed) {
		t.Fatalf("a failure: %v", err)
	}
	if _, err := decodeSignerResponse(bytes.NewReader((&signerFrame{code: signerOK, payload: make([]byte, 32)}).encode()), signerSign); !errors.Is(err, roles.ErrInvalidEncoding) {
		t.Fatalf("a 32-byte signature: %v", err)
	}
}

// TestSignerClientChecksSignature: a signer process that answers with a
// signature that does not verify (a compromised or broken signer) fails
// the owner's Sign with ErrBadSignature.
func TestSignerClientChecksSignature(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fake.sock")
	ln, err := ListenSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := decodeSignerRequest(conn)
			if err == nil {
				resp := &signerFrame{code: signerOK, payload: pub}
				if req.code == signerSign {
					resp.payload = make([]byte, ed25519.SignatureSize)
				}
				_, _ = conn.Write(resp.encode())
			}
			conn.Close()
		}
	}()
	c, err := DialSigner(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sign(context.Background(), make([]byte, 32)); !errors.Is(err, roles.ErrBadSignature) {
		t.Fatalf("a forged signature: %v", err)
	}
}
