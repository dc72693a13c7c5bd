// Package merkle implements the Merkle trees of SPEC §11.2: the RFC 6962
// tree shape (a tree over n > 1 leaves splits at the largest power of two
// below n) with the domain-separated hash H of SPEC §2, and range proofs
// that recompute a root from a contiguous run of leaves and the hashes of
// the maximal subtrees outside it (O(log n) hashes).
package merkle

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/vdsproject/vds/internal/errs"
	"github.com/vdsproject/vds/internal/hash"
)

// Hash is a node or leaf hash.
type Hash = [32]byte

// Domain tags of the tree (SPEC §11.2).
const (
	TagNode  = "vds/v1/merkle-node"
	TagEmpty = "vds/v1/merkle-empty"
)

// ErrBadRange is returned (wrapping errs.ErrBadProof) when a range proof
// does not fit its tree.
var ErrBadRange = fmt.Errorf("merkle: range proof does not fit the tree: %w", errs.ErrBadProof)

// Empty returns the root of the empty tree.
func Empty() Hash { return hash.Sum(TagEmpty) }

// node returns H("vds/v1/merkle-node", l, r).
func node(l, r *Hash) Hash { return hash.Sum(TagNode, l[:], r[:]) }

// split returns the largest power of two strictly below n (n ≥ 2).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// Root returns the root over the leaf hashes.
func Root(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Empty()
	}
	return root(leaves)
}

func root(leaves []Hash) Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := split(len(leaves))
	l, r := root(leaves[:k]), root(leaves[k:])
	return node(&l, &r)
}

// RangeProof returns the proof that leaves[lo..hi] (inclusive) are the
// leaves at those positions: the roots of the maximal subtrees that lie
// outside [lo, hi], in left-to-right order.
func RangeProof(leaves []Hash, lo, hi int) ([]Hash, error) {
	if lo < 0 || hi < lo || hi >= len(leaves) {
		return nil, fmt.Errorf("merkle: range %d..%d of %d leaves: %w", lo, hi, len(leaves), errs.ErrInvalidInput)
	}
	var proof []Hash
	var walk func(off int, sub []Hash)
	walk = func(off int, sub []Hash) {
		end := off + len(sub) - 1
		switch {
		case end < lo || off > hi: // entirely outside
			proof = append(proof, root(sub))
		case off >= lo && end <= hi: // entirely inside: the verifier has it
		default:
			k := split(len(sub))
			walk(off, sub[:k])
			walk(off+k, sub[k:])
		}
	}
	walk(0, leaves)
	return proof, nil
}

// RangeRoot recomputes the root of a tree of n leaves from the leaves at
// positions lo..lo+len(run)−1 and their range proof. It fails with an error
// wrapping ErrBadRange (and so errs.ErrBadProof) if the proof has the wrong
// number of hashes for that range; comparing the result with a trusted root
// is the caller's job.
func RangeRoot(n, lo int, run, proof []Hash) (Hash, error) {
	hi := lo + len(run) - 1
	if n < 1 || lo < 0 || len(run) == 0 || hi >= n {
		return Hash{}, fmt.Errorf("merkle: range %d..%d of %d leaves: %w", lo, hi, n, ErrBadRange)
	}
	used := 0
	var bad error
	var walk func(off, size int) Hash
	walk = func(off, size int) Hash {
		end := off + size - 1
		switch {
		case end < lo || off > hi:
			if used == len(proof) {
				bad = ErrBadRange
				return Hash{}
			}
			used++
			return proof[used-1]
		case off >= lo && end <= hi:
			return root(run[off-lo : off-lo+size])
		}
		k := split(size)
		l := walk(off, k)
		r := walk(off+k, size-k)
		return node(&l, &r)
	}
	h := walk(0, n)
	if bad != nil || used != len(proof) {
		return Hash{}, fmt.Errorf("merkle: %d proof hashes for range %d..%d of %d leaves: %w", len(proof), lo, hi, n, errors.Join(bad, ErrBadRange))
	}
	return h, nil
}

// MaxProof is the most hashes a range proof can hold for a tree of n
// leaves: two per level.
func MaxProof(n int) int { return 2 * bits.Len(uint(n)) }
