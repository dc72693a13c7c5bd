package roles

import (
	"fmt"
	"math/big"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// MaxScale is the largest number of decimal places a column may declare.
const MaxScale = 30

// Bounds on values (SPEC §5): every value v of a column satisfies
// |v| < 2^Bits for the Bits its header declares, every weight w of a
// weighted query satisfies |w| < 2^MaxWeightBits, and a header is valid
// only if Bits + MaxWeightBits + bitlen(Rows) ≤ MaxSumBits. Since
// (r−1)/2 > 2^MaxSumBits, no point, range, window or weighted sum over a
// batch can wrap modulo r: every verified result is the exact integer.
const (
	// MaxWeightBits bounds the weights of a weighted query: |w| < 2^64.
	MaxWeightBits = 64
	// MaxSumBits is the bit length below which every sum is exact.
	MaxSumBits = 253
	// DefaultBits is the bound of a column of int64 values: |v| < 2^64
	// holds for every int64.
	DefaultBits = 64
)

// MaxColumnBits returns the largest Bits a column of a batch of rows rows
// may declare: MaxSumBits − MaxWeightBits − bitlen(rows).
func MaxColumnBits(rows int) int {
	return MaxSumBits - MaxWeightBits - bits.Len(uint(rows))
}

// CheckName checks a stream or column name (SPEC §5): 1 to max bytes of
// UTF-8 made of printable characters (letters, marks, numbers,
// punctuation, symbols and the ASCII space — no control, format or
// bidirectional-override characters), without leading or trailing space,
// and without a "." or ".." path segment or a backslash, so that a name is
// safe to print and to use in a path. It returns an *InputError naming
// field.
func CheckName(field, s string, max int) error {
	if s == "" || len(s) > max {
		return invalid(field, "name must have 1..%d bytes, has %d", max, len(s))
	}
	if !utf8.ValidString(s) {
		return invalid(field, "name %q is not valid UTF-8", s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return invalid(field, "name %q contains the non-printable character %U", s, r)
		}
		if r == '\\' {
			return invalid(field, "name %q contains a backslash", s)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return invalid(field, "name %q starts or ends with a space", s)
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			return invalid(field, "name %q contains the path segment %q", s, seg)
		}
	}
	return nil
}

// Display returns s as it can be printed safely on a terminal: s itself if
// it is a valid name, else a Go-quoted string with every non-printable
// character escaped.
func Display(s string) string {
	if CheckName("name", s, len(s)+1) == nil {
		return s
	}
	return fmt.Sprintf("%+q", s)
}

var (
	frModulus = fr.Modulus()
	// halfModulus = (r−1)/2: field elements above it stand for negative values.
	halfModulus = new(big.Int).Rsh(frModulus, 1)
)

// FromInt64 maps an integer into Fr: v ≥ 0 to v, v < 0 to r − |v| (SPEC §5).
func FromInt64(v int64) fr.Element {
	var e fr.Element
	if v >= 0 {
		e.SetUint64(uint64(v))
		return e
	}
	e.SetUint64(uint64(-(v + 1)) + 1) // |v| without overflow at MinInt64
	e.Neg(&e)
	return e
}

// FromBig maps an integer with |v| ≤ (r−1)/2 into Fr (SPEC §5); larger
// values could not be told apart from negative ones and are an error.
func FromBig(v *big.Int) (fr.Element, error) {
	var e fr.Element
	if v == nil {
		return e, invalid("value", "nil")
	}
	abs := new(big.Int).Abs(v)
	if abs.Cmp(halfModulus) > 0 {
		return e, invalid("value", "|%s| exceeds (r−1)/2", v)
	}
	e.SetBigInt(abs)
	if v.Sign() < 0 {
		e.Neg(&e)
	}
	return e, nil
}

// ToBig maps a field element back to the signed integer it stands for: x if
// x ≤ (r−1)/2, else x − r. Within the bounds of SPEC §5 this is exact for
// every point, range, window and weighted result.
func ToBig(x *fr.Element) *big.Int {
	var b big.Int
	x.BigInt(&b)
	if b.Cmp(halfModulus) > 0 {
		b.Sub(&b, frModulus)
	}
	return &b
}

// Value is a verified answer value: the integer the owner's data implies and
// the column's scale. The value of an audit is not a sum but a random
// linear combination: a field element, given as Int in [0, r) with Scale 0
// (SPEC §7).
type Value struct {
	Int   *big.Int
	Scale uint8
}

// toUnsigned returns x as the integer in [0, r).
func toUnsigned(x *fr.Element) *big.Int {
	var b big.Int
	x.BigInt(&b)
	return &b
}

// String formats the value as a decimal with Scale places.
func (v Value) String() string { return FormatDecimal(v.Int, v.Scale) }

// FormatDecimal writes v·10^(−scale) in decimal.
func FormatDecimal(v *big.Int, scale uint8) string {
	if v == nil {
		return "<nil>"
	}
	s := new(big.Int).Abs(v).String()
	if scale > 0 {
		if len(s) <= int(scale) {
			s = strings.Repeat("0", int(scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	}
	if v.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// ParseDecimal parses a decimal number ("-12.50", "3", "+0.125") into the
// integer v·10^scale. It refuses more decimal places than scale instead of
// rounding (SPEC §5), exponents, and anything but digits, one point and a
// sign.
func ParseDecimal(s string, scale uint8) (*big.Int, error) {
	if scale > MaxScale {
		return nil, invalid("scale", "%d exceeds %d", scale, MaxScale)
	}
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !digits(intPart) || !digits(frac) || (hasPoint && frac == "" && intPart == "") {
		return nil, invalid("decimal", "%q is not a decimal number", orig)
	}
	if len(frac) > int(scale) {
		// Trailing zeros beyond the scale change nothing; anything else would be rounded.
		if strings.Trim(frac[scale:], "0") != "" {
			return nil, invalid("decimal", "%q has more than %d decimal places", orig, scale)
		}
		frac = frac[:scale]
	}
	frac += strings.Repeat("0", int(scale)-len(frac))
	v, ok := new(big.Int).SetString("0"+intPart+frac, 10)
	if !ok {
		return nil, invalid("decimal", "%q is not a decimal number", orig)
	}
	if neg {
		v.Neg(v)
	}
	if new(big.Int).Abs(v).Cmp(halfModulus) > 0 {
		return nil, invalid("decimal", "%q is out of range", orig)
	}
	return v, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Column is one named data column of a new batch. Set exactly one of
// Values (int64) and Big. Bits declares the bound |v| < 2^Bits every value
// must satisfy (SPEC §5); zero means DefaultBits for Values and, for Big,
// the smallest bound that holds every value. It may not exceed
// MaxColumnBits(rows).
type Column struct {
	Name   string
	Scale  uint8
	Bits   uint8
	Values []int64
	Big    []*big.Int
}

// Batch is a new batch of one stream: strictly increasing timestamps and at
// least one column with one value per timestamp.
type Batch struct {
	Stream     string
	Timestamps []uint64
	Columns    []Column
}

// Limits caps what a party accepts from its caller or a peer.
type Limits struct {
	MaxColumns       int // columns per batch
	MaxNameLen       int // bytes in a stream or column name
	MaxNonceLen      int // bytes in an audit nonce
	MaxStatesPerCall int // states returned or synced per request
	MaxStreamBatches int // entries of a stream one stream answer (or one segment of it) may cover (SPEC §11)
	// MaxStreamSegments caps the segments a split stream answer may have
	// (SPEC §11.5): a window meets at most MaxStreamBatches ×
	// MaxStreamSegments entries.
	MaxStreamSegments int
}

// DefaultLimits returns the limits used unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{MaxColumns: 64, MaxNameLen: 256, MaxNonceLen: 64, MaxStatesPerCall: 100_000, MaxStreamBatches: 128, MaxStreamSegments: 64}
}

func (l Limits) check() error {
	if l.MaxColumns < 1 || l.MaxNameLen < 1 || l.MaxNonceLen < 1 || l.MaxStatesPerCall < 1 || l.MaxStreamBatches < 1 || l.MaxStreamSegments < 1 {
		return invalid("limits", "every limit must be positive: %+v", l)
	}
	return nil
}

// encoded is a batch mapped into field elements, with each column's
// declared bound.
type encoded struct {
	times []fr.Element
	cols  [][]fr.Element
	bits  []uint8
}

// encode maps a batch into field elements after checking it against the
// capacity n and the limits: names, strictly increasing timestamps, and
// every value within its column's bound.
func (b *Batch) encode(n int, lim Limits) (*encoded, error) {
	if err := CheckName("stream", b.Stream, lim.MaxNameLen); err != nil {
		return nil, err
	}
	l := len(b.Timestamps)
	if l == 0 {
		return nil, invalid("timestamps", "a batch needs at least one row")
	}
	if l > n {
		return nil, tooLarge("rows", l, n)
	}
	for i := 1; i < l; i++ {
		if b.Timestamps[i] <= b.Timestamps[i-1] {
			return nil, invalid(fmt.Sprintf("timestamps[%d]", i), "%d does not increase strictly after %d", b.Timestamps[i], b.Timestamps[i-1])
		}
	}
	if len(b.Columns) == 0 {
		return nil, invalid("columns", "a batch needs at least one column")
	}
	if len(b.Columns) > lim.MaxColumns {
		return nil, tooLarge("columns", len(b.Columns), lim.MaxColumns)
	}
	maxBits := MaxColumnBits(l)
	seen := map[string]bool{}
	e := &encoded{times: make([]fr.Element, l), cols: make([][]fr.Element, len(b.Columns)), bits: make([]uint8, len(b.Columns))}
	for i, t := range b.Timestamps {
		e.times[i].SetUint64(t)
	}
	for c, col := range b.Columns {
		field := fmt.Sprintf("column %q", col.Name)
		if err := CheckName(field, col.Name, lim.MaxNameLen); err != nil {
			return nil, err
		}
		if seen[col.Name] {
			return nil, invalid(field, "duplicate column name")
		}
		seen[col.Name] = true
		if col.Scale > MaxScale {
			return nil, invalid(field, "scale %d exceeds %d", col.Scale, MaxScale)
		}
		if int(col.Bits) > maxBits {
			return nil, invalid(field, "bound of %d bits exceeds %d, the most that keeps every sum over %d rows exact", col.Bits, maxBits, l)
		}
		if (col.Values == nil) == (col.Big == nil) {
			return nil, invalid(field, "set exactly one of Values and Big")
		}
		e.cols[c] = make([]fr.Element, l)
		if col.Values != nil {
			if len(col.Values) != l {
				return nil, invalid(field, "%d values for %d timestamps", len(col.Values), l)
			}
			bound := col.Bits
			if bound == 0 {
				bound = DefaultBits
			}
			for i, v := range col.Values {
				if bound < 64 && !fitsBits(v, bound) {
					return nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "%d does not satisfy |v| < 2^%d", v, bound)
				}
				e.cols[c][i] = FromInt64(v)
			}
			e.bits[c] = bound
			continue
		}
		if len(col.Big) != l {
			return nil, invalid(field, "%d values for %d timestamps", len(col.Big), l)
		}
		need := 1
		for i, v := range col.Big {
			if v == nil {
				return nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "nil value")
			}
			need = max(need, v.BitLen())
			if col.Bits != 0 && v.BitLen() > int(col.Bits) {
				return nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "%s does not satisfy |v| < 2^%d", v, col.Bits)
			}
			if need > maxBits {
				return nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "|%s| ≥ 2^%d: too large for every sum over %d rows to be exact", v, maxBits, l)
			}
			var err error
			if e.cols[c][i], err = FromBig(v); err != nil {
				return nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "%v", err)
			}
		}
		e.bits[c] = col.Bits
		if e.bits[c] == 0 {
			e.bits[c] = uint8(need)
		}
	}
	return e, nil
}

// fitsBits reports whether |v| < 2^b, for b < 64.
func fitsBits(v int64, b uint8) bool {
	mag := uint64(v)
	if v < 0 {
		mag = uint64(-(v + 1)) + 1
	}
	return mag < uint64(1)<<b
}

// elementFitsBits reports whether the field element v stands for an integer
// x with |x| < 2^b (x = v or v − r, SPEC §5), without allocating.
func elementFitsBits(v *fr.Element, b int) bool {
	if bitLen(v.Bits()) <= b {
		return true
	}
	var n fr.Element
	n.Neg(v)
	return bitLen(n.Bits()) <= b
}

// bitLen returns the bit length of a little-endian 256-bit integer.
func bitLen(x [4]uint64) int {
	for i := 3; i >= 0; i-- {
		if x[i] != 0 {
			return 64*i + bits.Len64(x[i])
		}
	}
	return 0
}
