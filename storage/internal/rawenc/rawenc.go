// Package rawenc holds the fixed-width binary layouts that the durable
// stores of package roles (storage/bolt, storage/postgres) use for the
// values they read often and in bulk: accumulator history points and
// scalars, cached witnesses, proof-table rows and batch data. Protocol
// values (states, headers) are stored with the strict CBOR codec instead.
//
// # Trust
//
// These layouts are for bytes a store wrote itself from values that were
// validated when they arrived. Decoders check the encoding, that
// coordinates are below p and scalars below r, and that points are on the
// curve, but NOT that points are in the prime-order subgroup (the expensive
// part of a full check); see the package documentation of storage/bolt
// for why. Every decoder fails with an error wrapping the store's own
// corruption sentinel ([Codec.Corrupt]) and returns nothing half-built.
package rawenc

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

// Sizes of the layouts.
const (
	G1Size      = bls.SizeOfG1AffineUncompressed // 96: gnark-crypto RawBytes
	ScalarSize  = fr.Bytes                       // 32: canonical big-endian
	WitnessSize = 8 + G1Size + ScalarSize        // epoch ‖ W ‖ u
	TableRow    = G1Size + ScalarSize            // P_i ‖ V_i

	maskFlags      = 0b111 << 5
	flagRaw        = 0b000 << 5 // gnark-crypto's mUncompressed
	flagRawInfinit = 0b010 << 5 // gnark-crypto's mUncompressedInfinity

	// DataLayout is the first byte of the batch data layout.
	DataLayout = 1
)

// Codec decodes the layouts, wrapping every failure in Corrupt (a store's
// sentinel, which should wrap roles.ErrInvalidEncoding).
type Codec struct {
	Corrupt error
}

// G1FromRaw decodes gnark-crypto's uncompressed RawBytes encoding. It checks
// the encoding (flags, coordinates below p) and that the point is on the
// curve, but not that it is in the prime-order subgroup. The identity is
// accepted.
func (c Codec) G1FromRaw(b []byte) (bls.G1Affine, error) {
	var p bls.G1Affine
	if len(b) != G1Size {
		return p, fmt.Errorf("G1 point of %d bytes: %w", len(b), c.Corrupt)
	}
	switch b[0] & maskFlags {
	case flagRawInfinit:
		if b[0]&^maskFlags != 0 || !allZero(b[1:]) {
			return p, fmt.Errorf("G1 identity with non-zero bytes: %w", c.Corrupt)
		}
		return p, nil
	case flagRaw:
		var err error
		if p.X, err = fp.BigEndian.Element((*[fp.Bytes]byte)(b[:fp.Bytes])); err != nil {
			return bls.G1Affine{}, fmt.Errorf("G1 x not below p: %w", c.Corrupt)
		}
		if p.Y, err = fp.BigEndian.Element((*[fp.Bytes]byte)(b[fp.Bytes:])); err != nil {
			return bls.G1Affine{}, fmt.Errorf("G1 y not below p: %w", c.Corrupt)
		}
		// (0, 0) is gnark-crypto's in-memory identity; RawBytes never
		// writes it with this flag, and IsOnCurve would accept it.
		if p.IsInfinity() || !p.IsOnCurve() {
			return bls.G1Affine{}, fmt.Errorf("G1 point not on the curve: %w", c.Corrupt)
		}
		return p, nil
	}
	return p, fmt.Errorf("G1 point with flags %#x: %w", b[0]&maskFlags, c.Corrupt)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Scalar decodes 32 big-endian bytes holding a value below r.
func (c Codec) Scalar(b []byte) (fr.Element, error) {
	if len(b) != ScalarSize {
		return fr.Element{}, fmt.Errorf("scalar of %d bytes: %w", len(b), c.Corrupt)
	}
	e, err := fr.BigEndian.Element((*[fr.Bytes]byte)(b))
	if err != nil {
		return fr.Element{}, fmt.Errorf("scalar not below r: %w", c.Corrupt)
	}
	return e, nil
}

// ScalarBytes is the 32-byte canonical big-endian encoding of e.
func ScalarBytes(e *fr.Element) []byte {
	b := make([]byte, ScalarSize)
	fr.BigEndian.PutElement((*[fr.Bytes]byte)(b), *e)
	return b
}

// G1Raw is gnark-crypto's 96-byte RawBytes encoding of p.
func G1Raw(p *bls.G1Affine) []byte {
	b := p.RawBytes()
	return b[:]
}

// EncodeWitness lays out a witness as epoch (8) ‖ W raw (96) ‖ u (32).
func EncodeWitness(w *accumulator.Witness) []byte {
	b := make([]byte, 0, WitnessSize)
	b = binary.BigEndian.AppendUint64(b, w.Epoch)
	raw := w.W.RawBytes()
	b = append(b, raw[:]...)
	return append(b, ScalarBytes(&w.U)...)
}

// Witness decodes EncodeWitness's layout.
func (c Codec) Witness(b []byte) (accumulator.Witness, error) {
	if len(b) != WitnessSize {
		return accumulator.Witness{}, fmt.Errorf("witness of %d bytes: %w", len(b), c.Corrupt)
	}
	var w accumulator.Witness
	var err error
	if w.W, err = c.G1FromRaw(b[8 : 8+G1Size]); err != nil {
		return accumulator.Witness{}, err
	}
	if w.U, err = c.Scalar(b[8+G1Size:]); err != nil {
		return accumulator.Witness{}, err
	}
	w.Epoch = binary.BigEndian.Uint64(b)
	return w, nil
}

// EncodeTable lays out a proof table as one TableRow per row: P_i raw ‖ V_i.
// It fails with roles.ErrInvalidInput if the lengths differ or a point is
// not on the curve.
func EncodeTable(prefix []bls.G1Affine, values []fr.Element) ([]byte, error) {
	if len(values) != len(prefix) {
		return nil, &roles.InputError{Field: "proof table", Reason: fmt.Sprintf("%d points and %d values", len(prefix), len(values))}
	}
	val := make([]byte, 0, len(prefix)*TableRow)
	for i := range prefix {
		if !prefix[i].IsInfinity() && !prefix[i].IsOnCurve() {
			return nil, &roles.InputError{Field: "proof table", Reason: fmt.Sprintf("point %d is not on the curve", i+1)}
		}
		raw := prefix[i].RawBytes()
		v := values[i].Bytes()
		val = append(append(val, raw[:]...), v[:]...)
	}
	return val, nil
}

// TableRowAt decodes row i (1-based) of an EncodeTable layout; the caller
// has checked that i is within the table.
func (c Codec) TableRowAt(table []byte, i int) (bls.G1Affine, fr.Element, error) {
	row := table[(i-1)*TableRow : i*TableRow]
	p, err := c.G1FromRaw(row[:G1Size])
	if err != nil {
		return bls.G1Affine{}, fr.Element{}, err
	}
	x, err := c.Scalar(row[G1Size:])
	if err != nil {
		return bls.G1Affine{}, fr.Element{}, fmt.Errorf("value %d: %w", i, err)
	}
	return p, x, nil
}

// Batch data.
//
// The batch data (65,536 rows × k columns at full capacity) is laid out as
// fixed-width big-endian fields rather than CBOR, so that a store reads it
// in one pass with four allocations, without the decode-and-re-encode check
// of the strict codec:
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

// EncodeBatchData lays out batch data; it fails with roles.ErrTooLarge if a
// count does not fit in 32 bits.
func EncodeBatchData(d *roles.BatchData) ([]byte, error) {
	if len(d.Times) > math.MaxUint32 || len(d.Columns) > math.MaxUint32 || len(d.Gammas) > math.MaxUint32 {
		return nil, fmt.Errorf("vds: batch data too large to store: %w", roles.ErrTooLarge)
	}
	n := 1 + 12 + 4*len(d.Columns) + 8*len(d.Times) + fr.Bytes*(len(d.Gammas)+1)
	for _, c := range d.Columns {
		if len(c) > math.MaxUint32 {
			return nil, fmt.Errorf("vds: batch column too large to store: %w", roles.ErrTooLarge)
		}
		n += fr.Bytes * len(c)
	}
	b := make([]byte, n)
	b[0] = DataLayout
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

// BatchData decodes EncodeBatchData's layout.
func (c Codec) BatchData(b []byte) (roles.BatchData, error) {
	var d roles.BatchData
	if len(b) < 13 || b[0] != DataLayout {
		return d, fmt.Errorf("batch data: unknown layout: %w", c.Corrupt)
	}
	nTimes := uint64(binary.BigEndian.Uint32(b[1:]))
	nCols := uint64(binary.BigEndian.Uint32(b[5:]))
	nGammas := uint64(binary.BigEndian.Uint32(b[9:]))
	off := uint64(13)
	if uint64(len(b)) < off+4*nCols {
		return d, fmt.Errorf("batch data: truncated: %w", c.Corrupt)
	}
	var cells uint64
	for i := range nCols {
		cells += uint64(binary.BigEndian.Uint32(b[off+4*i:]))
	}
	// Every count is below 2³², so this cannot overflow.
	if uint64(len(b)) != off+4*nCols+8*nTimes+fr.Bytes*(cells+nGammas+1) {
		return d, fmt.Errorf("batch data: %d bytes do not match the counts: %w", len(b), c.Corrupt)
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
		for col := range d.Columns {
			n := uint64(binary.BigEndian.Uint32(lens[4*col:]))
			v := all[start : start+n : start+n]
			for i := range v {
				var err error
				if v[i], err = fr.BigEndian.Element((*[fr.Bytes]byte)(b[off:])); err != nil {
					return roles.BatchData{}, fmt.Errorf("batch data: column %d row %d not below r: %w", col, i, c.Corrupt)
				}
				off += fr.Bytes
			}
			d.Columns[col] = v
			start += n
		}
	}
	if nGammas > 0 {
		d.Gammas = make([]codec.Scalar, nGammas)
		for i := range d.Gammas {
			e, err := c.Scalar(b[off : off+fr.Bytes])
			if err != nil {
				return roles.BatchData{}, fmt.Errorf("batch data: gamma %d: %w", i, err)
			}
			d.Gammas[i] = codec.Scalar(e)
			off += fr.Bytes
		}
	}
	e, err := c.Scalar(b[off:])
	if err != nil {
		return roles.BatchData{}, fmt.Errorf("batch data: time gamma: %w", err)
	}
	d.TimeGamma = codec.Scalar(e)
	return d, nil
}

// Protocol values (states, headers, records) are stored with the strict
// codec instead of a fixed layout.

// Marshal encodes v with the strict codec (codec.Default) and decodes the
// result again, so that a store never holds a value it could not read back
// (a point outside the subgroup, invalid UTF-8, …): such a value is refused
// with the codec's error, which wraps roles.ErrInvalidInput.
func Marshal[T any](what string, v *T) ([]byte, error) {
	b, err := codec.Default().Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("vds: encode %s: %w", what, err)
	}
	var check T
	if err := codec.Default().Unmarshal(b, &check); err != nil {
		return nil, fmt.Errorf("vds: encode %s: %w", what, err)
	}
	return b, nil
}

// Unmarshal decodes a value a store wrote with Marshal; a failure wraps
// c.Corrupt.
func Unmarshal[T any](c Codec, what string, b []byte) (*T, error) {
	v := new(T)
	if err := codec.Default().Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %v", what, c.Corrupt, err)
	}
	return v, nil
}
