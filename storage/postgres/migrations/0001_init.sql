-- vds pgstore schema, version 1: the storage server's state.
-- Plain SQL (no extensions, no server-side functions), so that
-- PostgreSQL-compatible databases accept it too. Integers that are uint64 in
-- Go and must sort numerically (sequence numbers) are 8-byte big-endian
-- BYTEA; stream names are BYTEA (they may hold NUL bytes), compared
-- bytewise as Go compares strings.

-- The signed state chain: one row per epoch, with the accumulator history
-- (f_E, and x_E for E >= 1) stored raw beside the CBOR state.
CREATE TABLE vds_states (
    epoch BIGINT PRIMARY KEY CHECK (epoch >= 0),
    state BYTEA NOT NULL,           -- CBOR roles.SignedState
    acc   BYTEA NOT NULL,           -- f_E: 96-byte raw G1 point
    x     BYTEA                     -- x_E: 32-byte scalar; NULL at epoch 0
);

-- Revoked batch ids (a batch may be revoked before it is stored).
CREATE TABLE vds_revoked (
    id    BYTEA PRIMARY KEY,
    epoch BIGINT NOT NULL
);

-- Stored batches. A batch row is never updated or deleted: its revocation
-- lives in vds_revoked, its live slot in vds_live.
CREATE TABLE vds_batches (
    id         BYTEA PRIMARY KEY,   -- header digest (32 bytes)
    stream     BYTEA NOT NULL,
    seq        BYTEA NOT NULL,      -- 8 bytes big-endian
    version    BIGINT NOT NULL,
    nrows      BIGINT NOT NULL,
    ncols      BIGINT NOT NULL,
    first_time BIGINT NOT NULL,     -- uint64 bits
    last_time  BIGINT NOT NULL,     -- uint64 bits
    header     BYTEA NOT NULL,      -- CBOR roles.SignedHeader
    data       BYTEA NOT NULL       -- internal/rawenc batch data layout
);
CREATE INDEX vds_batches_list ON vds_batches (stream, seq, version, id);

-- The live batch of each stream and sequence number.
CREATE TABLE vds_live (
    stream BYTEA NOT NULL,
    seq    BYTEA NOT NULL,
    id     BYTEA NOT NULL UNIQUE,
    PRIMARY KEY (stream, seq)
);

-- Cached non-membership witnesses.
CREATE TABLE vds_witnesses (
    id      BYTEA PRIMARY KEY,
    epoch   BIGINT NOT NULL,
    witness BYTEA NOT NULL          -- internal/rawenc witness layout
);

-- Precomputed proof tables, one row per batch and column.
CREATE TABLE vds_proof_tables (
    id    BYTEA NOT NULL REFERENCES vds_batches (id),
    col   INTEGER NOT NULL,
    tab   BYTEA NOT NULL,           -- internal/rawenc table rows
    PRIMARY KEY (id, col)
);

-- Claims on the precomputation of a table, so that replicas sharing the
-- database do not compute the same table at once.
CREATE TABLE vds_precompute_claims (
    id         BYTEA NOT NULL,
    col        INTEGER NOT NULL,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, col)
);
