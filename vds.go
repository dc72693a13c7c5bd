// Package vds is verifiable data streaming: a light data owner commits to
// batches of time-stamped, multi-column data and signs them; an untrusted
// storage server keeps the data and answers queries — single values, sums
// over rows or time windows, weighted sums, audits — with constant-size
// proofs; verifiers check every answer against the owner's public keys; and
// the owner can revoke or update a batch so that no server can roll it back.
//
// It implements the scheme of SPEC.md on BLS12-381 (gnark-crypto):
// pairing-based vector commitments with FFT-based aggregated openings
// (package commitment), a bilinear-map accumulator for revocation (package
// accumulator), a strict CBOR wire format (package codec), and the three
// roles (package roles). This package gathers what most programs need.
//
// # Getting started
//
//	crs, _ := vds.Setup(1024, rand.Reader)            // once; share the file
//	sys, _ := vds.NewLocal(ctx, crs)                   // owner, server, verifier in memory
//	hdr, _ := sys.Owner.CreateBatch(ctx, &vds.Batch{…})
//	id, _ := hdr.Header.Digest()
//	res, _ := sys.Query(ctx, &vds.Query{Batch: id, Kind: vds.QueryRange, Columns: []string{"temp"}, From: 1, To: 10})
//	fmt.Println(res.Values[0])                         // a verified sum
//
// In a real deployment each role runs in its own process and they talk
// through package transport; the roles are the same.
//
// # Security
//
// Whoever generated the CRS must forget its trapdoor (Setup does), and every
// party must use the same CRS: pin its digest. The owner's signing key and
// accumulator secret stay in the owner's store (or a KMS behind a Signer);
// the commitment randomness is shared with the storage server only. A
// verifier trusts nothing but the CRS and the owner's public keys.
package vds

import (
	"context"
	"io"

	"github.com/vdsproject/vds/commitment"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// Parameters.
type (
	// CRS is the common reference string (SPEC §3).
	CRS = commitment.CRS
	// Digest identifies a CRS.
	Digest = commitment.Digest
)

// Roles and their options.
type (
	// DataOwner commits to, signs, revokes and updates batches.
	DataOwner = roles.DataOwner
	// StorageServer stores batches and answers queries with proofs.
	StorageServer = roles.StorageServer
	// Verifier checks answers.
	Verifier = roles.Verifier
	// Local is the three roles wired in one process.
	Local = roles.Local
	// Signer signs for the owner (Ed25519 in-process, or a KMS/HSM).
	Signer = roles.Signer
	// OwnerStore is the owner's durable state.
	OwnerStore = roles.OwnerStore
	// ServerStore is the storage server's durable state.
	ServerStore = roles.ServerStore
	// StorageClient is how an owner reaches its storage server.
	StorageClient = roles.StorageClient
	// StateSource serves signed states to verifiers.
	StateSource = roles.StateSource
)

// Data, queries and answers.
type (
	// Batch is a new batch of one stream.
	Batch = roles.Batch
	// Column is a named data column of a new batch.
	Column = roles.Column
	// BatchID identifies a batch (its header digest).
	BatchID = roles.BatchID
	// Header is what the owner signs for a batch.
	Header = roles.Header
	// SignedHeader is a header with its signature.
	SignedHeader = roles.SignedHeader
	// SignedState is a signed revocation state.
	SignedState = roles.SignedState
	// OwnerKeys are an owner's public keys.
	OwnerKeys = roles.OwnerKeys
	// Query asks for values of a batch.
	Query = roles.Query
	// QueryKind selects what a query computes.
	QueryKind = roles.QueryKind
	// Answer is a server's answer with proofs.
	Answer = roles.Answer
	// Result is a verified answer.
	Result = roles.Result
	// Value is a verified value with its decimal scale.
	Value = roles.Value
	// IngestResult is the outcome of an ingest: the batch's header, and
	// whether the stream already held exactly this content.
	IngestResult = roles.IngestResult
	// StreamQuery asks for verified sums over a time window of a stream.
	StreamQuery = roles.StreamQuery
	// StreamAnswer is a server's answer to a StreamQuery, with its
	// completeness proof.
	StreamAnswer = roles.StreamAnswer
	// StreamResult is a verified stream answer: exact totals, and the
	// batches and rows they cover.
	StreamResult = roles.StreamResult
	// StreamEntry is one batch of a stream as the owner signs it.
	StreamEntry = roles.StreamEntry
	// Appender takes a stream's rows continuously and seals them into
	// batches (DataOwner.Appender).
	Appender = roles.Appender
	// AppendPolicy says when an Appender seals a batch.
	AppendPolicy = roles.AppendPolicy
	// Row is one appended row: a timestamp and one value per column.
	Row = roles.Row
	// ColumnInfo names a column, its scale and its bound.
	ColumnInfo = roles.ColumnInfo
)

// Query kinds (SPEC §7).
const (
	QueryPoint    = roles.QueryPoint
	QueryRange    = roles.QueryRange
	QueryWeighted = roles.QueryWeighted
	QueryWindow   = roles.QueryWindow
	QueryAudit    = roles.QueryAudit
)

// Setup generates a CRS of capacity n (rows per batch) from rand, forgetting
// its trapdoor. Generate it once, write it with CRS.WriteTo, and give every
// party the same file.
func Setup(n int, rand io.Reader, opts ...commitment.SetupOption) (*CRS, error) {
	return commitment.Setup(n, rand, opts...)
}

// LoadCRS reads a CRS file, checking every point and its structure unless
// its digest is pinned with commitment.WithPinnedDigest.
func LoadCRS(r io.Reader, opts ...commitment.LoadOption) (*CRS, error) {
	return commitment.Load(r, opts...)
}

// NewDataOwner opens the data owner whose state is in store; see
// roles.NewDataOwner.
func NewDataOwner(ctx context.Context, crs *CRS, store OwnerStore, storage StorageClient, opts ...roles.OwnerOption) (*DataOwner, error) {
	return roles.NewDataOwner(ctx, crs, store, storage, opts...)
}

// NewStorageServer returns a storage server for the owner with the given
// keys; see roles.NewStorageServer.
func NewStorageServer(crs *CRS, owner OwnerKeys, store ServerStore, opts ...roles.ServerOption) (*StorageServer, error) {
	return roles.NewStorageServer(crs, owner, store, opts...)
}

// NewVerifier returns a verifier for the owner with the given keys; see
// roles.NewVerifier.
func NewVerifier(crs *CRS, owner OwnerKeys, opts ...roles.VerifierOption) (*Verifier, error) {
	return roles.NewVerifier(crs.VerifierKey(), owner, opts...)
}

// OpenStore opens the durable store at path (a bbolt file, created with
// mode 0600): an OwnerStore and a ServerStore whose every acknowledged
// change is fsync'd. Give the owner and the storage server a file each.
func OpenStore(path string) (*bolt.Store, error) { return bolt.Open(path) }

// DialStorage connects to a storage server at addrs ("http://host:5002",
// "https://…" with transport.WithTLS, "unix:///path"): one address, or
// several replicas that share one database. With several, each call goes to
// the replica that answered last and fails over to the next on a connection
// error or an unavailable server, with jittered backoff, for idempotent
// calls only — every storage call is, its mutations by the protocol (see
// transport.Failover; transport.WithOnFailover counts fail-overs). The
// client is a StorageClient for a DataOwner and a state source for a
// Verifier (roles.WithStateSource). Close it with c.T.Close().
func DialStorage(addrs []string, opts ...transport.Option) (transport.StorageClient, error) {
	return transport.DialStorage(addrs, opts...)
}

// NewLocal wires an owner, a storage server and a verifier in one process,
// with in-memory stores.
func NewLocal(ctx context.Context, crs *CRS, opts ...roles.OwnerOption) (*Local, error) {
	return roles.NewLocal(ctx, crs, memory.NewOwnerStore(), memory.NewServerStore(), opts...)
}
