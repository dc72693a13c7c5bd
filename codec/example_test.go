package codec_test

import (
	"errors"
	"fmt"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/codec"
)

// A message holds group elements and scalars in the wire types.
type Answer struct {
	Epoch uint64              `cbor:"epoch"`
	Proof codec.G1            `cbor:"proof"`
	W     codec.G1OrIdentity  `cbor:"w"`
	U     codec.Scalar        `cbor:"u"`
	Sums  codec.ScalarVector  `cbor:"sums"`
	Keys  map[string]codec.G2 `cbor:"keys"`
}

func Example() {
	_, _, g1, g2 := bls.Generators()
	var u fr.Element
	u.SetOne()
	u.Neg(&u) // −1, the witness value u at epoch 0

	in := Answer{
		Epoch: 0,
		Proof: codec.G1(g1),
		W:     codec.G1OrIdentity{}, // the identity: allowed for the witness only
		U:     codec.Scalar(u),
		Sums:  codec.ScalarVector{fr.NewElement(10), fr.NewElement(32)},
		Keys:  map[string]codec.G2{"owner": codec.G2(g2)},
	}
	b, err := codec.Default().Marshal(in)
	if err != nil {
		panic(err)
	}

	var out Answer
	if err := codec.Default().Unmarshal(b, &out); err != nil {
		panic(err)
	}
	w := bls.G1Affine(out.W)
	fmt.Println(len(b), "bytes; witness is identity:", w.IsInfinity())

	// Any other encoding of the same value is refused, e.g. a trailing byte.
	err = codec.Default().Unmarshal(append(b, 0), &out)
	fmt.Println(errors.Is(err, codec.ErrTrailingBytes), errors.Is(err, codec.ErrInvalidEncoding))
	// Output:
	// 309 bytes; witness is identity: true
	// true true
}

func ExampleNewCBOR() {
	c, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: 1 << 20}) // other limits: defaults
	if err != nil {
		panic(err)
	}
	fmt.Println(c.ContentType(), c.Limits().MaxMessageBytes, c.Limits().MaxNestedLevels)

	_, err = codec.NewCBOR(codec.Limits{MaxNestedLevels: 2})
	fmt.Println(err)
	// Output:
	// application/cbor 1048576 16
	// codec: limits: MaxNestedLevels = 2, want 0 (default) or a value in [4, 65535]: vds: invalid input
}

func ExampleG1_UnmarshalCBOR() {
	// The identity under its own tag: accepted as a G1OrIdentity, refused as a G1.
	identity := []byte{0xda, 0x56, 0x44, 0x53, 0x04, 0x40}

	var w codec.G1OrIdentity
	fmt.Println(codec.Default().Unmarshal(identity, &w))

	var p codec.G1
	err := codec.Default().Unmarshal(identity, &p)
	fmt.Println(errors.Is(err, codec.ErrIdentity), errors.Is(err, codec.ErrInvalidPoint))
	// Output:
	// <nil>
	// true true
}
