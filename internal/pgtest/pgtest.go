// Package pgtest gives tests a fresh PostgreSQL database of their own.
//
// It reads the DSN of a server where it may CREATE DATABASE from the
// environment variable VDS_TEST_POSTGRES (scripts/postgres starts a
// throwaway server and sets it; scripts/test uses it). Without it, DSN skips
// the test with [SkipReason]. Each call creates a database with a random
// name and drops it when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the admin DSN.
const EnvVar = "VDS_TEST_POSTGRES"

// SkipReason is the one line a test skipped for want of a server logs.
const SkipReason = "PostgreSQL tests skipped: VDS_TEST_POSTGRES not set (./scripts/test starts a throwaway server)"

// AdminDSN returns the DSN of VDS_TEST_POSTGRES, or skips tb.
func AdminDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvVar)
	if dsn == "" {
		tb.Skip(SkipReason)
	}
	return dsn
}

// DSN creates an empty database for tb and returns a DSN naming it; the
// database is dropped (with FORCE, closing what is still connected) when tb
// ends. It skips tb without VDS_TEST_POSTGRES and fails it if the server
// cannot be reached.
func DSN(tb testing.TB) string {
	tb.Helper()
	admin := AdminDSN(tb)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	name := "vds_test_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := WithDatabase(admin, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// WithDatabase returns dsn (a URL or a keyword/value string) naming the
// database name instead.
func WithDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvVar, err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// Keyword/value form: a later keyword overrides an earlier one.
	return dsn + " dbname=" + name, nil
}

func exec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
