package codec

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// CBOR tag numbers of the wire types (SPEC §8): 0x564453·01…06, "VDS"
// followed by a number, in IANA's first-come-first-served range (above
// 2³²/2, far from registered tags; the 16-bit FCFS range holds RFC 9277's
// 55800 and 55801). Frozen for v1: a message encoded by any v1 release
// decodes with any other.
const (
	// TagG1 encloses the 48-byte compressed encoding of a G1 point other
	// than the identity.
	TagG1 uint64 = 0x56445301 // "VDS" 1
	// TagG2 encloses the 96-byte compressed encoding of a G2 point other
	// than the identity.
	TagG2 uint64 = 0x56445302 // "VDS" 2
	// TagScalar encloses the 32-byte big-endian encoding of an Fr element < r.
	TagScalar uint64 = 0x56445303 // "VDS" 3
	// TagG1Identity encloses an empty byte string: the identity of G1.
	TagG1Identity uint64 = 0x56445304 // "VDS" 4
	// TagG2Identity encloses an empty byte string: the identity of G2.
	TagG2Identity uint64 = 0x56445305 // "VDS" 5
	// TagScalarVector encloses one byte string, the concatenation of 32-byte
	// big-endian encodings of Fr elements < r.
	TagScalarVector uint64 = 0x56445306 // "VDS" 6
)

// CBOR major types used by the wire types.
const (
	majorByteString = 2
	majorTag        = 6
)

// appendHead appends the shortest CBOR head of the given major type and
// argument (RFC 8949 §3, §4.2.1).
func appendHead(dst []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(dst, m|byte(arg))
	case arg <= 0xff:
		return append(dst, m|24, byte(arg))
	case arg <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, m|25), uint16(arg))
	case arg <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, m|26), uint32(arg))
	default:
		return binary.BigEndian.AppendUint64(append(dst, m|27), arg)
	}
}

// appendTagged appends tag(bytes(content)) in canonical form.
func appendTagged(dst []byte, tag uint64, content []byte) []byte {
	dst = appendHead(dst, majorTag, tag)
	dst = appendHead(dst, majorByteString, uint64(len(content)))
	return append(dst, content...)
}

// taggedSize is the length of appendTagged's output for a tag and a content
// length.
func taggedSize(tag uint64, n int) int {
	return headSize(tag) + headSize(uint64(n)) + n
}

func headSize(arg uint64) int {
	switch {
	case arg < 24:
		return 1
	case arg <= 0xff:
		return 2
	case arg <= 0xffff:
		return 3
	case arg <= 0xffffffff:
		return 5
	default:
		return 9
	}
}

// readHead parses one CBOR head from data and returns its major type, its
// argument and its length in bytes. It rejects truncated heads, reserved
// additional-information values and indefinite lengths, and heads that are
// not in the shortest form (ErrNonCanonical).
func readHead(data []byte) (major byte, arg uint64, n int, err error) {
	if len(data) == 0 {
		return 0, 0, 0, fmt.Errorf("truncated: %w", ErrInvalidEncoding)
	}
	major, ai := data[0]>>5, data[0]&0x1f
	var size int
	switch {
	case ai < 24:
		return major, uint64(ai), 1, nil
	case ai == 24:
		size = 1
	case ai == 25:
		size = 2
	case ai == 26:
		size = 4
	case ai == 27:
		size = 8
	case ai == 31 && major >= 2 && major <= 5:
		// Well-formed, but core deterministic encoding forbids it.
		return 0, 0, 0, fmt.Errorf("indefinite-length item: %w", ErrNonCanonical)
	default:
		return 0, 0, 0, fmt.Errorf("reserved additional information %d: %w", ai, ErrInvalidEncoding)
	}
	if len(data) < 1+size {
		return 0, 0, 0, fmt.Errorf("truncated: %w", ErrInvalidEncoding)
	}
	var minimum uint64
	switch size {
	case 1:
		arg, minimum = uint64(data[1]), 24
	case 2:
		arg, minimum = uint64(binary.BigEndian.Uint16(data[1:])), 0x100
	case 4:
		arg, minimum = uint64(binary.BigEndian.Uint32(data[1:])), 0x10000
	default:
		arg, minimum = binary.BigEndian.Uint64(data[1:]), 0x100000000
	}
	if arg < minimum {
		return 0, 0, 0, fmt.Errorf("argument %d not in shortest form: %w", arg, ErrNonCanonical)
	}
	return major, arg, 1 + size, nil
}

// tagSelfDescribed is the self-described CBOR tag (RFC 8949 §3.4.6), a
// no-op prefix that canonical encodings never carry.
const tagSelfDescribed = 55799

// readTagged parses data as exactly one tag(bytes) item whose tag is one of
// tags, and returns the tag number and the byte string's content (aliasing
// data). name prefixes error messages.
func readTagged(name string, data []byte, tags ...uint64) (tag uint64, content []byte, err error) {
	major, tag, n, err := readHead(data)
	if err != nil {
		return 0, nil, fmt.Errorf("codec: %s: %w", name, err)
	}
	if major != majorTag {
		return 0, nil, fmt.Errorf("codec: %s: want a tagged item, got major type %d: %w", name, major, ErrUnexpectedTag)
	}
	if !slices.Contains(tags, tag) {
		if tag == tagSelfDescribed {
			return 0, nil, fmt.Errorf("codec: %s: self-described CBOR tag: %w", name, ErrNonCanonical)
		}
		return 0, nil, fmt.Errorf("codec: %s: tag %d is not a %s tag: %w", name, tag, name, ErrUnexpectedTag)
	}
	rest := data[n:]
	major, length, n, err := readHead(rest)
	if err != nil {
		return 0, nil, fmt.Errorf("codec: %s: tag content: %w", name, err)
	}
	if major != majorByteString {
		return 0, nil, fmt.Errorf("codec: %s: tag content: want a byte string, got major type %d: %w", name, major, ErrInvalidEncoding)
	}
	rest = rest[n:]
	if length > uint64(len(rest)) {
		return 0, nil, fmt.Errorf("codec: %s: byte string of %d bytes truncated to %d: %w", name, length, len(rest), ErrInvalidEncoding)
	}
	if length < uint64(len(rest)) {
		return 0, nil, fmt.Errorf("codec: %s: %d bytes after the item: %w", name, uint64(len(rest))-length, ErrTrailingBytes)
	}
	return tag, rest, nil
}
