// Package hash implements the domain-separated hashes H and HFr of SPEC §2.
package hash

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Domain tags (SPEC §2): every tag starts with "vds/v1/" and names its use.
const (
	TagCRS         = "vds/v1/crs"
	TagHeader      = "vds/v1/header"
	TagState       = "vds/v1/state"
	TagAccumulator = "vds/v1/acc"
	TagColumns     = "vds/v1/cols"
	TagAudit       = "vds/v1/audit"
	TagTimeWindow  = "vds/v1/tw"
	TagStateSig    = "vds/v1/state-sig"
	TagOwner       = "vds/v1/owner"
	TagKeyID       = "vds/v1/key"
	TagHandover    = "vds/v1/handover"
	TagAuditNonce  = "vds/v1/audit-nonce"
)

// Sum returns H(tag, parts…) = SHA-256(len(tag) ‖ tag ‖ len(p1) ‖ p1 ‖ …),
// every length a big-endian uint64, so distinct part lists never collide.
func Sum(tag string, parts ...[]byte) [32]byte {
	h := sha256.New()
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(tag)))
	h.Write(l[:])
	h.Write([]byte(tag))
	for _, p := range parts {
		binary.BigEndian.PutUint64(l[:], uint64(len(p)))
		h.Write(l[:])
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// maxPerCall is the most field elements one expand_message_xmd call yields:
// 255·32 bytes at 48 bytes per element.
const maxPerCall = 170

// ToFr returns HFr(tag, parts…, count): count field elements derived with
// fr.Hash (RFC 9380 expand_message_xmd, SHA-256) from the length-prefixed
// concatenation of parts, with tag as the domain separation tag. Requests for
// more than 170 elements are served in chunks, each message suffixed with the
// chunk number.
func ToFr(tag string, count int, parts ...[]byte) []fr.Element {
	if count <= 0 {
		return nil
	}
	msg := make([]byte, 0, 64)
	var l [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(l[:], uint64(len(p)))
		msg = append(msg, l[:]...)
		msg = append(msg, p...)
	}
	out := make([]fr.Element, 0, count)
	for chunk := 0; len(out) < count; chunk++ {
		k := min(count-len(out), maxPerCall)
		m := msg
		if count > maxPerCall {
			var c [4]byte
			binary.BigEndian.PutUint32(c[:], uint32(chunk))
			m = append(append([]byte(nil), msg...), c[:]...)
		}
		els, err := fr.Hash(m, []byte(tag), k)
		if err != nil {
			// Only possible for a DST over 255 bytes or an output over 8160
			// bytes, both excluded by construction.
			panic(fmt.Sprintf("hash: fr.Hash: %v", err))
		}
		out = append(out, els...)
	}
	return out
}

// ToFr1 returns the single element HFr(tag, parts…, 1).
func ToFr1(tag string, parts ...[]byte) fr.Element { return ToFr(tag, 1, parts...)[0] }

// U64 returns v as 8 big-endian bytes, a convenience for hash inputs.
func U64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
