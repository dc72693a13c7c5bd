package boltstore

import (
	"encoding/binary"
	"fmt"
	"math"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// Keys. Integers are big-endian so that bbolt's byte order is their numeric
// order.

// epochKey is an epoch as 8 big-endian bytes.
func epochKey(e uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), e) }

// appendStream appends an order-preserving, prefix-free encoding of a stream
// name: every 0x00 byte becomes 0x00 0xFF and the name ends with 0x00 0x01.
// Byte order of the encodings is the byte order of the names (a name sorts
// before its extensions), and no encoding is a prefix of another, so the
// encoding of a name is the key prefix of exactly that stream's batches.
func appendStream(dst []byte, stream string) []byte {
	for i := 0; i < len(stream); i++ {
		if stream[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, stream[i])
		}
	}
	return append(dst, 0x00, 0x01)
}

// slotKey is the key of a live slot: stream ‖ seq.
func slotKey(stream string, seq uint64) []byte {
	k := appendStream(make([]byte, 0, len(stream)+2+8), stream)
	return binary.BigEndian.AppendUint64(k, seq)
}

// listKey is the key of the list index: stream ‖ seq ‖ version ‖ id; the id
// keeps two batches of one stream, sequence number and version apart (a
// revoked one and its replacement).
func listKey(stream string, seq uint64, version uint32, id roles.BatchID) []byte {
	k := appendStream(make([]byte, 0, len(stream)+2+8+4+len(id)), stream)
	k = binary.BigEndian.AppendUint64(k, seq)
	k = binary.BigEndian.AppendUint32(k, version)
	return append(k, id[:]...)
}

// Points and scalars of the accumulator history and witnesses.

const (
	g1RawSize      = bls.SizeOfG1AffineUncompressed // 96
	maskFlags      = 0b111 << 5
	flagRaw        = 0b000 << 5 // gnark-crypto's mUncompressed
	flagRawInfinit = 0b010 << 5 // gnark-crypto's mUncompressedInfinity
	witnessSize    = 8 + g1RawSize + fr.Bytes
)

// g1FromRaw decodes gnark-crypto's uncompressed RawBytes encoding. It checks
// the encoding (flags, coordinates below p) and that the point is on the
// curve, but NOT that it is in the prime-order subgroup: this is only for
// points the store wrote itself (see the package documentation). The
// identity is accepted.
func g1FromRaw(b []byte) (bls.G1Affine, error) {
	var p bls.G1Affine
	if len(b) != g1RawSize {
		return p, fmt.Errorf("G1 point of %d bytes: %w", len(b), ErrCorrupt)
	}
	switch b[0] & maskFlags {
	case flagRawInfinit:
		if b[0]&^maskFlags != 0 || !allZero(b[1:]) {
			return p, fmt.Errorf("G1 identity with non-zero bytes: %w", ErrCorrupt)
		}
		return p, nil
	case flagRaw:
		var err error
		if p.X, err = fp.BigEndian.Element((*[fp.Bytes]byte)(b[:fp.Bytes])); err != nil {
			return p, fmt.Errorf("G1 x not below p: %w", ErrCorrupt)
		}
		if p.Y, err = fp.BigEndian.Element((*[fp.Bytes]byte)(b[fp.Bytes:])); err != nil {
			return p, fmt.Errorf("G1 y not below p: %w", ErrCorrupt)
		}
		// (0, 0) is gnark-crypto's in-memory identity; RawBytes never
		// writes it with this flag, and IsOnCurve would accept it.
		if p.IsInfinity() || !p.IsOnCurve() {
			return p, fmt.Errorf("G1 point not on the curve: %w", ErrCorrupt)
		}
		return p, nil
	}
	return p, fmt.Errorf("G1 point with flags %#x: %w", b[0]&maskFlags, ErrCorrupt)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// scalarFromBytes decodes 32 big-endian bytes holding a value below r.
func scalarFromBytes(b []byte) (fr.Element, error) {
	if len(b) != fr.Bytes {
		return fr.Element{}, fmt.Errorf("scalar of %d bytes: %w", len(b), ErrCorrupt)
	}
	e, err := fr.BigEndian.Element((*[fr.Bytes]byte)(b))
	if err != nil {
		return e, fmt.Errorf("scalar not below r: %w", ErrCorrupt)
	}
	return e, nil
}

func scalarBytes(e *fr.Element) []byte {
	b := make([]byte, fr.Bytes)
	fr.BigEndian.PutElement((*[fr.Bytes]byte)(b), *e)
	return b
}

func g1Raw(p *bls.G1Affine) []byte {
	b := p.RawBytes()
	return b[:]
}

// encodeWitness lays out a witness as epoch (8) ‖ W raw (96) ‖ u (32).
func encodeWitness(w *accumulator.Witness) []byte {
	b := make([]byte, 0, witnessSize)
	b = binary.BigEndian.AppendUint64(b, w.Epoch)
	raw := w.W.RawBytes()
	b = append(b, raw[:]...)
	return append(b, scalarBytes(&w.U)...)
}

func decodeWitness(b []byte) (accumulator.Witness, error) {
	var w accumulator.Witness
	if len(b) != witnessSize {
		return w, fmt.Errorf("witness of %d bytes: %w", len(b), ErrCorrupt)
	}
	w.Epoch = binary.BigEndian.Uint64(b)
	var err error
	if w.W, err = g1FromRaw(b[8 : 8+g1RawSize]); err != nil {
		return w, err
	}
	if w.U, err = scalarFromBytes(b[8+g1RawSize:]); err != nil {
		return w, err
	}
	return w, nil
}

// Batch data.
//
// The batch data (65,536 rows × k columns at full capacity) is laid out as
// fixed-width big-endian fields rather than CBOR, so that Batch reads it in
// one pass with four allocations, without the decode-and-re-encode check of
// the strict codec:
//
//	layout (1) = 1
//	nTimes (4) ‖ nColumns (4) ‖ nGammas (4)
//	nColumns × column length (4)
//	nTimes × timestamp (8)
//	Σ column lengths × scalar (32)
//	nGammas × scalar (32)
//	time gamma (32)
//
// Every scalar is checked to be below r on decoding.

const dataLayout = 1

func encodeBatchData(d *roles.BatchData) ([]byte, error) {
	if len(d.Times) > math.MaxUint32 || len(d.Columns) > math.MaxUint32 || len(d.Gammas) > math.MaxUint32 {
		return nil, fmt.Errorf("boltstore: batch data too large: %w", roles.ErrTooLarge)
	}
	n := 1 + 12 + 4*len(d.Columns) + 8*len(d.Times) + fr.Bytes*(len(d.Gammas)+1)
	for _, c := range d.Columns {
		if len(c) > math.MaxUint32 {
			return nil, fmt.Errorf("boltstore: batch column too large: %w", roles.ErrTooLarge)
		}
		n += fr.Bytes * len(c)
	}
	b := make([]byte, n)
	b[0] = dataLayout
	binary.BigEndian.PutUint32(b[1:], uint32(len(d.Times)))
	binary.BigEndian.PutUint32(b[5:], uint32(len(d.Columns)))
	binary.BigEndian.PutUint32(b[9:], uint32(len(d.Gammas)))
	off := 13
	for _, c := range d.Columns {
		binary.BigEndian.PutUint32(b[off:], uint32(len(c)))
		off += 4
	}
	for _, t := range d.Times {
		binary.BigEndian.PutUint64(b[off:], t)
		off += 8
	}
	for _, c := range d.Columns {
		for i := range c {
			fr.BigEndian.PutElement((*[fr.Bytes]byte)(b[off:]), c[i])
			off += fr.Bytes
		}
	}
	for i := range d.Gammas {
		fr.BigEndian.PutElement((*[fr.Bytes]byte)(b[off:]), fr.Element(d.Gammas[i]))
		off += fr.Bytes
	}
	fr.BigEndian.PutElement((*[fr.Bytes]byte)(b[off:]), fr.Element(d.TimeGamma))
	return b, nil
}

func decodeBatchData(b []byte) (roles.BatchData, error) {
	var d roles.BatchData
	if len(b) < 13 || b[0] != dataLayout {
		return d, fmt.Errorf("batch data: unknown layout: %w", ErrCorrupt)
	}
	nTimes := uint64(binary.BigEndian.Uint32(b[1:]))
	nCols := uint64(binary.BigEndian.Uint32(b[5:]))
	nGammas := uint64(binary.BigEndian.Uint32(b[9:]))
	off := uint64(13)
	if uint64(len(b)) < off+4*nCols {
		return d, fmt.Errorf("batch data: truncated: %w", ErrCorrupt)
	}
	var cells uint64
	for i := range nCols {
		cells += uint64(binary.BigEndian.Uint32(b[off+4*i:]))
	}
	// Every count is below 2³², so this cannot overflow.
	if uint64(len(b)) != off+4*nCols+8*nTimes+fr.Bytes*(cells+nGammas+1) {
		return d, fmt.Errorf("batch data: %d bytes do not match the counts: %w", len(b), ErrCorrupt)
	}
	lens := b[off : off+4*nCols]
	off += 4 * nCols
	if nTimes > 0 {
		d.Times = make([]uint64, nTimes)
		for i := range d.Times {
			d.Times[i] = binary.BigEndian.Uint64(b[off:])
			off += 8
		}
	}
	if nCols > 0 {
		all := make([]fr.Element, cells)
		d.Columns = make([]codec.ScalarVector, nCols)
		start := uint64(0)
		for c := range d.Columns {
			n := uint64(binary.BigEndian.Uint32(lens[4*c:]))
			col := all[start : start+n : start+n]
			for i := range col {
				var err error
				if col[i], err = fr.BigEndian.Element((*[fr.Bytes]byte)(b[off:])); err != nil {
					return roles.BatchData{}, fmt.Errorf("batch data: column %d row %d not below r: %w", c, i, ErrCorrupt)
				}
				off += fr.Bytes
			}
			d.Columns[c] = col
			start += n
		}
	}
	if nGammas > 0 {
		d.Gammas = make([]codec.Scalar, nGammas)
		for i := range d.Gammas {
			e, err := scalarFromBytes(b[off : off+fr.Bytes])
			if err != nil {
				return roles.BatchData{}, fmt.Errorf("batch data: gamma %d: %w", i, err)
			}
			d.Gammas[i] = codec.Scalar(e)
			off += fr.Bytes
		}
	}
	e, err := scalarFromBytes(b[off:])
	if err != nil {
		return roles.BatchData{}, fmt.Errorf("batch data: time gamma: %w", err)
	}
	d.TimeGamma = codec.Scalar(e)
	return d, nil
}
