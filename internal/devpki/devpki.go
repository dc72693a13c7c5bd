// Package devpki writes a small certificate authority with one certificate
// per role of a vds deployment, for local TLS and mutual-TLS set-ups and
// tests. It is not a production PKI: keys are ECDSA P-256 files with mode
// 0600, the certificates are valid for one year and the CA's key is not
// kept.
//
// Each certificate names its role in a URI subject alternative name,
// RoleURIPrefix followed by the role ("vds:role:owner"), which the
// transport's servers read from the verified chain to authorise each
// method (SECURITY.md, "Roles").
package devpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// RoleURIPrefix starts the URI SAN that names a certificate's role; the
// transport package reads the same form.
const RoleURIPrefix = "vds:role:"

// Roles are the roles Write issues a certificate for: the three servers
// (each also a client: the owner pushes to storage servers and verifiers,
// verifiers read from the owner and the storage servers) and the admin,
// the client of the owner's mutations. Every storage replica of a
// deployment uses the one storage certificate.
var Roles = []string{"owner", "storage", "verifier", "admin"}

// Files names the PEM files Write creates in a directory.
type Files struct {
	// CA is ca.pem, the certificate of the CA that signed the others.
	CA string
	// Certs and Keys map a role to ROLE.pem and ROLE-key.pem.
	Certs, Keys map[string]string
}

// RoleURI returns the URI SAN of a role.
func RoleURI(role string) *url.URL {
	u, err := url.Parse(RoleURIPrefix + role)
	if err != nil {
		panic(fmt.Sprintf("devpki: role %q: %v", role, err)) // constant roles
	}
	return u
}

// Write creates ca.pem and, for each role of Roles, ROLE.pem and
// ROLE-key.pem in dir. The servers' certificates (owner, storage,
// verifier) serve and authenticate clients alike and are valid for
// localhost, 127.0.0.1 and ::1 and the given extra host names or
// addresses; the admin's is a client certificate only.
func Write(dir string, hosts ...string) (Files, error) {
	ca, err := NewCA()
	if err != nil {
		return Files{}, err
	}
	return ca.WriteRoles(dir, hosts...)
}

// WriteRoles is Write with this CA.
func (ca *CA) WriteRoles(dir string, hosts ...string) (Files, error) {
	f := Files{CA: filepath.Join(dir, "ca.pem"), Certs: map[string]string{}, Keys: map[string]string{}}
	for _, r := range Roles {
		f.Certs[r] = filepath.Join(dir, r+".pem")
		f.Keys[r] = filepath.Join(dir, r+"-key.pem")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, err
	}
	if err := ca.WriteCert(f.CA); err != nil {
		return f, err
	}
	for _, r := range Roles {
		if err := ca.Issue(f.Certs[r], f.Keys[r], "vds "+r, r != "admin", hosts, RoleURI(r)); err != nil {
			return f, fmt.Errorf("devpki: %s certificate: %w", r, err)
		}
	}
	return f, nil
}

// CA is a development certificate authority held in memory.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA returns a fresh CA, valid for one year.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "vds development CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key}, nil
}

// WriteCert writes the CA's certificate (PEM, mode 0644).
func (ca *CA) WriteCert(path string) error {
	return writePEM(path, "CERTIFICATE", ca.cert.Raw, 0o644)
}

// Issue writes a certificate with common name cn and the given URI SANs
// (RoleURI names a role), signed by the CA, and its fresh key (mode
// 0600). Every certificate authenticates clients; a server one (server)
// also serves, for localhost, 127.0.0.1, ::1 and hosts.
func (ca *CA) Issue(certFile, keyFile, cn string, server bool, hosts []string, uris ...*url.URL) error {
	now := time.Now()
	t := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs: uris,
	}
	if server {
		t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		t.DNSNames = []string{"localhost"}
		t.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, t, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(keyFile, "EC PRIVATE KEY", kb, 0o600)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}
