package transport

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Role is the part a client certificate's holder plays in a deployment
// (SECURITY.md, "Roles"). A certificate names it in exactly one URI
// subject alternative name, RoleURIPrefix followed by the role
// ("vds:role:admin"); `vds setup -tls` writes one certificate per role.
type Role string

// The roles.
const (
	// RoleOwner is the data owner's server: the only caller of the
	// storage servers' and verifiers' pushes.
	RoleOwner Role = "owner"
	// RoleStorage is a storage server (every replica shares it).
	RoleStorage Role = "storage"
	// RoleVerifier is a verifier.
	RoleVerifier Role = "verifier"
	// RoleAdmin is the owner's operator: the only caller of the owner's
	// mutations (besides the bearer token).
	RoleAdmin Role = "admin"
)

// RoleURIPrefix starts the URI SAN that names a certificate's role.
const RoleURIPrefix = "vds:role:"

// Roles lists every role.
var Roles = []Role{RoleOwner, RoleStorage, RoleVerifier, RoleAdmin}

// RoleOf returns the role a certificate names. A certificate naming no
// role (one of a development PKI written before roles), several, or one
// this package does not know gets an error wrapping vds.ErrUnauthorized:
// it may call only the public methods.
func RoleOf(c *x509.Certificate) (Role, error) {
	var found []string
	for _, u := range c.URIs {
		if s := u.String(); strings.HasPrefix(s, RoleURIPrefix) {
			found = append(found, strings.TrimPrefix(s, RoleURIPrefix))
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("transport: the client certificate names no role (a URI SAN %sROLE; a development PKI from before roles: run vds setup -tls again): %w", RoleURIPrefix, errUnauthorized)
	case 1:
	default:
		return "", fmt.Errorf("transport: the client certificate names %d roles, want one: %w", len(found), errUnauthorized)
	}
	r := Role(found[0])
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("transport: the client certificate names the unknown role %q: %w", quoteName(found[0]), errUnauthorized)
	}
	return r, nil
}

// quoteName bounds a name taken from a peer's certificate before it goes
// (quoted with %q) into an error: servers log errors.
func quoteName(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// Access says who may call a method: the table of SECURITY.md ("Roles"),
// which MethodAccess holds and every server applies.
type Access uint8

// Access levels.
const (
	// AccessPublic methods may be called by anyone who reaches the
	// server (reads, queries, verifications).
	AccessPublic Access = iota
	// AccessOwner methods are the owner's pushes to storage servers and
	// verifiers: a client certificate of RoleOwner. Their input is
	// owner-signed, so a server that verifies no client certificates
	// (plain HTTP, TLS without client authentication) admits any caller,
	// as before roles; see SECURITY.md.
	AccessOwner
	// AccessAdmin methods are the owner's mutations: a client certificate
	// of RoleAdmin or the bearer token of a TokenAuthorizer.
	AccessAdmin
)

// String names the access level.
func (a Access) String() string {
	switch a {
	case AccessPublic:
		return "public"
	case AccessOwner:
		return "owner"
	case AccessAdmin:
		return "admin"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// Roles returns the roles whose certificate admits a caller (nil: every
// caller).
func (a Access) Roles() []Role {
	switch a {
	case AccessOwner:
		return []Role{RoleOwner}
	case AccessAdmin:
		return []Role{RoleAdmin}
	}
	return nil
}

// methodAccess is the authorisation table: every method not listed is
// public.
var methodAccess = map[string]map[string]Access{
	ServiceOwner: {
		"create_batch": AccessAdmin, "append_rows": AccessAdmin, "revoke_batch": AccessAdmin, "update_batch": AccessAdmin,
		"refresh": AccessAdmin, "check_update": AccessAdmin, "rotate_key": AccessAdmin,
	},
	ServiceStorage: {
		"store_batch": AccessOwner, "add_revoked_item": AccessOwner, "update_batch": AccessOwner,
	},
	ServiceVerifier: {
		"update_global_pk": AccessOwner,
	},
}

// MethodAccess returns who may call a method of one of this package's
// services (ServiceOwner, ServiceStorage, ServiceVerifier); AccessPublic
// for every method the table does not list.
func MethodAccess(service, method string) Access {
	return methodAccess[service][method]
}

// restrictedAccess is the access level of a Restricted method: its entry
// in the table, or AccessAdmin for a restricted method of another service
// (its operator's).
func restrictedAccess(service, method string) Access {
	if a := MethodAccess(service, method); a != AccessPublic {
		return a
	}
	return AccessAdmin
}

// withAccess marks the methods of a service that the table restricts.
func withAccess(s *Service) *Service {
	for name, m := range s.methods {
		if MethodAccess(s.Name, name) != AccessPublic {
			m.Restricted = true
		}
	}
	return s
}
