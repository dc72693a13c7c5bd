package transport

import (
	"crypto/ed25519"
	"fmt"
	"sync"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// Request limits (SPEC §8). Each method of the services built here carries
// the size of the largest request it can legitimately receive, computed from
// the batch capacity n of the CRS and the roles' Limits, and a codec whose
// structural limits (array lengths, map sizes, nesting) fit that request.
// A server refuses a larger body before reading it, reads the rest through
// the limit, and the codec's well-formedness pass rejects an oversized
// array before any point or scalar in the message is decoded.

// Upper bounds of encoded wire items (core deterministic CBOR, SPEC §8).
const (
	encUint   = 9          // an unsigned integer
	encHash   = 2 + 32     // a 32-byte byte string
	encScalar = 5 + 2 + 32 // tag(bytes(32))
	encG1     = 5 + 2 + 48 // tag(bytes(48))
	encG2     = 5 + 2 + 96 // tag(bytes(96))
	encField  = 24         // a map key (field name) with some room
	encSig    = 2 + ed25519.SignatureSize
)

// encBytes bounds a byte or text string of at most n bytes.
func encBytes(n int) int64 { return 9 + int64(n) }

// encVector bounds a ScalarVector of n scalars.
func encVector(n int) int64 { return 5 + 9 + 32*int64(n) }

// smallRequest bounds requests with no variable part (Empty, BatchRef,
// EpochRange).
const smallRequest = 1 << 10

// sizeHeader bounds a SignedHeader.
func sizeHeader(l roles.Limits) int64 {
	// A column: {name, scale, bits} (three short keys, two uint8 values) and
	// its commitment.
	perColumn := encBytes(l.MaxNameLen) + 1 + 3*6 + 2*2 + encG1
	return 1024 + 2*encBytes(l.MaxNameLen) + int64(l.MaxColumns)*perColumn + encG2 + encSig
}

// sizeState bounds a SignedState (with its stream head).
func sizeState(l roles.Limits) int64 {
	return 1024 + 5*encHash + 2*encUint + encG1 + encScalar + encBytes(l.MaxNameLen) + encSig
}

// sizeQuery bounds a Query on a batch of at most n rows.
func sizeQuery(n int, l roles.Limits) int64 {
	return 1024 + encHash + int64(l.MaxColumns)*encBytes(l.MaxNameLen) + encVector(n) + encBytes(l.MaxNonceLen)
}

// sizeAnswer bounds an Answer.
func sizeAnswer(n int, l roles.Limits) int64 {
	window := int64(256 + 4*encUint + encG1)
	return 1024 + sizeQuery(n, l) + sizeHeader(l) + encG1 + encScalar + int64(l.MaxColumns)*encScalar + encG1 + window
}

// sizeBatchData bounds the BatchData of a batch of at most n rows.
func sizeBatchData(n int, l roles.Limits) int64 {
	return 1024 + int64(n)*encUint + int64(l.MaxColumns)*encVector(n) + int64(l.MaxColumns+1)*encScalar
}

// sizeNewBatch bounds the request of the owner's create_batch.
func sizeNewBatch(n int, l roles.Limits) int64 {
	return 1024 + encBytes(l.MaxNameLen) + int64(n)*encUint + int64(l.MaxColumns)*(3*encField+encBytes(l.MaxNameLen)+int64(n)*encUint)
}

// sizeAppend bounds the request of the owner's append_rows: n rows of
// MaxColumns values each, and the schema.
func sizeAppend(n int, l roles.Limits) int64 {
	row := int64(8) + encUint + encField + int64(l.MaxColumns)*encUint // a map of two short keys
	return 1024 + encBytes(l.MaxNameLen) + int64(l.MaxColumns)*(3*encField+encBytes(l.MaxNameLen)) + int64(n)*row
}

// sizeStreamQuery bounds a StreamQuery.
func sizeStreamQuery(l roles.Limits) int64 {
	return 1024 + encBytes(l.MaxNameLen) + int64(l.MaxColumns)*encBytes(l.MaxNameLen) + 2*encUint
}

// sizeStreamAnswer bounds a StreamAnswer: the state, the completeness proof
// (two Merkle proofs of at most 128 hashes, a run of MaxStreamBatches+2
// entries) and MaxStreamBatches parts.
func sizeStreamAnswer(l roles.Limits) int64 {
	entry := int64(6*8 + 4*encUint + encHash + 1) // six short keys
	part := 64 + sizeHeader(l) + encG1 + encScalar + int64(l.MaxColumns)*encScalar + 64 + 6*encUint
	return 1024 + sizeStreamQuery(l) + sizeState(l) + 2*encHash + 2*encUint + 256*encHash +
		int64(l.MaxStreamBatches+2)*entry + int64(l.MaxStreamBatches)*part + encG1
}

// MaxVerifyStreamBytes caps a verify_stream request of an answer in
// segments (SPEC §11.5): up to MaxStreamSegments of them, but never more
// bytes than this (nor less than one whole answer). Segments of warm
// verifiers (held headers) and of few columns are far smaller.
const MaxVerifyStreamBytes = 32 << 20

// maxVerifyManyBytes caps a verify_many request: up to roles.MaxVerifyMany
// answers, but never more bytes than this.
const maxVerifyManyBytes = 16 << 20

// RequestLimits are the largest requests of every method of the services,
// in bytes, for a batch capacity n and the roles' limits: what the services
// built by StorageService, OwnerService and VerifierService set as their
// methods' MaxRequestBytes.
func RequestLimits(n int, l roles.Limits) map[string]map[string]int64 {
	verify := 1024 + sizeQuery(n, l) + sizeAnswer(n, l)
	store := 1024 + sizeHeader(l) + sizeBatchData(n, l) + sizeState(l)
	return map[string]map[string]int64{
		ServiceStorage: {
			"health": smallRequest, "latest_state": smallRequest, "get_header": smallRequest, "get_states": smallRequest,
			"list_batches":            smallRequest + encBytes(l.MaxNameLen),
			"store_batch":             store,
			"update_batch":            store,
			"add_revoked_item":        sizeState(l),
			"generate_dc_proof":       sizeQuery(n, l),
			"generate_da_proof":       sizeQuery(n, l),
			"generate_time_proofs":    sizeQuery(n, l),
			"generate_stream_proof":   sizeStreamQuery(l),
			"generate_stream_segment": sizeStreamQuery(l) + 64 + int64(roles.MaxHeldBatches)*encHash,
		},
		ServiceOwner: {
			"health": smallRequest, "get_crs": smallRequest, "get_global_pk": smallRequest, "get_states": smallRequest,
			"revoke_batch": smallRequest, "refresh": smallRequest, "rotate_key": smallRequest,
			"create_batch": sizeNewBatch(n, l),
			"append_rows":  sizeAppend(n, l),
			"update_batch": 1024 + sizeNewBatch(n, l),
			"check_update": 1024 + sizeNewBatch(n, l),
		},
		ServiceVerifier: {
			"health":             smallRequest,
			"verify_dc_query":    verify,
			"verify_da_audit":    verify,
			"verify_time_proofs": verify,
			"verify_stream":      min(1024+sizeStreamQuery(l)+int64(l.MaxStreamSegments)*sizeStreamAnswer(l), max(MaxVerifyStreamBytes, 1024+sizeStreamQuery(l)+sizeStreamAnswer(l))),
			"held_batches":       smallRequest + encBytes(l.MaxNameLen),
			"verify_many":        min(1024+int64(roles.MaxVerifyMany)*verify, maxVerifyManyBytes),
			"update_global_pk":   sizeState(l),
		},
	}
}

// requestCodec returns a CBOR codec for requests of at most maxBytes bytes
// whose arrays have at most maxArray elements.
func requestCodec(maxBytes int64, maxArray int) *codec.CBOR {
	c, err := codec.NewCBOR(codec.Limits{
		MaxMessageBytes:  int(maxBytes),
		MaxArrayElements: max(maxArray, 16),
		MaxMapPairs:      32, // the largest struct has 13 fields
	})
	if err != nil {
		panic(fmt.Sprintf("transport: request codec: %v", err)) // the bounds are checked by the callers
	}
	return c
}

// limitMethods sets MaxRequestBytes and a request codec on a service's
// methods: arrays of at most maxArray elements in every request, except the
// methods named in wide, whose arrays may have wide[name] elements. A method
// missing from RequestLimits gets the limit of requests without a variable
// part (fail closed; a test checks that none is missing).
func limitMethods(s *Service, n int, l roles.Limits, maxArray int, wide map[string]int) *Service {
	lim := RequestLimits(n, l)[s.Name]
	for name, m := range s.methods {
		size, ok := lim[name]
		if !ok {
			size = smallRequest
		}
		a := maxArray
		if w, ok := wide[name]; ok {
			a = w
		}
		m.MaxRequestBytes = size
		m.Codec = requestCodec(size, a)
	}
	return s
}

// Server-wide defaults of the concurrency limits.
const (
	// DefaultMaxConcurrent is how many requests a server handles at once
	// by default; beyond it a request gets "unavailable" (HTTP 503) at once,
	// before its body is read.
	DefaultMaxConcurrent = 64
	// DefaultMaxInflightBytes is how many bytes of request bodies a server
	// holds at once by default (a request larger than the budget is still
	// served when it is alone).
	DefaultMaxInflightBytes = 32 << 20
)

// WithMaxConcurrent caps the requests a server handles at once (default
// 64); requests beyond it are refused with ErrUnavailable (HTTP 503) before
// their bodies are read. Clients retry idempotent calls after it.
func WithMaxConcurrent(n int) Option { return func(o *options) { o.maxConcurrent = n } }

// WithMaxInflightBytes caps the bytes of request bodies a server holds at
// once (default 32 MiB), counted from each request's declared length (or
// its method's limit when the length is not declared). A request that
// would exceed it is refused like one above WithMaxConcurrent, unless no
// other request is in flight.
func WithMaxInflightBytes(n int64) Option { return func(o *options) { o.maxInflight = n } }

// gate admits requests within the concurrency limits of a server.
type gate struct {
	mu       sync.Mutex
	n        int
	bytes    int64
	maxN     int
	maxBytes int64
}

func newGate(o *options) *gate {
	g := &gate{maxN: o.maxConcurrent, maxBytes: o.maxInflight}
	if g.maxN <= 0 {
		g.maxN = DefaultMaxConcurrent
	}
	if g.maxBytes <= 0 {
		g.maxBytes = DefaultMaxInflightBytes
	}
	return g
}

// acquire admits a request of size bytes, or reports false at once.
func (g *gate) acquire(size int64) (release func(), ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n >= g.maxN || (g.n > 0 && g.bytes+size > g.maxBytes) {
		return nil, false
	}
	g.n++
	g.bytes += size
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.n--
			g.bytes -= size
			g.mu.Unlock()
		})
	}, true
}

// busy is the wire error of a refused request.
func busy(maxN int) *WireError {
	return &WireError{Code: "unavailable", Message: fmt.Sprintf("server busy: %d requests or their bytes in flight, try again", maxN)}
}
