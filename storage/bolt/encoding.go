package bolt

import (
	"encoding/binary"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/accumulator"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/internal/rawenc"
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

// Points, scalars, witnesses and batch data use the shared layouts of
// storage/internal/rawenc, with failures wrapping ErrCorrupt.

var raw = rawenc.Codec{Corrupt: ErrCorrupt}

const (
	g1RawSize   = rawenc.G1Size
	witnessSize = rawenc.WitnessSize
)

// g1FromRaw decodes gnark-crypto's uncompressed RawBytes encoding, without
// the subgroup check: this is only for points the store wrote itself (see
// the package documentation). The identity is accepted.
func g1FromRaw(b []byte) (bls.G1Affine, error) { return raw.G1FromRaw(b) }

// scalarFromBytes decodes 32 big-endian bytes holding a value below r.
func scalarFromBytes(b []byte) (fr.Element, error) { return raw.Scalar(b) }

func scalarBytes(e *fr.Element) []byte { return rawenc.ScalarBytes(e) }

func g1Raw(p *bls.G1Affine) []byte { return rawenc.G1Raw(p) }

// encodeWitness lays out a witness as epoch (8) ‖ W raw (96) ‖ u (32).
func encodeWitness(w *accumulator.Witness) []byte { return rawenc.EncodeWitness(w) }

func decodeWitness(b []byte) (accumulator.Witness, error) { return raw.Witness(b) }

// encodeBatchData lays out batch data (see storage/internal/rawenc).
func encodeBatchData(d *roles.BatchData) ([]byte, error) { return rawenc.EncodeBatchData(d) }

func decodeBatchData(b []byte) (roles.BatchData, error) { return raw.BatchData(b) }
