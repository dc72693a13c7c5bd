package commitment

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/fixedbase"
	"github.com/vdsproject/vds/internal/pairing"
)

// MaxN is the largest capacity Setup and Load accept unless told otherwise
// ([WithMaxN]). SPEC §9 asks for at least 65536.
const MaxN = 1 << 20

// Digest identifies a CRS: crsDigest = H("vds/v1/crs", encoding) of SPEC §3.
// It is written into every signed header and state.
type Digest [32]byte

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// ParseDigest parses the hex form returned by [Digest.String].
func ParseDigest(s string) (Digest, error) {
	var d Digest
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(d) {
		return d, fmt.Errorf("commitment: parse digest %q: want %d hex bytes: %w", s, len(d), ErrInvalidInput)
	}
	copy(d[:], b)
	return d, nil
}

// CRS is the common reference string of SPEC §3 for batches of up to N rows.
// It is immutable after construction and safe for concurrent use.
type CRS struct {
	n      int
	g1     []bls.G1Affine // g, g_1..g_n, g_{n+2}..g_{2n}: 2n points
	g2     []bls.G2Affine // ĝ, ĝ_1..ĝ_n: n+1 points
	digest Digest
	enc    []byte // canonical encoding (the file body after the digest)

	pk     ProverKey
	vkOnce sync.Once
	vk     *VerifierKey
}

// N returns the capacity: the largest number of rows a committed vector may have.
func (c *CRS) N() int { return c.n }

// Digest returns the CRS digest.
func (c *CRS) Digest() Digest { return c.digest }

// ProverKey returns the prover's view: every gᵢ and ĝᵢ.
func (c *CRS) ProverKey() *ProverKey { return &c.pk }

// VerifierKey returns the verifier's view, computing its precomputation (the
// prefix sums Sₖ, Z and a fixed-base table of g₁) on first use.
func (c *CRS) VerifierKey() *VerifierKey {
	c.vkOnce.Do(func() { c.vk = newVerifierKey(c) })
	return c.vk
}

// ProverKey holds the prover's part of a CRS: g, g₁…gₙ, g_{n+2}…g_{2n} and
// ĝ, ĝ₁…ĝₙ. It commits and opens. Its methods are safe for concurrent use.
type ProverKey struct {
	n      int
	g1     []bls.G1Affine
	g2     []bls.G2Affine
	digest Digest

	toeplitz sync.Map // block size → *toeplitzEntry (precompute.go)
}

// N returns the capacity of the CRS.
func (pk *ProverKey) N() int { return pk.n }

// Digest returns the CRS digest.
func (pk *ProverKey) Digest() Digest { return pk.digest }

// g1Index returns the position of g_k in pk.g1 (k ∈ [0, 2n], k ≠ n+1).
func (pk *ProverKey) g1Index(k int) int {
	if k <= pk.n {
		return k
	}
	return k - 1
}

// SetupOption configures [Setup].
type SetupOption func(*setupConfig)

type setupConfig struct {
	progress func(done, total int)
	maxN     int
}

// WithProgress makes Setup call f after each chunk of points, with the number
// of points computed so far and the total; f is called from the calling
// goroutine.
func WithProgress(f func(done, total int)) SetupOption {
	return func(c *setupConfig) { c.progress = f }
}

// setupChunk is the number of points computed between two progress reports.
const setupChunk = 1 << 13

// Setup generates a CRS of capacity n (SPEC §3) with a trapdoor α drawn from
// rand (use crypto/rand.Reader). α and its powers are overwritten before
// Setup returns and are never stored or exposed.
func Setup(n int, rand io.Reader, opts ...SetupOption) (*CRS, error) {
	cfg := setupConfig{maxN: MaxN}
	for _, o := range opts {
		o(&cfg)
	}
	if n < 1 || n > cfg.maxN {
		return nil, fmt.Errorf("commitment: setup: capacity %d outside [1, %d]: %w", n, cfg.maxN, ErrInvalidInput)
	}
	if rand == nil {
		return nil, fmt.Errorf("commitment: setup: nil randomness source: %w", ErrInvalidInput)
	}
	alpha, err := sampleNonZero(rand)
	if err != nil {
		return nil, fmt.Errorf("commitment: setup: %w", err)
	}

	// exps = α¹…αⁿ, α^{n+2}…α^{2n} (α^{n+1} is never computed into a point).
	exps := crsPowers(&alpha, n)
	alpha.SetZero()
	defer func() {
		for i := range exps {
			exps[i].SetZero()
		}
	}()

	_, _, gen1, gen2 := bls.Generators()
	total := len(exps) + n
	done := 0
	report := func(k int) {
		done += k
		if cfg.progress != nil {
			cfg.progress(done, total)
		}
	}
	g1 := make([]bls.G1Affine, 2*n)
	g1[0] = gen1
	for lo := 0; lo < len(exps); lo += setupChunk {
		hi := min(lo+setupChunk, len(exps))
		copy(g1[1+lo:], bls.BatchScalarMultiplicationG1(&gen1, exps[lo:hi]))
		report(hi - lo)
	}
	g2 := make([]bls.G2Affine, n+1)
	g2[0] = gen2
	for lo := 0; lo < n; lo += setupChunk {
		hi := min(lo+setupChunk, n)
		copy(g2[1+lo:], bls.BatchScalarMultiplicationG2(&gen2, exps[lo:hi]))
		report(hi - lo)
	}
	return newCRS(n, g1, g2), nil
}

// sampleNonZero reads 64 bytes from r and reduces them modulo the group
// order (bias below 2⁻²⁵⁰), retrying on zero.
func sampleNonZero(r io.Reader) (fr.Element, error) {
	var buf [64]byte
	defer clear(buf[:])
	for range 8 {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return fr.Element{}, fmt.Errorf("read randomness: %w", err)
		}
		var b big.Int
		b.SetBytes(buf[:])
		var e fr.Element
		e.SetBigInt(&b)
		clear(b.Bits())
		if !e.IsZero() {
			return e, nil
		}
	}
	return fr.Element{}, fmt.Errorf("randomness source returned only zeros: %w", ErrInvalidInput)
}

// newCRS wraps checked points and computes the encoding and digest.
func newCRS(n int, g1 []bls.G1Affine, g2 []bls.G2Affine) *CRS {
	c := &CRS{n: n, g1: g1, g2: g2}
	c.enc = encodeBody(n, g1[1:], g2[1:])
	c.digest = digestOf(c.enc)
	c.pk = ProverKey{n: n, g1: g1, g2: g2, digest: c.digest}
	return c
}

// VerifierKey holds the verifier's part of a CRS (SPEC §3–§4): g₁…gₙ,
// ĝ, ĝ₁…ĝₙ, Z = e(g₁, ĝₙ), the prefix sums Sₖ = Σ_{i≤k} ĝ_{n+1−i} and
// a fixed-base table of g₁. It is immutable and safe for
// concurrent use.
type VerifierKey struct {
	n       int
	digest  Digest
	g1      []bls.G1Affine // g, g_1..g_n
	g2      []bls.G2Affine // ĝ, ĝ_1..ĝ_n
	prefix  []bls.G2Affine // S_0 = O, S_1..S_n
	z       bls.GT
	fixedG  *pairing.Fixed
	fixedGn *pairing.Fixed
	g1Table *fixedbase.Table // multiples of g_1, for x·g_1
}

func newVerifierKey(c *CRS) *VerifierKey {
	n := c.n
	vk := &VerifierKey{n: n, digest: c.digest, g1: c.g1[:n+1], g2: c.g2}
	jac := make([]bls.G2Jac, n+1)
	for k := 1; k <= n; k++ {
		jac[k] = jac[k-1]
		jac[k].AddMixed(&c.g2[n+1-k])
	}
	vk.prefix = batchJacobianToAffineG2(jac)
	vk.z, _ = bls.Pair([]bls.G1Affine{c.g1[1]}, []bls.G2Affine{c.g2[n]})
	vk.fixedG = pairing.NewFixed(&c.g2[0])
	vk.fixedGn = pairing.NewFixed(&c.g2[n])
	vk.g1Table = fixedbase.New(&c.g1[1])
	return vk
}

// N returns the capacity of the CRS.
func (vk *VerifierKey) N() int { return vk.n }

// Digest returns the CRS digest.
func (vk *VerifierKey) Digest() Digest { return vk.digest }

// Z returns e(g₁, ĝₙ).
func (vk *VerifierKey) Z() bls.GT { return vk.z }
