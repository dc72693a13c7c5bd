package roles

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/hash"
)

// FormatVersion is the version of every signed object and message (SPEC v1).
const FormatVersion = 1

// BatchID identifies a batch: its digest D = H("vds/v1/header", header) of
// SPEC §5. It encodes as a 32-byte CBOR byte string.
type BatchID [32]byte

// String returns the id in lower-case hex, the form SPEC §5 calls the batch id.
func (id BatchID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 12 hex digits, for messages.
func (id BatchID) Short() string { return id.String()[:12] }

// ParseBatchID parses the hex form of a batch id.
func ParseBatchID(s string) (BatchID, error) {
	var id BatchID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, invalid("batch id", "%q is not 64 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// Hash is a 32-byte digest: of a state (the chain link), of an owner's
// accumulator key (the owner id), of a CRS.
type Hash [32]byte

// String returns the digest in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ColumnInfo names a data column, its fixed-point scale — a stored integer
// v means v·10^(−Scale) — and the bound |v| < 2^Bits every value of the
// batch satisfies (SPEC §5).
type ColumnInfo struct {
	Name  string `cbor:"name"`
	Scale uint8  `cbor:"scale"`
	Bits  uint8  `cbor:"bits"`
}

// Header is what the data owner signs for a batch (SPEC §5).
type Header struct {
	Format     uint16       `cbor:"fmt"`
	CRS        Hash         `cbor:"crs"`   // CRS digest
	Owner      Hash         `cbor:"owner"` // OwnerKeys.ID of the owner
	KeyID      string       `cbor:"kid"`   // signing key
	Stream     string       `cbor:"stream"`
	Seq        uint64       `cbor:"seq"` // sequence number within the stream
	Version    uint32       `cbor:"ver"` // 0, then +1 per update
	Rows       uint32       `cbor:"rows"`
	Columns    []ColumnInfo `cbor:"cols"`
	FirstTime  uint64       `cbor:"t0"`
	LastTime   uint64       `cbor:"t1"`
	TimeCommit codec.G2     `cbor:"tc"` // Ĉ
	Commits    []codec.G1   `cbor:"c"`  // C_1..C_k
}

// SignedHeader is a header with the owner's Ed25519 signature over its
// digest.
type SignedHeader struct {
	Header Header `cbor:"h"`
	Sig    []byte `cbor:"sig"`
}

// Digest returns D = H("vds/v1/header", canonical encoding of h), the batch
// id (SPEC §5).
func (h *Header) Digest() (BatchID, error) {
	b, err := codec.Default().Marshal(h)
	if err != nil {
		return BatchID{}, fmt.Errorf("encode header: %w", err)
	}
	return hash.Sum(hash.TagHeader, b), nil
}

// Column returns the index of the named column.
func (h *Header) Column(name string) (int, bool) {
	for i, c := range h.Columns {
		if c.Name == name {
			return i, true
		}
	}
	return 0, false
}

// Element returns the accumulator element y = HFr("vds/v1/acc", D) of the
// batch (SPEC §6).
func (id BatchID) Element() fr.Element { return accumulator.Element(id) }

// Revocation names the batch a state revokes and its accumulator element.
type Revocation struct {
	X     codec.Scalar `cbor:"x"`     // x_E = HFr("vds/v1/acc", D)
	Batch BatchID      `cbor:"batch"` // D
}

// State is the revocation state of epoch E (SPEC §6): the accumulator value
// f_E, what epoch E revoked, and the digest of State_{E−1}. Its digest chains
// the states; the signature (in SignedState) also covers an issue time so the
// owner can re-sign the latest state to show it is fresh.
type State struct {
	Format  uint16      `cbor:"fmt"`
	CRS     Hash        `cbor:"crs"`
	Owner   Hash        `cbor:"owner"`
	Epoch   uint64      `cbor:"epoch"`
	Acc     codec.G1    `cbor:"f"`
	Revoked *Revocation `cbor:"rev,omitempty"` // nil exactly at epoch 0
	Prev    Hash        `cbor:"prev"`          // zero at epoch 0
}

// Digest returns H("vds/v1/state", canonical encoding of s).
func (s *State) Digest() (Hash, error) {
	b, err := codec.Default().Marshal(s)
	if err != nil {
		return Hash{}, fmt.Errorf("encode state: %w", err)
	}
	return hash.Sum(hash.TagState, b), nil
}

// SignedState is a state with its issue time, the owner's streams at that
// time (SPEC §11.2) and the owner's signature over
// H("vds/v1/state-sig", state digest, issued_at, key id, head root,
// head streams, head entries).
type SignedState struct {
	State    State      `cbor:"s"`
	IssuedAt int64      `cbor:"iat"` // Unix milliseconds
	Head     StreamHead `cbor:"head"`
	KeyID    string     `cbor:"kid"`
	Sig      []byte     `cbor:"sig"`
	// Keys are the owner's key handovers so far, oldest first (SPEC §6.3);
	// none before the first rotation.
	Keys []Handover `cbor:"keys,omitempty"`
}

// stateMessage returns what the owner signs for a state: with handovers,
// their digest is one more part (SPEC §6.3).
func stateMessage(d Hash, issuedAt int64, keyID string, head *StreamHead, owner Hash, keys []Handover) []byte {
	parts := [][]byte{d[:], hash.U64(uint64(issuedAt)), []byte(keyID),
		head.Root[:], hash.U64(head.Streams), hash.U64(head.Entries)}
	if len(keys) > 0 {
		parts = append(parts, handoversDigest(owner, keys))
	}
	m := hash.Sum(hash.TagStateSig, parts...)
	return m[:]
}

// SigningKey is one of an owner's Ed25519 public keys.
type SigningKey struct {
	ID  string `cbor:"id"`
	Key []byte `cbor:"key"` // ed25519.PublicKey
	// Since is the handover that made the key, Retired the one that retired
	// it (SPEC §6.3); nil for a key the owner started with / one in use.
	Since   *KeyTime `cbor:"since,omitempty"`
	Retired *KeyTime `cbor:"ret,omitempty"`
}

// OwnerKeys are a data owner's public keys: the accumulator key ĝ^s, which
// identifies the owner for the life of its accumulator, and the Ed25519 keys
// that may sign its headers and states (several while a key rotates).
type OwnerKeys struct {
	Accumulator codec.G2     `cbor:"acc"`
	Signing     []SigningKey `cbor:"sig"`
}

// ID returns H("vds/v1/owner", ĝ^s): the owner id written into headers and
// states.
func (k *OwnerKeys) ID() Hash {
	b := (*bls.G2Affine)(&k.Accumulator).Bytes()
	return hash.Sum(hash.TagOwner, b[:])
}

// Key returns the signing key with the given id.
func (k *OwnerKeys) Key(id string) (ed25519.PublicKey, bool) {
	for _, s := range k.Signing {
		if s.ID == id && len(s.Key) == ed25519.PublicKeySize {
			return ed25519.PublicKey(s.Key), true
		}
	}
	return nil, false
}

// Check validates the key set.
func (k *OwnerKeys) Check() error {
	p := (*bls.G2Affine)(&k.Accumulator)
	if p.IsInfinity() || !p.IsOnCurve() || !p.IsInSubGroup() {
		return invalid("owner keys", "accumulator key is not a valid G2 point")
	}
	if len(k.Signing) == 0 {
		return invalid("owner keys", "no signing key")
	}
	for _, s := range k.Signing {
		if len(s.Key) != ed25519.PublicKeySize {
			return invalid("owner keys", "signing key %q has %d bytes", s.ID, len(s.Key))
		}
		if s.ID != KeyID(ed25519.PublicKey(s.Key)) {
			return invalid("owner keys", "signing key id %q does not match its key", s.ID)
		}
	}
	return nil
}

// KeyID returns the id of an Ed25519 public key: the first 8 bytes of
// H("vds/v1/key", key), in hex.
func KeyID(pub ed25519.PublicKey) string {
	h := hash.Sum(hash.TagKeyID, pub)
	return hex.EncodeToString(h[:8])
}

// BatchData is what the storage server needs to answer queries on a batch
// (SPEC §5): the timestamps, the columns as field elements, and the
// commitment randomness γ₁…γ_k, γ'. It is secret to the owner and the
// storage server.
type BatchData struct {
	Times     []uint64             `cbor:"t"`
	Columns   []codec.ScalarVector `cbor:"cols"`
	Gammas    []codec.Scalar       `cbor:"g"`
	TimeGamma codec.Scalar         `cbor:"tg"`
}

// StoreBatchRequest asks the storage server to store a new batch, with
// the owner's latest state re-signed with the stream head that includes it
// (SPEC §11.2).
type StoreBatchRequest struct {
	Header SignedHeader `cbor:"hdr"`
	Data   BatchData    `cbor:"data"`
	State  *SignedState `cbor:"state,omitempty"`
}

// UpdateBatchRequest asks the storage server to apply the state that
// revokes a batch's old version and to store the new version, atomically.
type UpdateBatchRequest struct {
	State  SignedState  `cbor:"state"`
	Header SignedHeader `cbor:"hdr"`
	Data   BatchData    `cbor:"data"`
}

// QueryKind selects the weights of a query (SPEC §7).
type QueryKind uint8

// Query kinds.
const (
	QueryPoint    QueryKind = 1 // one row
	QueryRange    QueryKind = 2 // the sum over rows From..To
	QueryWeighted QueryKind = 3 // Σ wᵢ mᵢ with explicit weights
	QueryWindow   QueryKind = 4 // the sum over the rows with TimeFrom ≤ t ≤ TimeTo
	QueryAudit    QueryKind = 5 // an audit with a fresh nonce
)

func (k QueryKind) String() string {
	switch k {
	case QueryPoint:
		return "point"
	case QueryRange:
		return "range"
	case QueryWeighted:
		return "weighted"
	case QueryWindow:
		return "window"
	case QueryAudit:
		return "audit"
	}
	return fmt.Sprintf("QueryKind(%d)", uint8(k))
}

// Query asks for values of one batch. Rows are numbered from 1.
type Query struct {
	Batch    BatchID            `cbor:"batch"`
	Kind     QueryKind          `cbor:"kind"`
	Columns  []string           `cbor:"cols"`
	Row      uint32             `cbor:"row,omitempty"`  // QueryPoint
	From     uint32             `cbor:"from,omitempty"` // QueryRange
	To       uint32             `cbor:"to,omitempty"`   // QueryRange
	Weights  codec.ScalarVector `cbor:"w,omitzero"`     // QueryWeighted: w_1..w_len
	TimeFrom uint64             `cbor:"tfrom,omitempty"`
	TimeTo   uint64             `cbor:"tto,omitempty"`
	Nonce    []byte             `cbor:"nonce,omitempty"` // QueryAudit
}

// WitnessWire is a non-membership witness (w, u) on the wire; w may be the
// identity (SPEC §2).
type WitnessWire struct {
	W codec.G1OrIdentity `cbor:"w"`
	U codec.Scalar       `cbor:"u"`
}

// WindowProof carries the rows First..Last (Last = First−1 for an empty
// window) that a time window selects, the timestamps at its boundary rows
// (SPEC §7) and one opening of Ĉ for them.
type WindowProof struct {
	First uint32   `cbor:"i0"`
	Last  uint32   `cbor:"i1"`
	Times []uint64 `cbor:"t"` // t at BoundaryRows(First, Last, L), in order
	Proof codec.G1 `cbor:"pi"`
}

// Answer is the storage server's answer to a query (SPEC §7): the signed
// header, the epoch and non-membership witness, the values (one per queried
// column) and one proof — plus the boundary openings of a time window.
type Answer struct {
	Query   Query          `cbor:"q"`
	Header  SignedHeader   `cbor:"hdr"`
	Epoch   uint64         `cbor:"epoch"`
	Witness WitnessWire    `cbor:"wit"`
	Values  []codec.Scalar `cbor:"x"`
	Proof   *codec.G1      `cbor:"pi,omitempty"` // absent only for an empty window
	Window  *WindowProof   `cbor:"tw,omitempty"`
}

// BatchInfo summarises a stored batch.
type BatchInfo struct {
	ID        BatchID `cbor:"id"`
	Stream    string  `cbor:"stream"`
	Seq       uint64  `cbor:"seq"`
	Version   uint32  `cbor:"ver"`
	Rows      uint32  `cbor:"rows"`
	FirstTime uint64  `cbor:"t0"`
	LastTime  uint64  `cbor:"t1"`
	Revoked   bool    `cbor:"revoked,omitempty"`
	// ProofColumns and ProofBytes are what the storage server keeps of
	// precomputed proof tables for the batch (see ProofTableStore): the
	// columns that have one (the timestamps count as a column) and the
	// bytes they take. Stores leave them zero; the server fills them in.
	ProofColumns uint32 `cbor:"ptc,omitempty"`
	ProofBytes   uint64 `cbor:"ptb,omitempty"`
}
