-- vds pgstore schema, version 4: rows appenders acknowledged and have not
-- sealed into a batch yet (roles.RowStore). A seal commits the batch and
-- deletes its rows in one transaction.
CREATE TABLE vds_owner_rows (
    stream BYTEA NOT NULL,
    t      BYTEA NOT NULL,          -- 8 bytes big-endian: bytewise order is time order
    vals   BYTEA NOT NULL,          -- 8 bytes big-endian per value
    PRIMARY KEY (stream, t)
);
