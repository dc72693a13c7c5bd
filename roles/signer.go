package roles

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"io"
)

// Signer signs digests for the data owner (SPEC §6, "Keys"). The default is
// an in-process Ed25519 key (Ed25519Signer); NewCryptoSigner adapts any
// crypto.Signer with an Ed25519 key (a KMS client, a PKCS#11 module's key),
// and transport.SignerClient asks a signer in another process, so that the
// key never enters the owner's process.
type Signer interface {
	// KeyID returns the id of the key, KeyID(Public()).
	KeyID() string
	// Public returns the Ed25519 public key.
	Public() ed25519.PublicKey
	// Sign returns the Ed25519 signature of msg (a 32-byte digest).
	Sign(ctx context.Context, msg []byte) ([]byte, error)
}

// Ed25519Signer is an in-process Ed25519 key. Its String and GoString never
// reveal the key.
type Ed25519Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewEd25519Signer returns a signer for the given private key.
func NewEd25519Signer(key ed25519.PrivateKey) (*Ed25519Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, invalid("signing key", "want %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Ed25519Signer{key: key, id: KeyID(pub)}, nil
}

// GenerateEd25519Signer draws a new key from rand.
func GenerateEd25519Signer(rand io.Reader) (*Ed25519Signer, error) {
	_, key, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return NewEd25519Signer(key)
}

// KeyID implements Signer.
func (s *Ed25519Signer) KeyID() string { return s.id }

// Public implements Signer.
func (s *Ed25519Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign implements Signer.
func (s *Ed25519Signer) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.key, msg), nil
}

// Seed returns the 32-byte seed of the key, for the owner's key store.
func (s *Ed25519Signer) Seed() []byte { return s.key.Seed() }

// String redacts the key.
func (s *Ed25519Signer) String() string { return "Ed25519Signer(" + s.id + ")" }

// GoString redacts the key.
func (s *Ed25519Signer) GoString() string { return s.String() }

// Format redacts the key for every verb.
func (s *Ed25519Signer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// ContextSigner is a crypto.Signer that can also stop when a context ends
// (a network KMS): NewCryptoSigner's Signer calls SignContext when the
// crypto.Signer has it.
type ContextSigner interface {
	crypto.Signer
	SignContext(ctx context.Context, digest []byte) ([]byte, error)
}

// cryptoSigner is a crypto.Signer with an Ed25519 key as a Signer.
type cryptoSigner struct {
	s   crypto.Signer
	pub ed25519.PublicKey
	id  string
}

// NewCryptoSigner returns a Signer that signs with s, any crypto.Signer
// whose Public() is an ed25519.PublicKey: an ed25519.PrivateKey, a KMS or
// PKCS#11 key behind Go's crypto.Signer. It signs the owner's 32-byte
// digests as pure Ed25519 (crypto.Hash(0) as the options, as
// ed25519.PrivateKey.Sign requires) and checks every signature it returns
// against the public key, so a faulty device fails the call
// (ErrBadSignature) instead of publishing a bad state.
func NewCryptoSigner(s crypto.Signer) (Signer, error) {
	if s == nil {
		return nil, invalid("signer", "nil")
	}
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, invalid("signer", "the key is a %T, not an Ed25519 public key", s.Public())
	}
	pub = append(ed25519.PublicKey(nil), pub...)
	return &cryptoSigner{s: s, pub: pub, id: KeyID(pub)}, nil
}

func (c *cryptoSigner) KeyID() string { return c.id }

func (c *cryptoSigner) Public() ed25519.PublicKey { return c.pub }

func (c *cryptoSigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var sig []byte
	var err error
	if cs, ok := c.s.(ContextSigner); ok {
		sig, err = cs.SignContext(ctx, msg)
	} else {
		sig, err = c.s.Sign(nil, msg, crypto.Hash(0))
	}
	if err != nil {
		return nil, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(c.pub, msg, sig) {
		return nil, fmt.Errorf("the signer's signature by key %s does not verify: %w", c.id, ErrBadSignature)
	}
	return sig, nil
}

func (c *cryptoSigner) String() string { return fmt.Sprintf("CryptoSigner(%s, %T)", c.id, c.s) }

// verifySig checks an Ed25519 signature by a key of the owner.
func verifySig(keys *OwnerKeys, keyID string, msg, sig []byte) error {
	pub, ok := keys.Key(keyID)
	if !ok {
		return fmt.Errorf("unknown signing key %q: %w", keyID, ErrBadSignature)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("signature by key %q does not verify: %w", keyID, ErrBadSignature)
	}
	return nil
}
