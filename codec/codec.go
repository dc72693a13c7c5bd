package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Codec turns messages into bytes and back (SPEC §8). Implementations are safe
// for concurrent use.
type Codec interface {
	// Marshal returns the encoding of v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to. On error the value
	// is left unchanged.
	Unmarshal(data []byte, v any) error
	// ContentType is the media type of the encoding, for transports.
	ContentType() string
}

// ContentTypeCBOR is the media type of the CBOR codec.
const ContentTypeCBOR = "application/cbor"

// Limits caps what a peer can make the decoder spend. A zero field takes its
// default (see [DefaultLimits]).
type Limits struct {
	// MaxMessageBytes is the largest message Unmarshal accepts and Marshal
	// produces. Default 64 MiB; at least 1.
	MaxMessageBytes int
	// MaxNestedLevels caps the nesting of CBOR arrays, maps and tags.
	// Default 16; from 4 to 65535.
	MaxNestedLevels int
	// MaxArrayElements caps the length of any one CBOR array. Default 1<<20;
	// from 16 to 2147483647. A [ScalarVector] is a byte string, not an array.
	MaxArrayElements int
	// MaxMapPairs caps the number of pairs of any one CBOR map (and so the
	// fields of a struct). Default 1024; from 16 to 2147483647.
	MaxMapPairs int
}

// Default values of the [Limits] fields, used for zero fields and by
// [Default].
const (
	DefaultMaxMessageBytes  = 64 << 20
	DefaultMaxNestedLevels  = 16
	DefaultMaxArrayElements = 1 << 20
	DefaultMaxMapPairs      = 1024
)

// Bounds of the Limits fields that map onto fxamacker/cbor's DecOptions (its
// own ranges).
const (
	minNestedLevels = 4
	maxNestedLevels = 65535
	minElements     = 16
	maxElements     = 1<<31 - 1
)

// DefaultLimits returns the limits of [Default].
func DefaultLimits() Limits {
	return Limits{
		MaxMessageBytes:  DefaultMaxMessageBytes,
		MaxNestedLevels:  DefaultMaxNestedLevels,
		MaxArrayElements: DefaultMaxArrayElements,
		MaxMapPairs:      DefaultMaxMapPairs,
	}
}

// withDefaults fills zero fields with defaults and checks the ranges.
func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	fill := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	fill(&l.MaxMessageBytes, d.MaxMessageBytes)
	fill(&l.MaxNestedLevels, d.MaxNestedLevels)
	fill(&l.MaxArrayElements, d.MaxArrayElements)
	fill(&l.MaxMapPairs, d.MaxMapPairs)
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("codec: limits: %s = %d, want 0 (default) or a value in [%d, %d]: %w", name, v, lo, hi, ErrInvalidInput)
		}
		return nil
	}
	return l, errors.Join(
		check("MaxMessageBytes", l.MaxMessageBytes, 1, int(^uint(0)>>1)),
		check("MaxNestedLevels", l.MaxNestedLevels, minNestedLevels, maxNestedLevels),
		check("MaxArrayElements", l.MaxArrayElements, minElements, maxElements),
		check("MaxMapPairs", l.MaxMapPairs, minElements, maxElements),
	)
}

// CBOR is the CBOR [Codec] of SPEC §8: core deterministic encoding, strict
// decoding that accepts exactly one encoding per value (see the package
// documentation). Build it with [NewCBOR] or use [Default]; it is safe for
// concurrent use.
type CBOR struct {
	limits Limits
	enc    cbor.EncMode
	check  cbor.UserBufferEncMode // the canonical re-encoding of Unmarshal, into one buffer
	dec    cbor.DecMode
}

var _ Codec = (*CBOR)(nil)

// NewCBOR returns a CBOR codec with the given limits (zero fields take their
// defaults). Out-of-range limits are an error wrapping ErrInvalidInput.
func NewCBOR(l Limits) (*CBOR, error) {
	l, err := l.withDefaults()
	if err != nil {
		return nil, err
	}
	enc, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, fmt.Errorf("codec: encoder options: %w", err)
	}
	check, err := cbor.CoreDetEncOptions().UserBufferEncMode()
	if err != nil {
		return nil, fmt.Errorf("codec: encoder options: %w", err)
	}
	dec, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		MaxNestedLevels:   l.MaxNestedLevels,
		MaxArrayElements:  l.MaxArrayElements,
		MaxMapPairs:       l.MaxMapPairs,
	}.DecMode()
	if err != nil {
		return nil, fmt.Errorf("codec: decoder options: %w: %w", ErrInvalidInput, err)
	}
	return &CBOR{limits: l, enc: enc, check: check, dec: dec}, nil
}

var defaultCBOR = func() *CBOR {
	c, err := NewCBOR(DefaultLimits())
	if err != nil {
		panic(err) // the defaults are constants: unreachable
	}
	return c
}()

// Default returns the CBOR codec with [DefaultLimits], shared by the process.
func Default() *CBOR { return defaultCBOR }

// Limits returns the codec's limits, defaults filled in.
func (c *CBOR) Limits() Limits { return c.limits }

// ContentType returns "application/cbor".
func (c *CBOR) ContentType() string { return ContentTypeCBOR }

// Marshal returns the core deterministic encoding of v. Group elements and
// scalars must be held in the wire types ([G1], [Scalar], …): a value whose
// type contains a gnark-crypto type is refused (ErrInvalidInput), since it
// would be encoded as raw Montgomery limbs and decoded without validation.
// An encoding longer than MaxMessageBytes is an error wrapping ErrTooLarge:
// a party never sends what it would itself refuse.
func (c *CBOR) Marshal(v any) ([]byte, error) {
	if v != nil {
		if err := checkType(reflect.TypeOf(v)); err != nil {
			return nil, fmt.Errorf("codec: marshal: %w", err)
		}
	}
	b, err := c.enc.Marshal(v)
	if err != nil {
		if errors.Is(err, ErrInvalidInput) {
			return nil, err // from a wire type: already "codec: <type>: …"
		}
		return nil, fmt.Errorf("codec: marshal: %w: %w", ErrInvalidInput, err)
	}
	if len(b) > c.limits.MaxMessageBytes {
		return nil, fmt.Errorf("codec: marshal: %d bytes, above MaxMessageBytes %d: %w", len(b), c.limits.MaxMessageBytes, ErrTooLarge)
	}
	return b, nil
}

// Unmarshal decodes data into the value v points to. v must be a non-nil
// pointer (else ErrInvalidInput). Decoding is strict, and data must be the
// one canonical encoding of the decoded value: Unmarshal re-encodes the
// result and rejects data that differ (ErrNonCanonical). The value is decoded
// into a fresh variable and copied to *v only on success, so *v is never
// left half-built; it is replaced, not merged into.
//
// Every error wraps ErrInvalidInput; see the package documentation for the
// more specific sentinels.
func (c *CBOR) Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("codec: unmarshal: target must be a non-nil pointer, got %T: %w", v, ErrInvalidInput)
	}
	if err := checkType(rv.Type().Elem()); err != nil {
		return fmt.Errorf("codec: unmarshal: %w", err)
	}
	if len(data) > c.limits.MaxMessageBytes {
		return fmt.Errorf("codec: unmarshal: %d bytes, above MaxMessageBytes %d: %w", len(data), c.limits.MaxMessageBytes, ErrTooLarge)
	}
	fresh := reflect.New(rv.Type().Elem())
	if err := c.dec.Unmarshal(data, fresh.Interface()); err != nil {
		return decodeError(err)
	}
	// One buffer of the input's size: the canonical encoding is no longer.
	var again bytes.Buffer
	again.Grow(len(data))
	if err := c.check.MarshalToBuffer(fresh.Interface(), &again); err != nil {
		return fmt.Errorf("codec: unmarshal: decoded value does not re-encode: %w: %w", ErrInvalidEncoding, err)
	}
	if !bytes.Equal(again.Bytes(), data) {
		return fmt.Errorf("codec: unmarshal: not the canonical encoding of its value: %w", ErrNonCanonical)
	}
	rv.Elem().Set(fresh.Elem())
	return nil
}

// decodeError maps an error of fxamacker/cbor, or one returned by a wire
// type's UnmarshalCBOR (which fxamacker/cbor passes through unwrapped), onto
// the sentinel tree.
func decodeError(err error) error {
	if errors.Is(err, ErrInvalidInput) {
		return err // from a wire type: already "codec: <type>: …"
	}
	var (
		dup     *cbor.DupMapKeyError
		unknown *cbor.UnknownFieldError
		nested  *cbor.MaxNestedLevelError
		array   *cbor.MaxArrayElementsError
		pairs   *cbor.MaxMapPairsError
		indef   *cbor.IndefiniteLengthError
		extra   *cbor.ExtraneousDataError
		target  *cbor.InvalidUnmarshalError
	)
	sentinel := ErrInvalidEncoding
	switch {
	case errors.As(err, &dup):
		sentinel = ErrDuplicateKey
	case errors.As(err, &unknown):
		sentinel = ErrUnknownField
	case errors.As(err, &nested), errors.As(err, &array), errors.As(err, &pairs):
		sentinel = ErrTooLarge
	case errors.As(err, &indef):
		sentinel = ErrNonCanonical
	case errors.As(err, &extra):
		sentinel = ErrTrailingBytes
	case errors.As(err, &target):
		sentinel = ErrInvalidInput
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("codec: unmarshal: truncated input: %w: %w", ErrInvalidEncoding, err)
	}
	return fmt.Errorf("codec: unmarshal: %w: %w", sentinel, err)
}

const gnarkPkg = "github.com/consensys/gnark-crypto/"

var (
	typeChecks      sync.Map // reflect.Type → error (nil for allowed types)
	typeMarshaler   = reflect.TypeFor[cbor.Marshaler]()
	typeUnmarshaler = reflect.TypeFor[cbor.Unmarshaler]()
)

// checkType refuses types that would put a gnark-crypto value on the wire
// outside the wire types. Results are cached per type.
func checkType(t reflect.Type) error {
	if r, ok := typeChecks.Load(t); ok {
		if r == nil {
			return nil
		}
		return r.(error)
	}
	var err error
	if bad := findGnark(t, map[reflect.Type]bool{}); bad != nil {
		err = fmt.Errorf("type %v holds the gnark-crypto type %v, which has no validated encoding; use the codec wire types (G1, G1OrIdentity, G2, G2OrIdentity, Scalar, ScalarVector): %w", t, bad, ErrInvalidInput)
	}
	typeChecks.Store(t, err)
	return err
}

// findGnark returns a gnark-crypto type reachable from t through the parts
// fxamacker/cbor encodes (pointers, slices, arrays, maps, exported and
// embedded struct fields), stopping at types that encode themselves.
func findGnark(t reflect.Type, seen map[reflect.Type]bool) reflect.Type {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if pt := reflect.PointerTo(t); pt.Implements(typeMarshaler) && pt.Implements(typeUnmarshaler) {
		return nil
	}
	if strings.HasPrefix(t.PkgPath(), gnarkPkg) {
		return t
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return findGnark(t.Elem(), seen)
	case reflect.Map:
		if bad := findGnark(t.Key(), seen); bad != nil {
			return bad
		}
		return findGnark(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (!f.IsExported() && !f.Anonymous) || f.Tag.Get("cbor") == "-" {
				continue
			}
			if bad := findGnark(f.Type, seen); bad != nil {
				return bad
			}
		}
	}
	return nil
}
