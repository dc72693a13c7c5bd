#!/bin/sh
# Runs once, on the node that bootstraps the cluster: the storage servers'
# database and the owners' (which holds the owner's keys) apart, each with
# a role of its own; nobody else may connect to the owners'.
set -eu
psql -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE ROLE vds_storage LOGIN PASSWORD '${STORAGE_DB_PASSWORD}';
CREATE ROLE vds_owner LOGIN PASSWORD '${OWNER_DB_PASSWORD}';
CREATE DATABASE vds OWNER vds_storage;
CREATE DATABASE vds_owner OWNER vds_owner;
REVOKE CONNECT ON DATABASE vds_owner FROM PUBLIC;
REVOKE CONNECT ON DATABASE vds FROM PUBLIC;
GRANT CONNECT ON DATABASE vds TO vds_storage;
GRANT CONNECT ON DATABASE vds_owner TO vds_owner;
SQL
