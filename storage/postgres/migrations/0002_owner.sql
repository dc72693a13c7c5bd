-- vds pgstore schema, version 2: the data owner's state (roles.OwnerStore).
-- The owner's key material lives here: an owner store belongs in a
-- database the storage servers cannot read.

-- The key material: at most one row.
CREATE TABLE vds_owner_secrets (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    secrets   BYTEA NOT NULL        -- CBOR roles.OwnerSecrets
);

-- Next unused sequence number per stream (deprecated ReserveSeq).
CREATE TABLE vds_owner_seq (
    stream BYTEA PRIMARY KEY,
    next   BYTEA NOT NULL           -- 8 bytes big-endian
);

-- What the owner remembers of each batch it created.
CREATE TABLE vds_owner_records (
    id     BYTEA PRIMARY KEY,
    record BYTEA NOT NULL           -- CBOR roles.BatchRecord
);

-- Operations not yet acknowledged by the storage server, in order.
CREATE TABLE vds_owner_pending (
    n  BIGINT PRIMARY KEY,          -- insertion order
    id BYTEA NOT NULL,
    op BYTEA NOT NULL               -- CBOR roles.PendingOp
);
CREATE INDEX vds_owner_pending_id ON vds_owner_pending (id);
