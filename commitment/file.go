package commitment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/vdsproject/vds/internal/hash"
)

// FormatVersion is the version of the CRS file format written by WriteTo.
const FormatVersion = 1

// fileMagic starts every CRS file.
var fileMagic = [8]byte{'v', 'd', 's', '-', 'c', 'r', 's', '\n'}

const (
	g1Size = bls.SizeOfG1AffineCompressed
	g2Size = bls.SizeOfG2AffineCompressed
	// headerSize is magic, version, n and digest.
	headerSize = 8 + 4 + 4 + 32
)

// The CRS file (all integers big-endian):
//
//	magic   "vds-crs\n"                    8 bytes
//	version uint32 (= 1)                   4 bytes
//	n       uint32                         4 bytes
//	digest  H("vds/v1/crs", body)          32 bytes
//	body:   version ‖ n ‖ g₁…gₙ ‖ g_{n+2}…g_{2n} ‖ ĝ₁…ĝₙ
//	        (points in gnark-crypto's compressed form, 48 and 96 bytes)
//
// The digest covers the body, which repeats version and n so that the
// digest commits to them.

// encodeBody returns version ‖ n ‖ G1 points ‖ G2 points.
func encodeBody(n int, g1 []bls.G1Affine, g2 []bls.G2Affine) []byte {
	buf := make([]byte, 8+len(g1)*g1Size+len(g2)*g2Size)
	binary.BigEndian.PutUint32(buf[0:], FormatVersion)
	binary.BigEndian.PutUint32(buf[4:], uint32(n))
	off := 8
	parallelRange(len(g1), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := g1[i].Bytes()
			copy(buf[off+i*g1Size:], b[:])
		}
	})
	off += len(g1) * g1Size
	parallelRange(len(g2), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := g2[i].Bytes()
			copy(buf[off+i*g2Size:], b[:])
		}
	})
	return buf
}

func digestOf(body []byte) Digest { return hash.Sum(hash.TagCRS, body) }

// parallelRange splits [0, n) into one contiguous part per CPU.
func parallelRange(n int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 1024 {
		workers = 1
	}
	parallelN(n, workers, f)
}

// WriteTo writes the CRS file format to w.
func (c *CRS) WriteTo(w io.Writer) (int64, error) {
	var hdr [headerSize]byte
	copy(hdr[:], fileMagic[:])
	binary.BigEndian.PutUint32(hdr[8:], FormatVersion)
	binary.BigEndian.PutUint32(hdr[12:], uint32(c.n))
	copy(hdr[16:], c.digest[:])
	n1, err := w.Write(hdr[:])
	if err != nil {
		return int64(n1), err
	}
	n2, err := w.Write(c.enc[8:])
	return int64(n1 + n2), err
}

// MarshalBinary returns the CRS file format.
func (c *CRS) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(headerSize + len(c.enc))
	_, err := c.WriteTo(&b)
	return b.Bytes(), err
}

// LoadOption configures [Load].
type LoadOption func(*loadConfig)

type loadConfig struct {
	pinned *Digest
	maxN   int
	// unchecked skips the subgroup and structure checks; only for
	// [Contribute], which documents that it does not check its input's final
	// CRS (its output is checked by [LoadTranscript]).
	unchecked bool
}

// loadUnchecked is the internal option of [Contribute]: the file's own digest
// is pinned and neither subgroup membership nor structure is checked.
func loadUnchecked(d Digest) LoadOption {
	return func(c *loadConfig) { c.pinned = &d; c.unchecked = true }
}

// WithPinnedDigest makes Load refuse any CRS whose digest differs from d
// (with [ErrCRSMismatch]). A file that matches was generated or checked by
// someone the caller trusts, so its points are only checked to be on the
// curve, not in the subgroup (at n = 65536 that saves seconds); the structure
// check of [CRS.Validate] runs whatever the pin (SPEC §3).
func WithPinnedDigest(d Digest) LoadOption {
	return func(c *loadConfig) { c.pinned = &d }
}

// WithMaxN caps the capacity Load accepts (default [MaxN]); a larger n in a
// file is refused before anything is allocated for it.
func WithMaxN(n int) LoadOption {
	return func(c *loadConfig) { c.maxN = n }
}

// MismatchError reports a CRS whose digest is not the one expected. It wraps
// [ErrCRSMismatch].
type MismatchError struct {
	Want, Got Digest
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("commitment: CRS digest %s, want %s", e.Got, e.Want)
}

// Unwrap returns ErrCRSMismatch.
func (e *MismatchError) Unwrap() error { return ErrCRSMismatch }

// Load reads a CRS file written by [CRS.WriteTo] (SPEC §3). It checks the
// format, the digest, that every point is a canonical compressed encoding of
// a point on the curve other than the identity and — unless the digest
// equals a pinned one — in the prime-order subgroup, and then, always, the
// structure of the whole CRS ([CRS.Validate]).
func Load(r io.Reader, opts ...LoadOption) (*CRS, error) {
	cfg := loadConfig{maxN: MaxN}
	for _, o := range opts {
		o(&cfg)
	}
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("commitment: load CRS: read header: %w: %w", ErrInvalidEncoding, err)
	}
	if !bytes.Equal(hdr[:8], fileMagic[:]) {
		return nil, fmt.Errorf("commitment: load CRS: not a CRS file: %w", ErrInvalidEncoding)
	}
	if v := binary.BigEndian.Uint32(hdr[8:]); v != FormatVersion {
		return nil, fmt.Errorf("commitment: load CRS: unsupported format version %d: %w", v, ErrInvalidEncoding)
	}
	n64 := binary.BigEndian.Uint32(hdr[12:])
	if n64 < 1 || int64(n64) > int64(cfg.maxN) {
		return nil, fmt.Errorf("commitment: load CRS: capacity %d outside [1, %d]: %w", n64, cfg.maxN, ErrTooLarge)
	}
	n := int(n64)
	var fileDigest Digest
	copy(fileDigest[:], hdr[16:])
	if cfg.pinned != nil && fileDigest != *cfg.pinned {
		return nil, &MismatchError{Want: *cfg.pinned, Got: fileDigest}
	}

	nG1, nG2 := 2*n-1, n
	size := int64(8 + nG1*g1Size + nG2*g2Size)
	body := make([]byte, 8, 8+min(size-8, 1<<20))
	copy(body, hdr[8:16])
	rest, err := io.ReadAll(io.LimitReader(r, size-8+1))
	if err != nil {
		return nil, fmt.Errorf("commitment: load CRS: %w: %w", ErrInvalidEncoding, err)
	}
	if int64(len(rest)) != size-8 {
		return nil, fmt.Errorf("commitment: load CRS: body has %d bytes, want %d: %w", len(rest), size-8, ErrInvalidEncoding)
	}
	body = append(body, rest...)
	if d := digestOf(body); d != fileDigest {
		return nil, fmt.Errorf("commitment: load CRS: digest does not match contents: %w", ErrInvalidEncoding)
	}
	check := cfg.pinned == nil
	g1, g2, err := decodePoints(body[8:], nG1, nG2, check)
	if err != nil {
		return nil, fmt.Errorf("commitment: load CRS: %w", err)
	}
	_, _, gen1, gen2 := bls.Generators()
	c := &CRS{
		n:      n,
		g1:     append([]bls.G1Affine{gen1}, g1...),
		g2:     append([]bls.G2Affine{gen2}, g2...),
		digest: fileDigest,
		enc:    body,
	}
	c.pk = ProverKey{n: n, g1: c.g1, g2: c.g2, digest: c.digest}
	if cfg.unchecked {
		return c, nil
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("commitment: load CRS: %w", err)
	}
	return c, nil
}

// decodePoints decodes nG1 compressed G1 points followed by nG2 compressed
// G2 points, rejecting uncompressed forms and the identity.
func decodePoints(b []byte, nG1, nG2 int, subgroupCheck bool) ([]bls.G1Affine, []bls.G2Affine, error) {
	// gnark-crypto's flags: bit 7 compressed, bit 6 infinity, bit 5 sign.
	for i := 0; i < nG1+nG2; i++ {
		off := i * g1Size
		if i >= nG1 {
			off = nG1*g1Size + (i-nG1)*g2Size
		}
		switch b[off] & 0xC0 {
		case 0x80:
		case 0xC0:
			return nil, nil, fmt.Errorf("point %d: %w", i, ErrIdentity)
		default:
			return nil, nil, fmt.Errorf("point %d: not a compressed point: %w", i, ErrInvalidEncoding)
		}
	}
	var opts []func(*bls.Decoder)
	if !subgroupCheck {
		opts = append(opts, bls.NoSubgroupChecks())
	}
	var g1 []bls.G1Affine
	var g2 []bls.G2Affine
	if err := bls.NewDecoder(sliceReader(b[:nG1*g1Size], nG1), opts...).Decode(&g1); err != nil {
		return nil, nil, fmt.Errorf("G1 points: %w: %w", ErrInvalidPoint, err)
	}
	if err := bls.NewDecoder(sliceReader(b[nG1*g1Size:], nG2), opts...).Decode(&g2); err != nil {
		return nil, nil, fmt.Errorf("G2 points: %w: %w", ErrInvalidPoint, err)
	}
	if len(g1) != nG1 || len(g2) != nG2 {
		return nil, nil, errors.New("internal error: point count mismatch")
	}
	return g1, g2, nil
}

// sliceReader presents raw concatenated points as gnark-crypto's encoded
// slice (a uint32 length, then the points).
func sliceReader(raw []byte, count int) io.Reader {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(count))
	return io.MultiReader(bytes.NewReader(l[:]), bytes.NewReader(raw))
}
