package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vdsproject/vds/internal/pgtest"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/bolt"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/storage/postgres"
)

// The server stores the store benchmarks compare: in memory, the bbolt
// file, and PostgreSQL (a fresh database of the server VDS_TEST_POSTGRES
// names; skipped without it).
var benchStores = []struct {
	name string
	open func(b *testing.B) roles.ServerStore
}{
	{"memory", func(*testing.B) roles.ServerStore { return memory.NewServerStore() }},
	{"bolt", func(b *testing.B) roles.ServerStore {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "server.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) roles.ServerStore {
		s, err := postgres.Open(context.Background(), pgtest.DSN(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

// benchmarkQueryRangeStores is registered as
// BenchmarkQueryRange/store=S/cols=1/n=1024: the range answer of
// BenchmarkQueryRange/cols=1/n=1024 (direct, no proof tables) with the
// server's state in store S — the batch, the latest state and the cached
// witness read from it on every answer.
func benchmarkQueryRangeStores(b *testing.B) {
	ctx := context.Background()
	const n = 1024
	for _, st := range benchStores {
		b.Run(fmt.Sprintf("store=%s/cols=1/n=%d", st.name, n), func(b *testing.B) {
			l, q := rangeSystemOn(b, n, 1, st.open(b))
			if _, err := l.Query(ctx, q); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Server.Answer(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// captureStorage forwards the owner's states to the server and keeps its
// last store_batch request instead of sending it.
type captureStorage struct {
	*roles.StorageServer
	last *roles.StoreBatchRequest
}

func (c *captureStorage) StoreBatch(_ context.Context, req *roles.StoreBatchRequest) error {
	c.last = req
	return nil
}

// BenchmarkStoreBatch is the storage server's store_batch of a new batch
// of n rows and one column with the owner's state (SPEC §8): header and
// state signatures, the commitment check (one G1 and one G2 MSM), and the
// durable write of the batch with its state in store S. The owner's
// CreateBatch that makes each request runs with the timer stopped.
// Compare the stores with each other, and with BenchmarkMSMG1/n=N.
func BenchmarkStoreBatch(b *testing.B) {
	ctx := context.Background()
	const n = 1024
	for _, st := range benchStores {
		b.Run(fmt.Sprintf("store=%s/n=%d", st.name, n), func(b *testing.B) {
			store := st.open(b)
			crs := crsOf(b, n)
			capture := &captureStorage{}
			o, err := roles.NewDataOwner(ctx, crs, memory.NewOwnerStore(), capture)
			if err != nil {
				b.Fatal(err)
			}
			srv, err := roles.NewStorageServer(crs, o.Keys(), store, roles.WithoutPrecompute())
			if err != nil {
				b.Fatal(err)
			}
			capture.StorageServer = srv
			if err := o.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			batch := randomBatch(n, 1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for k := range batch.Timestamps {
					batch.Timestamps[k] += uint64(n) * 1000 // a new batch each time
				}
				if _, err := o.CreateBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				req := capture.last
				b.StartTimer()
				if err := srv.StoreBatch(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
