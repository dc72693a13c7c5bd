package roles

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// MaxScale is the largest number of decimal places a column may declare.
const MaxScale = 30

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
// x ≤ (r−1)/2, else x − r.
func ToBig(x *fr.Element) *big.Int {
	var b big.Int
	x.BigInt(&b)
	if b.Cmp(halfModulus) > 0 {
		b.Sub(&b, frModulus)
	}
	return &b
}

// Value is a verified answer value: the integer the owner's data implies and
// the column's scale.
type Value struct {
	Int   *big.Int
	Scale uint8
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
// Values (int64) and Big (|v| ≤ (r−1)/2).
type Column struct {
	Name   string
	Scale  uint8
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
}

// DefaultLimits returns the limits used unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{MaxColumns: 64, MaxNameLen: 256, MaxNonceLen: 64, MaxStatesPerCall: 100_000}
}

func (l Limits) check() error {
	if l.MaxColumns < 1 || l.MaxNameLen < 1 || l.MaxNonceLen < 1 || l.MaxStatesPerCall < 1 {
		return invalid("limits", "every limit must be positive: %+v", l)
	}
	return nil
}

// encode maps a batch into field elements after checking it against the
// capacity n and the limits.
func (b *Batch) encode(n int, lim Limits) (times []fr.Element, cols [][]fr.Element, err error) {
	if b.Stream == "" || len(b.Stream) > lim.MaxNameLen {
		return nil, nil, invalid("stream", "name must have 1..%d bytes", lim.MaxNameLen)
	}
	l := len(b.Timestamps)
	if l == 0 {
		return nil, nil, invalid("timestamps", "a batch needs at least one row")
	}
	if l > n {
		return nil, nil, tooLarge("rows", l, n)
	}
	for i := 1; i < l; i++ {
		if b.Timestamps[i] <= b.Timestamps[i-1] {
			return nil, nil, invalid(fmt.Sprintf("timestamps[%d]", i), "%d does not increase strictly after %d", b.Timestamps[i], b.Timestamps[i-1])
		}
	}
	if len(b.Columns) == 0 {
		return nil, nil, invalid("columns", "a batch needs at least one column")
	}
	if len(b.Columns) > lim.MaxColumns {
		return nil, nil, tooLarge("columns", len(b.Columns), lim.MaxColumns)
	}
	seen := map[string]bool{}
	times = make([]fr.Element, l)
	for i, t := range b.Timestamps {
		times[i].SetUint64(t)
	}
	cols = make([][]fr.Element, len(b.Columns))
	for c, col := range b.Columns {
		field := fmt.Sprintf("column %q", col.Name)
		if col.Name == "" || len(col.Name) > lim.MaxNameLen {
			return nil, nil, invalid(field, "name must have 1..%d bytes", lim.MaxNameLen)
		}
		if seen[col.Name] {
			return nil, nil, invalid(field, "duplicate column name")
		}
		seen[col.Name] = true
		if col.Scale > MaxScale {
			return nil, nil, invalid(field, "scale %d exceeds %d", col.Scale, MaxScale)
		}
		if (col.Values == nil) == (col.Big == nil) {
			return nil, nil, invalid(field, "set exactly one of Values and Big")
		}
		cols[c] = make([]fr.Element, l)
		if col.Values != nil {
			if len(col.Values) != l {
				return nil, nil, invalid(field, "%d values for %d timestamps", len(col.Values), l)
			}
			for i, v := range col.Values {
				cols[c][i] = FromInt64(v)
			}
			continue
		}
		if len(col.Big) != l {
			return nil, nil, invalid(field, "%d values for %d timestamps", len(col.Big), l)
		}
		for i, v := range col.Big {
			if cols[c][i], err = FromBig(v); err != nil {
				return nil, nil, invalid(fmt.Sprintf("%s row %d", field, i+1), "%v", err)
			}
		}
	}
	return times, cols, nil
}
