package commitment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"sync"
	"unicode"
	"unicode/utf8"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/hash"
	"github.com/vdsproject/vds/internal/pairing"
)

// The CRS ceremony of SPEC §3.1: a transcript starts from any CRS and each
// contribution re-randomises it with a fresh secret τ, so that the final
// trapdoor is α₀·τ₁·…·τₖ and stays unknown as long as one contributor drew
// its τ honestly and erased it.

// Domain tags of the ceremony (SPEC §3.1).
const (
	// tagTranscript hashes the transcript header into h₀.
	tagTranscript = "vds/v1/crs-transcript"
	// tagContribution chains a record into the transcript hash: hⱼ.
	tagContribution = "vds/v1/crs-contribution"
	// tagPoK derives the Schnorr challenge of a contribution.
	tagPoK = "vds/v1/crs-pok"
)

const (
	// MaxContributions is the most records a transcript may hold.
	MaxContributions = 1024
	// MaxContributorName is the longest contributor name, in bytes.
	MaxContributorName = 64
)

// ContributionError reports a transcript record that does not verify. It
// carries the record's 1-based position and the name it claims, and wraps
// [ErrInvalidCRS].
type ContributionError struct {
	Index  int    // 1-based position of the bad record
	Name   string // the name the record claims
	Reason string // what does not hold
}

func (e *ContributionError) Error() string {
	return fmt.Sprintf("commitment: contribution %d (%q): %s", e.Index, e.Name, e.Reason)
}

// Unwrap returns ErrInvalidCRS.
func (e *ContributionError) Unwrap() error { return ErrInvalidCRS }

// Contribution describes one contribution of a transcript.
type Contribution struct {
	// Index is the 1-based position of the contribution in the transcript.
	Index int
	// Name is the contributor's self-declared name: nothing authenticates
	// it; a contributor vouches for its record by publishing Hash.
	Name string
	// Hash is the transcript hash hⱼ after this contribution (SPEC §3.1).
	Hash [32]byte
}

// Receipt is what [Contribute] returns to the contributor.
type Receipt struct {
	Contribution
	// Digest is the digest of the CRS after the contribution.
	Digest Digest
}

// record is one contribution as it appears in a transcript.
type record struct {
	name  string
	g1    bls.G1Affine // g₁ after the contribution: τ·g₁(prev)
	tauG2 bls.G2Affine // τ·ĝ
	r     bls.G1Affine // Schnorr commitment ρ·g₁(prev)
	s     fr.Element   // Schnorr response ρ + c·τ
}

// transcript is a decoded transcript; only [LoadTranscript] turns one into a
// verified [Transcript].
type transcript struct {
	n          int
	initDigest Digest
	initG1     bls.G1Affine
	records    []record
	final      *CRS
}

// Transcript is a verified CRS ceremony transcript (SPEC §3.1): every
// contribution proves knowledge of its secret and re-randomises the CRS
// before it, and the final CRS has the structure of SPEC §3.
type Transcript struct {
	t      transcript
	hashes [][32]byte // h₁…hₖ
}

// CRS returns the final CRS of the transcript.
func (t *Transcript) CRS() *CRS { return t.t.final }

// InitialDigest returns the digest of the CRS the ceremony started from.
func (t *Transcript) InitialDigest() Digest { return t.t.initDigest }

// Contributions lists the contributions in order.
func (t *Transcript) Contributions() []Contribution {
	out := make([]Contribution, len(t.t.records))
	for i := range out {
		out[i] = Contribution{Index: i + 1, Name: t.t.records[i].name, Hash: t.hashes[i]}
	}
	return out
}

// MarshalBinary returns the transcript file (SPEC §3.1).
func (t *Transcript) MarshalBinary() ([]byte, error) { return t.t.encode() }

// CheckContributorName reports whether name may stand in a contribution
// record: 1 to [MaxContributorName] bytes of valid UTF-8, printable
// characters only (spaces allowed, no control or format characters).
func CheckContributorName(name string) error {
	if len(name) == 0 || len(name) > MaxContributorName {
		return fmt.Errorf("commitment: contributor name of %d bytes, want 1 to %d: %w", len(name), MaxContributorName, ErrInvalidInput)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("commitment: contributor name is not valid UTF-8: %w", ErrInvalidInput)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("commitment: contributor name has the non-printable character %U: %w", r, ErrInvalidInput)
		}
	}
	return nil
}

// initialHash returns h₀ = H("vds/v1/crs-transcript", version ‖ n ‖
// initial digest ‖ initial g₁).
func (t *transcript) initialHash() [32]byte {
	g := t.initG1.Bytes()
	return hash.Sum(tagTranscript, t.headerBytes()[len(transcriptMagic):], g[:])
}

// headerBytes returns magic ‖ version ‖ n ‖ initial digest (without g₁ and
// the count).
func (t *transcript) headerBytes() []byte {
	b := make([]byte, 0, len(transcriptMagic)+8+32)
	b = append(b, transcriptMagic[:]...)
	b = binary.BigEndian.AppendUint32(b, TranscriptVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(t.n))
	return append(b, t.initDigest[:]...)
}

// nextHash returns hⱼ = H("vds/v1/crs-contribution", hⱼ₋₁, record bytes).
func nextHash(prev [32]byte, rec *record) [32]byte {
	return hash.Sum(tagContribution, prev[:], rec.appendTo(nil))
}

// challenge returns the Schnorr challenge c = HFr("vds/v1/crs-pok", hⱼ₋₁,
// name, g₁(prev), g₁(new), τ·ĝ, R).
func challenge(prevHash [32]byte, name string, prevG1, g1 *bls.G1Affine, tauG2 *bls.G2Affine, r *bls.G1Affine) fr.Element {
	p, g, t, rb := prevG1.Bytes(), g1.Bytes(), tauG2.Bytes(), r.Bytes()
	return hash.ToFr1(tagPoK, prevHash[:], []byte(name), p[:], g[:], t[:], rb[:])
}

// verifyRecords checks every record against the one before it (SPEC §3.1)
// and that the final CRS continues the last record, and returns h₁…hₖ. It
// does not check the final CRS's structure (Load does).
func (t *transcript) verifyRecords() ([][32]byte, error) {
	if len(t.records) == 0 || len(t.records) > MaxContributions {
		return nil, fmt.Errorf("commitment: transcript with %d contributions, want 1 to %d: %w", len(t.records), MaxContributions, ErrInvalidCRS)
	}
	if t.final == nil || t.final.n != t.n {
		return nil, fmt.Errorf("commitment: final CRS capacity differs from the transcript's %d: %w", t.n, ErrInvalidCRS)
	}
	_, _, _, gen2 := bls.Generators()
	seenG1 := map[[g1Size]byte]int{t.initG1.Bytes(): 0}
	seenTau := map[[g2Size]byte]int{}
	hashes := make([][32]byte, len(t.records))
	h := t.initialHash()
	prev := t.initG1
	var chk pairing.Check
	ghat := pairing.NewFixed(&gen2)
	for i := range t.records {
		rec := &t.records[i]
		fail := func(format string, a ...any) error {
			return &ContributionError{Index: i + 1, Name: rec.name, Reason: fmt.Sprintf(format, a...)}
		}
		if err := CheckContributorName(rec.name); err != nil {
			return nil, fail("%v", err)
		}
		if rec.tauG2.Equal(&gen2) {
			return nil, fail("its secret is 1: the CRS is unchanged")
		}
		gb := rec.g1.Bytes()
		if j, dup := seenG1[gb]; dup {
			if j == 0 {
				return nil, fail("returns the CRS to the initial CRS (the contributions so far cancel out)")
			}
			return nil, fail("returns the CRS to its state after contribution %d (the contributions since cancel out)", j)
		}
		seenG1[gb] = i + 1
		tb := rec.tauG2.Bytes()
		if j, dup := seenTau[tb]; dup {
			return nil, fail("reuses the secret of contribution %d", j)
		}
		seenTau[tb] = i + 1
		// Proof of knowledge of τ with g₁(new) = τ·g₁(prev): s·g₁(prev) = R + c·g₁(new).
		c := challenge(h, rec.name, &prev, &rec.g1, &rec.tauG2, &rec.r)
		var lhs, rhs, cg bls.G1Jac
		lhs.FromAffine(&prev)
		lhs.ScalarMultiplication(&lhs, frToBig(&rec.s))
		cg.FromAffine(&rec.g1)
		cg.ScalarMultiplication(&cg, frToBig(&c))
		rhs.FromAffine(&rec.r)
		rhs.AddAssign(&cg)
		if !lhs.Equal(&rhs) {
			return nil, fail("proof of knowledge of its secret does not verify")
		}
		// The same τ in both groups: e(g₁(new), ĝ) = e(g₁(prev), τ·ĝ).
		chk.Equation()
		chk.AddFixed(&rec.g1, ghat)
		var negPrev bls.G1Affine
		negPrev.Neg(&prev)
		chk.Add(&negPrev, &rec.tauG2)
		h = nextHash(h, rec)
		hashes[i] = h
		prev = rec.g1
	}
	if err := chk.Verify(); err != nil {
		// Find the culprit: one pairing check per record.
		prev = t.initG1
		for i := range t.records {
			rec := &t.records[i]
			var negPrev bls.G1Affine
			negPrev.Neg(&prev)
			ok, err := bls.PairingCheck([]bls.G1Affine{rec.g1, negPrev}, []bls.G2Affine{gen2, rec.tauG2})
			if err != nil || !ok {
				return nil, &ContributionError{Index: i + 1, Name: rec.name, Reason: "its G2 secret differs from the one applied to g₁"}
			}
			prev = rec.g1
		}
		return nil, fmt.Errorf("commitment: contribution pairing check failed: %w", ErrInvalidCRS)
	}
	if !t.final.g1[1].Equal(&prev) {
		return nil, fmt.Errorf("commitment: the final CRS's g₁ is not the last contribution's: %w", ErrInvalidCRS)
	}
	return hashes, nil
}

// LoadTranscript reads a ceremony transcript (SPEC §3.1) and verifies all of
// it: the encoding, every record's proof of knowledge and pairing relation,
// that no contribution has secret 1, reuses an earlier secret or returns the
// CRS to an earlier state, that the final CRS continues the last record, and
// the final CRS with every check of [Load] (points in the subgroup,
// structure). It accepts [WithMaxN]; [WithPinnedDigest] makes it refuse a
// final CRS with another digest but does not skip any check. Failures wrap
// [ErrInvalidEncoding], [ErrInvalidCRS] (a [*ContributionError] names the
// record) or [ErrCRSMismatch].
func LoadTranscript(r io.Reader, opts ...LoadOption) (*Transcript, error) {
	cfg := loadConfig{maxN: MaxN}
	for _, o := range opts {
		o(&cfg)
	}
	data, err := readCapped(r, cfg.maxN)
	if err != nil {
		return nil, fmt.Errorf("commitment: load transcript: %w", err)
	}
	t, err := decodeTranscript(data, cfg.maxN, true)
	if err != nil {
		return nil, fmt.Errorf("commitment: load transcript: %w", err)
	}
	if cfg.pinned != nil && t.final.digest != *cfg.pinned {
		return nil, &MismatchError{Want: *cfg.pinned, Got: t.final.digest}
	}
	hashes, err := t.verifyRecords()
	if err != nil {
		return nil, fmt.Errorf("commitment: load transcript: %w", err)
	}
	return &Transcript{t: *t, hashes: hashes}, nil
}

// Contribute reads a CRS file (SPEC §3) or a ceremony transcript (SPEC §3.1)
// from r, re-randomises its final CRS with a fresh secret τ drawn from rand
// (use crypto/rand.Reader), and writes to w the transcript extended with a
// record for name. τ and its powers are overwritten before Contribute
// returns and are never stored or exposed.
//
// Contribute checks the records it is given (proofs, pairing relations) and
// that the final CRS's points are on the curve, but not the final CRS's
// subgroup membership and structure, which cost as much as the contribution
// itself: a bad input gives a transcript that [LoadTranscript] rejects, and
// its τ is then worthless. Verify a transcript before trusting it. It
// accepts [WithProgress], called with the points computed so far.
func Contribute(r io.Reader, w io.Writer, name string, rand io.Reader, opts ...SetupOption) (*Receipt, error) {
	cfg := setupConfig{maxN: MaxN}
	for _, o := range opts {
		o(&cfg)
	}
	if err := CheckContributorName(name); err != nil {
		return nil, fmt.Errorf("commitment: contribute: %w", err)
	}
	if rand == nil {
		return nil, fmt.Errorf("commitment: contribute: nil randomness source: %w", ErrInvalidInput)
	}
	data, err := readCapped(r, cfg.maxN)
	if err != nil {
		return nil, fmt.Errorf("commitment: contribute: %w", err)
	}
	var t *transcript
	if bytes.HasPrefix(data, fileMagic[:]) {
		crs, err := Load(bytes.NewReader(data), loadUnchecked(fileDigestOf(data)), WithMaxN(cfg.maxN))
		if err != nil {
			return nil, fmt.Errorf("commitment: contribute: %w", err)
		}
		t = &transcript{n: crs.n, initDigest: crs.digest, initG1: crs.g1[1], final: crs}
	} else {
		if t, err = decodeTranscript(data, cfg.maxN, false); err != nil {
			return nil, fmt.Errorf("commitment: contribute: %w", err)
		}
		if _, err := t.verifyRecords(); err != nil {
			return nil, fmt.Errorf("commitment: contribute: input transcript: %w", err)
		}
	}
	if len(t.records) >= MaxContributions {
		return nil, fmt.Errorf("commitment: contribute: transcript already holds %d contributions: %w", len(t.records), ErrTooLarge)
	}
	h := t.initialHash()
	for i := range t.records {
		h = nextHash(h, &t.records[i])
	}

	tau, err := sampleNonZero(rand)
	if err != nil {
		return nil, fmt.Errorf("commitment: contribute: %w", err)
	}
	defer tau.SetZero()
	if tau.IsOne() {
		return nil, fmt.Errorf("commitment: contribute: drew the secret 1: %w", ErrInvalidInput)
	}
	prev := t.final
	next := rerandomise(prev, &tau, cfg.progress)
	rec, err := prove(h, name, &prev.g1[1], next, &tau, rand)
	if err != nil {
		return nil, fmt.Errorf("commitment: contribute: %w", err)
	}
	t.records = append(t.records, rec)
	t.final = next
	out, err := t.encode()
	if err != nil {
		return nil, fmt.Errorf("commitment: contribute: %w", err)
	}
	if _, err := w.Write(out); err != nil {
		return nil, fmt.Errorf("commitment: contribute: write: %w", err)
	}
	return &Receipt{
		Contribution: Contribution{Index: len(t.records), Name: name, Hash: nextHash(h, &rec)},
		Digest:       next.digest,
	}, nil
}

// prove builds the record of a contribution with secret τ: τ·ĝ and a
// Schnorr proof of knowledge of τ for g₁(new) = τ·g₁(prev), with a
// Fiat–Shamir challenge bound to the transcript hash h.
func prove(h [32]byte, name string, prevG1 *bls.G1Affine, next *CRS, tau *fr.Element, rand io.Reader) (record, error) {
	rec := record{name: name, g1: next.g1[1]}
	tb := frToBig(tau)
	defer clear(tb.Bits())
	_, _, _, gen2 := bls.Generators()
	rec.tauG2.ScalarMultiplication(&gen2, tb)
	rho, err := sampleNonZero(rand)
	if err != nil {
		return record{}, err
	}
	defer rho.SetZero()
	rb := frToBig(&rho)
	defer clear(rb.Bits())
	rec.r.ScalarMultiplication(prevG1, rb)
	c := challenge(h, name, prevG1, &rec.g1, &rec.tauG2, &rec.r)
	rec.s.Mul(&c, tau).Add(&rec.s, &rho)
	return rec, nil
}

// crsPowers returns x¹…xⁿ, x^{n+2}…x^{2n} (the exponents of g₁…g_{2n}
// without g_{n+1}) by prefix products. The caller zeroes them after use.
func crsPowers(x *fr.Element, n int) []fr.Element {
	exps := make([]fr.Element, 2*n-1)
	var acc fr.Element
	acc.Set(x)
	for k := 1; k <= 2*n; k++ {
		switch {
		case k <= n:
			exps[k-1] = acc
		case k >= n+2:
			exps[k-2] = acc
		}
		acc.Mul(&acc, x)
	}
	acc.SetZero()
	return exps
}

// contributeChunk is the number of points one worker multiplies between two
// progress reports.
const contributeChunk = 1 << 10

// rerandomise returns the CRS with trapdoor α·τ: gᵢ ↦ τⁱ·gᵢ for
// i ∈ [1, 2n] \ {n+1} and ĝᵢ ↦ τⁱ·ĝᵢ for i ∈ [1, n], using every CPU.
func rerandomise(prev *CRS, tau *fr.Element, progress func(done, total int)) *CRS {
	n := prev.n
	exps := crsPowers(tau, n)
	defer func() {
		for i := range exps {
			exps[i].SetZero()
		}
	}()

	g1 := make([]bls.G1Affine, 2*n)
	g2 := make([]bls.G2Affine, n+1)
	g1[0], g2[0] = prev.g1[0], prev.g2[0]
	nG1, total := 2*n-1, 2*n-1+n

	// Jobs are chunks of indices into [0, total): G1 points first, then G2.
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b big.Int
			defer func() { clear(b.Bits()) }()
			for lo := range jobs {
				hi := min(lo+contributeChunk, total)
				if lo < nG1 {
					hi = min(hi, nG1)
					jac := make([]bls.G1Jac, hi-lo)
					for i := lo; i < hi; i++ {
						jac[i-lo].FromAffine(&prev.g1[1+i])
						jac[i-lo].ScalarMultiplication(&jac[i-lo], exps[i].BigInt(&b))
					}
					copy(g1[1+lo:], bls.BatchJacobianToAffineG1(jac))
				} else {
					jac := make([]bls.G2Jac, hi-lo)
					for i := lo; i < hi; i++ {
						k := i - nG1 // ĝ_{k+1}, exponent τ^{k+1} = exps[k]
						jac[i-lo].FromAffine(&prev.g2[1+k])
						jac[i-lo].ScalarMultiplication(&jac[i-lo], exps[k].BigInt(&b))
					}
					copy(g2[1+lo-nG1:], batchJacobianToAffineG2(jac))
				}
				done <- hi - lo
			}
		}()
	}
	go func() {
		// Chunks never straddle the G1/G2 boundary.
		for lo := 0; lo < nG1; lo += contributeChunk {
			jobs <- lo
		}
		for lo := nG1; lo < total; lo += contributeChunk {
			jobs <- lo
		}
		close(jobs)
		wg.Wait()
		close(done)
	}()
	count := 0
	for k := range done {
		count += k
		if progress != nil {
			progress(count, total)
		}
	}
	return newCRS(n, g1, g2)
}
