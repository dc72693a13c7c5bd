package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
)

// Files of a data directory.
const (
	crsFile       = "crs.bin"
	digestFile    = "crs.digest"
	ownerKeysFile = "owner-keys.cbor"
	ownerDB       = "owner/owner.db"
	storageDB     = "storage/storage.db"
	tlsSubdir     = "tls"
)

// loadCRS loads the data directory's CRS, pinned to its recorded digest.
func (c *common) loadCRS() (*commitment.CRS, error) {
	d, err := os.ReadFile(c.path(digestFile))
	if err != nil {
		return nil, fmt.Errorf("no CRS in %s (run vds setup): %w", c.dir, err)
	}
	digest, err := commitment.ParseDigest(strings.TrimSpace(string(d)))
	if err != nil {
		return nil, err
	}
	f, err := os.Open(c.path(crsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return commitment.Load(f, commitment.WithPinnedDigest(digest))
}

// loadOwnerKeys reads the owner's public keys written by setup.
func (c *common) loadOwnerKeys() (roles.OwnerKeys, error) {
	var k roles.OwnerKeys
	b, err := os.ReadFile(c.path(ownerKeysFile))
	if err != nil {
		return k, fmt.Errorf("no owner keys in %s (run vds setup): %w", c.dir, err)
	}
	if err := codec.Default().Unmarshal(b, &k); err != nil {
		return k, fmt.Errorf("%s: %w", ownerKeysFile, err)
	}
	return k, k.Check()
}

// loadPublic loads the CRS and the owner's public keys: what a storage
// server and a verifier need.
func (c *common) loadPublic() (*commitment.CRS, roles.OwnerKeys, error) {
	crs, err := c.loadCRS()
	if err != nil {
		return nil, roles.OwnerKeys{}, err
	}
	keys, err := c.loadOwnerKeys()
	return crs, keys, err
}

// writeFileAtomic writes a file through a temporary file and a rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
