-- vds pgstore schema, version 3: the owner's lease (one leading owner
-- among processes that share the owner's store).
--
-- At most one row. token grows by one at every acquisition by a new term
-- and is never reused; expires_at is on the database's clock (now()), so
-- the owners' clocks do not matter. Every owner write of a fenced store
-- locks this row and checks that its token is still the current one and
-- unexpired (storage/postgres: Fenced).
CREATE TABLE vds_owner_lease (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    holder     TEXT NOT NULL,
    token      BIGINT NOT NULL CHECK (token > 0),
    expires_at TIMESTAMPTZ NOT NULL
);
