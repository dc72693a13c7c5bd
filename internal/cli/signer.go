package cli

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

const signerUsage = "usage: vds signer keygen -key FILE | vds signer serve -key FILE -socket PATH"

// RunSigner is `vds signer`: keygen writes a new Ed25519 key file; serve
// signs for an owner (`-signer unix:PATH`) on a Unix socket, so that the
// owner's process never holds its signing key (SECURITY.md, "External
// signers").
func RunSigner(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "keygen" && args[0] != "serve") {
		fmt.Fprintln(os.Stderr, signerUsage)
		if len(args) > 0 && isHelp(args[0]) {
			return errHelp
		}
		return errUsage
	}
	fs := flag.NewFlagSet("vds signer "+args[0], flag.ContinueOnError)
	keyPath := fs.String("key", "", "the signer's Ed25519 key file (hex seed, mode 0600)")
	socket := fs.String("socket", "", "serve: the Unix socket to listen on (made mode 0600; only callers of this user are answered)")
	if err := parseNoArgs(fs, args[1:]); err != nil {
		return err
	}
	if *keyPath == "" || (args[0] == "serve" && *socket == "") {
		fmt.Fprintln(os.Stderr, signerUsage)
		return errUsage
	}
	if args[0] == "keygen" {
		return signerKeygen(*keyPath)
	}
	key, err := readSignerKey(*keyPath)
	if err != nil {
		return err
	}
	ln, err := transport.ListenSigner(*socket)
	if err != nil {
		return err
	}
	defer os.Remove(*socket)
	fmt.Fprintf(os.Stderr, "vds signer: key %s on unix:%s (mode 0600)\n", roles.KeyID(key.Public().(ed25519.PublicKey)), *socket)
	if err := transport.ServeSigner(ctx, ln, key); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// signerKeygen writes a new key file at path, refusing to replace one.
func signerKeygen(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists: refusing to replace a signing key", path)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return err
	}
	line := []byte(hex.EncodeToString(seed) + "\n")
	clear(seed)
	defer clear(line)
	if err := writeFileAtomic(path, line, 0o600); err != nil {
		return err
	}
	key, err := readSignerKey(path)
	if err != nil {
		return err
	}
	fmt.Printf("signing key %s in %s (mode 0600)\n", roles.KeyID(key.Public().(ed25519.PublicKey)), path)
	return nil
}

// readSignerKey reads a key file written by signerKeygen; one readable by
// others than its owner is refused.
func readSignerKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %o: a signing key must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s is not a signing key file (a hex Ed25519 seed of %d bytes)", path, ed25519.SeedSize)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// signerFlag adds the owner's -signer.
func signerFlag(fs *flag.FlagSet) *string {
	return fs.String("signer", env("VDS_SIGNER", ""), "sign with the signer process on unix:PATH (vds signer serve) instead of a key in the owner's store; the owner must have been set up with the same -signer (env VDS_SIGNER)")
}

// ownerSignerOpts returns the owner's options for -signer spec: none for
// "", the signer process's client for unix:PATH.
func ownerSignerOpts(ctx context.Context, spec string) ([]roles.OwnerOption, error) {
	if spec == "" {
		return nil, nil
	}
	path, ok := strings.CutPrefix(spec, "unix://")
	if !ok {
		path, ok = strings.CutPrefix(spec, "unix:")
	}
	if !ok || path == "" {
		return nil, fmt.Errorf("-signer %q: want unix:PATH", spec)
	}
	sc, err := transport.DialSigner(ctx, path)
	if err != nil {
		return nil, err
	}
	return []roles.OwnerOption{roles.WithSigner(sc)}, nil
}
