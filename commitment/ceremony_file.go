package commitment

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/internal/errs"
)

// TranscriptVersion is the version of the transcript file format.
const TranscriptVersion = 1

// transcriptMagic starts every transcript file.
var transcriptMagic = [8]byte{'v', 'd', 's', '-', 'c', 'e', 'r', '\n'}

// The transcript file (SPEC §3.1; integers big-endian, points compressed):
//
//	magic          "vds-cer\n"                      8 bytes
//	version        uint32 (= 1)                     4 bytes
//	n              uint32                           4 bytes
//	initial digest digest of the starting CRS       32 bytes
//	initial g₁     g₁ of the starting CRS           48 bytes
//	count k        uint32, 1 ≤ k ≤ 1024             4 bytes
//	k records:
//	  name length  uint8, 1…64                      1 byte
//	  name         UTF-8, printable                 1…64 bytes
//	  g₁           g₁ after the contribution (G1)   48 bytes
//	  τ·ĝ          (G2)                             96 bytes
//	  R            Schnorr commitment (G1)          48 bytes
//	  s            Schnorr response (Fr, < r)       32 bytes
//	final CRS      a CRS file (SPEC §3), to the end of the file
const (
	transcriptHeaderSize = 8 + 4 + 4 + 32 + g1Size + 4
	recordFixedSize      = 1 + g1Size + g2Size + g1Size + fr.Bytes
)

// crsFileSize returns the size of a CRS file of capacity n.
func crsFileSize(n int) int64 {
	return int64(headerSize) + int64(2*n-1)*g1Size + int64(n)*g2Size
}

// readCapped reads all of r, refusing more than the largest transcript of
// capacity maxN.
func readCapped(r io.Reader, maxN int) ([]byte, error) {
	limit := transcriptHeaderSize + MaxContributions*(recordFixedSize+MaxContributorName) + crsFileSize(maxN)
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w: %w", ErrInvalidEncoding, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %d bytes for a capacity of at most %d: %w", limit, maxN, ErrTooLarge)
	}
	return data, nil
}

// fileDigestOf returns the digest field of a CRS file's header (zero if the
// file is too short to have one).
func fileDigestOf(file []byte) Digest {
	var d Digest
	if len(file) >= headerSize {
		copy(d[:], file[16:headerSize])
	}
	return d
}

// appendTo appends the record's encoding to b.
func (rec *record) appendTo(b []byte) []byte {
	b = append(b, byte(len(rec.name)))
	b = append(b, rec.name...)
	g, t, r, s := rec.g1.Bytes(), rec.tauG2.Bytes(), rec.r.Bytes(), rec.s.Bytes()
	b = append(b, g[:]...)
	b = append(b, t[:]...)
	b = append(b, r[:]...)
	return append(b, s[:]...)
}

// encode returns the transcript file.
func (t *transcript) encode() ([]byte, error) {
	crsFile, err := t.final.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, transcriptHeaderSize+len(t.records)*(recordFixedSize+MaxContributorName)+len(crsFile))
	b = append(b, t.headerBytes()...)
	g := t.initG1.Bytes()
	b = append(b, g[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(t.records)))
	for i := range t.records {
		b = t.records[i].appendTo(b)
	}
	return append(b, crsFile...), nil
}

// decodeG1 decodes a compressed G1 point other than the identity, checking
// that it is on the curve and in the subgroup.
func decodeG1(b []byte) (bls.G1Affine, error) {
	var p bls.G1Affine
	if err := compressedFlags(b[0]); err != nil {
		return p, err
	}
	if _, err := p.SetBytes(b[:g1Size]); err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidPoint, err)
	}
	return p, nil
}

// decodeG2 is decodeG1 for G2.
func decodeG2(b []byte) (bls.G2Affine, error) {
	var p bls.G2Affine
	if err := compressedFlags(b[0]); err != nil {
		return p, err
	}
	if _, err := p.SetBytes(b[:g2Size]); err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidPoint, err)
	}
	return p, nil
}

// compressedFlags accepts the flags of a compressed point that is not the
// identity (gnark-crypto: bit 7 compressed, bit 6 infinity, bit 5 sign).
func compressedFlags(b byte) error {
	switch b & 0xC0 {
	case 0x80:
		return nil
	case 0xC0:
		return ErrIdentity
	default:
		return fmt.Errorf("not a compressed point: %w", ErrInvalidEncoding)
	}
}

// decodeTranscript parses a transcript file. Every record point is checked
// (curve, subgroup, not the identity) and every scalar is canonical. The
// final CRS is loaded with every check of Load if fullCheck, and otherwise
// only on-curve (the contributor's view). It does not verify the records'
// proofs (verifyRecords does).
func decodeTranscript(data []byte, maxN int, fullCheck bool) (*transcript, error) {
	if len(data) < transcriptHeaderSize {
		return nil, fmt.Errorf("%d bytes, shorter than a transcript header: %w", len(data), ErrInvalidEncoding)
	}
	if !bytes.Equal(data[:8], transcriptMagic[:]) {
		if bytes.Equal(data[:8], fileMagic[:]) {
			return nil, fmt.Errorf("a CRS file, not a transcript: it has no contribution yet: %w", ErrInvalidEncoding)
		}
		return nil, fmt.Errorf("not a transcript file: %w", ErrInvalidEncoding)
	}
	if v := binary.BigEndian.Uint32(data[8:]); v != TranscriptVersion {
		return nil, fmt.Errorf("unsupported transcript version %d: %w", v, ErrInvalidEncoding)
	}
	n64 := binary.BigEndian.Uint32(data[12:])
	if n64 < 1 || int64(n64) > int64(maxN) {
		return nil, fmt.Errorf("capacity %d outside [1, %d]: %w", n64, maxN, ErrTooLarge)
	}
	t := &transcript{n: int(n64)}
	copy(t.initDigest[:], data[16:48])
	var err error
	if t.initG1, err = decodeG1(data[48:]); err != nil {
		return nil, fmt.Errorf("initial g₁: %w", err)
	}
	count := binary.BigEndian.Uint32(data[48+g1Size:])
	if count < 1 || count > MaxContributions {
		return nil, fmt.Errorf("%d contributions, want 1 to %d: %w", count, MaxContributions, ErrInvalidEncoding)
	}
	off := transcriptHeaderSize
	t.records = make([]record, count)
	for i := range t.records {
		if off >= len(data) {
			return nil, fmt.Errorf("record %d: truncated: %w", i+1, ErrInvalidEncoding)
		}
		l := int(data[off])
		if len(data)-off < recordFixedSize+l {
			return nil, fmt.Errorf("record %d: truncated: %w", i+1, ErrInvalidEncoding)
		}
		if err := t.records[i].decode(data[off:off+recordFixedSize+l], l); err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		off += recordFixedSize + l
	}
	crsFile := data[off:]
	opts := []LoadOption{WithMaxN(maxN)}
	if !fullCheck {
		opts = append(opts, loadUnchecked(fileDigestOf(crsFile)))
	}
	if t.final, err = Load(bytes.NewReader(crsFile), opts...); err != nil {
		return nil, fmt.Errorf("final CRS: %w", err)
	}
	if t.final.n != t.n {
		return nil, fmt.Errorf("final CRS of capacity %d in a transcript of capacity %d: %w", t.final.n, t.n, ErrInvalidEncoding)
	}
	return t, nil
}

// decode parses one record of exactly recordFixedSize+l bytes.
func (rec *record) decode(b []byte, l int) error {
	name := string(b[1 : 1+l])
	if err := CheckContributorName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEncoding, err)
	}
	rec.name = name
	b = b[1+l:]
	var err error
	if rec.g1, err = decodeG1(b); err != nil {
		return fmt.Errorf("g₁: %w", err)
	}
	b = b[g1Size:]
	if rec.tauG2, err = decodeG2(b); err != nil {
		return fmt.Errorf("τ·ĝ: %w", err)
	}
	b = b[g2Size:]
	if rec.r, err = decodeG1(b); err != nil {
		return fmt.Errorf("proof commitment: %w", err)
	}
	b = b[g1Size:]
	if err := rec.s.SetBytesCanonical(b[:fr.Bytes]); err != nil {
		return fmt.Errorf("proof response: %w: %w", errs.ErrNonCanonical, err)
	}
	return nil
}
