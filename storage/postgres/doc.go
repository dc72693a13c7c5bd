// Package postgres is the shared, durable store of package roles on
// PostgreSQL: a [roles.ServerStore] (with [roles.ProofTableStore] and
// [roles.ProofTableClaimer]) that any number of storage server processes —
// replicas behind one load balancer — use at once, and a
// [roles.OwnerStore] for the data owner.
//
//	s, err := postgres.Open(ctx, "postgres://vds@db.internal/vds")
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	srv, err := roles.NewStorageServer(crs, ownerKeys, s)
//
// It uses github.com/jackc/pgx/v5 with a connection pool (pgxpool); the DSN
// is a postgres:// URL or a keyword/value string as pgx reads them
// (pool_max_conns and the other pgxpool settings included).
//
// A *[Store] implements both roles, as a storage/bolt file does: the
// state chain is one (LatestState and States serve both interfaces; a
// state the owner commits is applied with all its effects), and the
// owner's keys, records and pending operations have tables of their own,
// and so have the rows appenders acknowledged and have not sealed
// ([roles.RowStore], migration 0004: a seal commits the batch and deletes
// its rows in one transaction, fenced as every owner write).
// The owner store holds the owner's key material (the Ed25519 seed and
// the accumulator secret s): give the owner a database of its own, which
// the storage servers — untrusted — cannot read, never the replicas'
// database. Several owner processes share one owner store only under the
// owner's lease (see below), never with the Store itself.
//
// # The owner's lease
//
// Owners that share an owner store for fail-over take turns under a lease
// (migration 0003, table vds_owner_lease): [Store.AcquireLease] starts a
// term with a fencing token larger than every earlier term's, while no
// other holder's lease is unexpired (database time); [Store.RenewLease]
// extends it and fails with [ErrFenced] once the term ended;
// [Store.ReleaseLease] hands over at once. The term's owner works on
// [Store.Fenced]: each of its writes locks the lease row first and commits
// only while its token is the current one and unexpired, else fails with
// ErrFenced (roles.ErrNotLeader) having written nothing. An acquisition
// and a write of the term before are serialised on that row, so a former
// leader, however long it was paused, never commits a state after a new
// term began.
//
// # Schema and migrations
//
// Open creates and migrates the schema itself from versioned SQL files
// embedded in the binary (migrations/NNNN_name.sql; [SchemaVersion] is
// their number). Table vds_schema_migrations records each applied version
// with the SHA-256 of its file. (It is not called schema_migrations, the
// name other migration tools use with other columns, so that a database
// shared with them keeps working.) Each migration runs in one transaction
// that begins by inserting its row: when several replicas start at once,
// the first insert holds the primary key until its transaction commits,
// and the others, blocked on it, then insert nothing and skip the
// migration. No advisory lock is taken. Open refuses a database whose
// schema is newer than the binary, or whose recorded checksum of a
// migration differs from the embedded file, with an error wrapping
// [ErrUnknownSchema].
//
// # Transactions and replicas
//
// Every call that changes the store is one transaction at isolation level
// SERIALIZABLE (PutBatch, AppendState, UpdateBatch, and the owner's
// InitSecrets, ReserveSeq, Commit and RotateKey — the new signing seed and
// the handover state together, no schema change), or one statement (PutWitness,
// PutProofTable, ClaimProofTable): a call that returns nil
// has committed its whole change, and one that fails has committed
// nothing. The checks (chain order through [roles.NextStep], one live
// batch per stream and sequence number, revoked ids refused) run inside
// the transaction that writes, so two replicas receiving the same push at
// once cannot both apply it: one commits, the other's transaction fails
// with a serialization failure or a unique-key violation and is run again
// (up to [DefaultTxRetries] times, with a short random pause), and then
// finds the state or batch held — a no-op if it is the same (same digest,
// same header), a typed error (roles.ErrConflict, *roles.RevokedError,
// *roles.MissingStatesError) if it differs.
//
// Reads are single statements, each of one consistent snapshot (ranges of
// the chain read the chain's length in the same statement). The store
// caches nothing: LatestState, the revocation marks and the list are read
// from the database on every call, so a replica never answers from an
// older state than the database held when the call began, and a replica
// that was down, or whose store was reopened, serves what the others wrote
// at once — it catches up from the database, never from the owner.
// Precomputed proof tables and cached witnesses are keyed by immutable
// content (batch id, column; witness epoch), so whichever replica wrote
// them, every replica may use them.
//
// Proof tables: before computing a table, a server claims it in
// vds_precompute_claims (an INSERT … ON CONFLICT DO UPDATE that takes a
// claim only if none is held or the held one has lapsed, by the database's
// clock); replicas therefore compute each table once, and a table whose
// claimant died is computed by another after [roles.PrecomputeClaimTTL].
// Writing a table twice anyway (a claim that lapsed mid-computation)
// replaces it with the same bytes.
//
// # What it relies on
//
// Plain SQL only: no extensions, no stored procedures, no advisory locks,
// no LISTEN/NOTIFY, no SET STORAGE. It relies on transactional DDL (for the
// migrations), SERIALIZABLE isolation, INSERT … ON CONFLICT (… DO NOTHING
// and … DO UPDATE … WHERE), LEFT JOIN LATERAL with unnest(…) WITH
// ORDINALITY, substring and octet_length on BYTEA, and now(). These are
// what PostgreSQL-compatible distributed databases (CockroachDB,
// YugabyteDB) document as supported; the package is tested on PostgreSQL
// (15) only.
//
// # Errors
//
// Contexts are honoured by pgx: a cancelled or expired ctx interrupts the
// statement in progress (pgx closes the connection or sends a cancel
// request) and the call fails with an error wrapping ctx.Err(). A database
// that cannot be reached, a connection lost mid-call and a server shutting
// down fail with an error wrapping roles.ErrUnavailable, and so does a
// write transaction that still conflicts after its retries; a closed
// Store fails with roles.ErrClosed. Errors never quote the DSN (which may
// hold a password).
//
// # Trust in the database's own bytes
//
// As in storage/bolt: protocol values (states, headers) are stored
// with the strict codec and checked on read; the accumulator history,
// witnesses, proof tables and batch data are stored in the fixed-width
// layouts of storage/internal/rawenc and decoded without the subgroup check of
// their points (encoding, range and curve are checked). Whoever can write
// the database can replace the states themselves; a verifier refuses
// whatever a corrupted store makes a server answer.
package postgres
