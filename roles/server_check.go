package roles

import (
	"fmt"

	"github.com/vdsproject/vds/internal/hash"
)

// Hooks for transports: what a server's limits are, and a check of a
// signed header on its own, so that a transport can refuse an unsigned
// batch before it decodes the batch's data.

// CheckHeader checks a signed header as StoreBatch and UpdateBatch do —
// its structure against the capacity and the limits, its parameters, its
// commitments and the owner's signature — and returns the batch id. It
// does not look at the store.
func (s *StorageServer) CheckHeader(sh *SignedHeader) (BatchID, error) {
	return verifyHeader(sh, s.CRSDigest(), s.keys(), s.ownerID, s.pk.N(), s.cfg.limits)
}

// Capacity returns the batch capacity n of the server's CRS.
func (s *StorageServer) Capacity() int { return s.pk.N() }

// Limits returns the limits the server applies to requests.
func (s *StorageServer) Limits() Limits { return s.cfg.limits }

// Capacity returns the batch capacity n of the verifier's CRS.
func (v *Verifier) Capacity() int { return v.vk.N() }

// Limits returns the limits the verifier applies to answers.
func (v *Verifier) Limits() Limits { return v.cfg.limits }

// Limits returns the limits the owner applies to new batches.
func (o *DataOwner) Limits() Limits { return o.cfg.limits }

// CheckHeaderSignature checks the owner's signature over a header given as
// its encoding: the signature of SPEC §5 is over H("vds/v1/header",
// canonical encoding), so a header whose bytes are signed is one the owner
// made, and can be decoded in full. Transports call it before they decode
// a header's points, so that only the owner can make the server decode
// them. It checks nothing else: decode the header and call CheckHeader.
func (s *StorageServer) CheckHeaderSignature(encoded []byte, keyID string, sig []byte) error {
	id := BatchID(hash.Sum(hash.TagHeader, encoded))
	if err := verifySig(s.keys(), keyID, id[:], sig); err != nil {
		return fmt.Errorf("vds: header of batch %s: %w", id.Short(), err)
	}
	return nil
}
