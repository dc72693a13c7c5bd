// Package bolt is the embedded, durable default store of package roles:
// one [go.etcd.io/bbolt] file holding a [roles.ServerStore], a
// [roles.OwnerStore], or both.
//
//	s, err := bolt.Open("/var/lib/vds/server.db")
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	srv, err := roles.NewStorageServer(crs, ownerKeys, s)
//
// A *[Store] implements both interfaces with separate buckets for the
// server's batches and witnesses and for the owner's keys, records and
// pending operations. The revocation chain is the exception: LatestState and
// States are methods of both interfaces, so a file holds one chain, and a
// state appended through either role (AppendState, UpdateBatch or Commit)
// is applied with all its effects — the state, the accumulator history, the
// revocation mark and the freed live slot — in the same transaction. A
// server and an owner normally use different files; sharing one is
// consistent (the owner's states are then the server's too).
//
// # Durability
//
// Every call that changes the store runs in exactly one bbolt write
// transaction, which bbolt commits with fsync (NoSync is never set): a call
// that returns nil has its whole change on disk, and a call that fails —
// or a crash before the commit — leaves no part of it. UpdateBatch (state
// and new batch) and Commit (state, records and pending operations) are
// therefore atomic across crashes, as SPEC §6 requires of an update; so is
// SealRows ([roles.RowStore]: an appender's batch committed with the
// removal of its rows, bucket o.rows, created on the first append so that
// older files open unchanged), as SPEC §11.6 requires. Each
// invariant (chain order through [roles.NextStep], one live batch per stream
// and sequence number, revoked ids refused) is checked inside the same
// transaction that writes, so several goroutines may share a Store.
//
// # File mode and locking
//
// The file is created with mode 0600 ([FileMode]): an owner store holds the
// Ed25519 seed and the accumulator secret s. If an existing file grants
// anything beyond read and write to its owner (for example 0644), Open
// tightens it to 0600 before reading it. Key material is never logged, and
// [roles.OwnerSecrets] redacts itself when printed.
//
// bbolt takes an exclusive flock on the file for the life of the Store, so
// only one process (and one Store per process) can use a file at a time. A
// second Open waits for the lock at most the lock timeout
// ([DefaultLockTimeout], or [WithLockTimeout]) and then fails with an error
// wrapping [ErrLocked] instead of hanging. The lock also means that the
// "several server processes can share one store" of roles.ServerStore does
// not apply here: processes cannot share a bbolt file; goroutines can share
// a Store.
//
// # Trust in the file's own points
//
// Values that travel in protocol messages are stored with the strict codec
// (codec.Default(), CBOR): states, headers, batch summaries, owner records,
// key material and pending operations. Decoding them re-checks every point
// (curve, subgroup, identity rule), and the store refuses on write any value
// it could not decode again.
//
// The accumulator history is stored a second time, for speed: each f_E as
// gnark-crypto's 96-byte uncompressed RawBytes and each x_E as a 32-byte
// canonical scalar, in buckets of their own, and so are cached witnesses.
// History and Witness decode these points checking the encoding, that the
// coordinates are below p and that the point is on the curve, but NOT that
// it is in the prime-order subgroup — the expensive part of a full check. This
// is a deliberate trust decision: the bytes are the store's own, written from
// states that were validated when they were decoded from the wire, inside
// fsync'd transactions of a file only its owner can write. Whoever can
// modify the file can also replace the states themselves, so the subgroup
// check would not protect against them. Without it, History(0, 100000)
// takes about 50 ms instead of about 7 s (BenchmarkHistory shows the
// ratio at 1000 epochs).
//
// Batch data is large (up to 65,536 rows × k columns), so it is stored in a
// fixed-width binary layout rather than CBOR and decoded in one pass with a
// handful of allocations; its scalars are checked to be below r.
//
// # File layout and compatibility
//
// Keys are big-endian so that bbolt's byte order is numeric order: epochs
// as 8 bytes; the list index as an order-preserving encoding of the stream
// name (0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01) ‖ sequence
// number (8) ‖ version (4) ‖ batch id. The layout is versioned: the meta
// bucket holds [FormatVersion], and Open refuses a file with another
// version, or a bbolt file that is not a store, with an error wrapping
// [ErrUnknownFormat]. A change to any bucket, key or value encoding is a new
// FormatVersion.
package bolt
