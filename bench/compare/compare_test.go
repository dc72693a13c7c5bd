package compare

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/vdsproject/vds/commitment"
)

// schemes returns the three schemes over a CRS of capacity n.
func schemes(t testing.TB, n int) []Scheme {
	t.Helper()
	crs, err := commitment.Setup(n, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return []Scheme{VDS{CRS: crs}, VDS{CRS: crs, Precompute: true}, Merkle{}, Ed25519{}}
}

func sameSums(t *testing.T, got, want []*big.Int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d sums, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Cmp(want[i]) != 0 {
			t.Fatalf("column %d: sum %v, want %v", i, got[i], want[i])
		}
	}
}

// TestHonestAndOmitted runs every query of the benchmarks on every scheme
// (n = 64, 1 and 4 columns): the honest answer verifies with the right
// sums; a server omitting the last selected row is caught by vds and the
// Merkle log, and not by per-row signatures, whose verifier accepts a
// wrong sum.
func TestHonestAndOmitted(t *testing.T) {
	ctx := context.Background()
	const n = 64
	for _, cols := range []int{1, 4} {
		d := NewData(n, cols, 1_700_000_000_000, 1)
		for _, sc := range schemes(t, n) {
			t.Run(fmt.Sprintf("%s/cols=%d", sc.Name(), cols), func(t *testing.T) {
				sys, err := sc.Build(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				if v, ok := sys.(*vdsSystem); ok {
					list, err := v.l.Server.ListBatches(ctx, "compare")
					if err != nil || len(list) != 1 {
						t.Fatalf("list: %v, %d batches", err, len(list))
					}
					want := uint32(0)
					if v.precompute {
						want = uint32(cols + 1) // the columns and the timestamps
					}
					if list[0].ProofColumns != want {
						t.Fatalf("%d proof tables, want %d", list[0].ProofColumns, want)
					}
				}
				check := func(nq Named) {
					t.Helper()
					ans, err := sys.Answer(ctx, nq.Q)
					if err != nil {
						t.Fatal(err)
					}
					sums, err := sys.Verify(ctx, nq.Q, ans)
					if err != nil {
						t.Fatalf("%s: honest answer rejected: %v", nq.Name, err)
					}
					sameSums(t, sums, nq.Q.Sums(d))
					lie, err := sys.Omit(ctx, nq.Q)
					if err != nil {
						t.Fatal(err)
					}
					sums, err = sys.Verify(ctx, nq.Q, lie)
					switch sc.Name() {
					case "ed25519":
						if err != nil {
							t.Fatalf("%s: the per-row verifier caught the omission (%v): the documented limitation no longer holds", nq.Name, err)
						}
						if nq.Q.Kind != Point && sums[0].Cmp(nq.Q.Sums(d)[0]) == 0 {
							t.Fatalf("%s: omitted answer gives the honest sum", nq.Name)
						}
					default:
						if err == nil {
							t.Fatalf("%s: omission not caught", nq.Name)
						}
					}
				}
				for _, nq := range Queries(d) {
					check(nq)
				}
				// A second batch, an answer about it, its revocation.
				second := NewData(1, cols, d.Times[n-1]+1000, 2)
				if err := sys.AddBatch(ctx, second); err != nil {
					t.Fatal(err)
				}
				q1 := Query{Batch: 1, Kind: Point, Row: 1}
				old, err := sys.Answer(ctx, q1)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sys.Verify(ctx, q1, old); err != nil {
					t.Fatalf("second batch: %v", err)
				}
				before := sys.VerifierState()
				if err := sys.Revoke(ctx, 1); err != nil {
					t.Fatal(err)
				}
				if _, err := sys.Verify(ctx, q1, old); err == nil {
					t.Fatal("an answer about the revoked batch verified after its revocation")
				}
				if sys.VerifierState() <= 0 || before <= 0 {
					t.Fatalf("verifier state %d then %d bytes", before, sys.VerifierState())
				}
				check(Revoked(d))
			})
		}
	}
}

// TestPerRowGap: per-row signatures do catch a row left out between two
// others (the signed indices are not consecutive); only the end of a run is
// open.
func TestPerRowGap(t *testing.T) {
	d := NewData(16, 1, 1_700_000_000_000, 3)
	sys, err := Ed25519{}.Build(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	s := sys.(*edSystem)
	q := Query{Kind: Range, From: 2, To: 6}
	gap := append(s.encode(0, 2, 3), s.rows[0][4]...) // rows 2, 3, 5
	gap[3] = 3
	if _, err := s.Verify(context.Background(), q, gap); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("gap: %v, want ErrIncomplete", err)
	}
	bad := s.encode(0, 2, 6)
	bad[10] ^= 1 // a signature byte
	if _, err := s.Verify(context.Background(), q, bad); !errors.Is(err, ErrRejected) {
		t.Fatalf("bad signature: %v, want ErrRejected", err)
	}
}

// TestMerkleTampered: a changed value, a changed proof hash and a
// truncated answer are rejected by the Merkle verifier.
func TestMerkleTampered(t *testing.T) {
	ctx := context.Background()
	d := NewData(40, 2, 1_700_000_000_000, 4)
	sys, err := Merkle{}.Build(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, nq := range Queries(d) {
		ans, err := sys.Answer(ctx, nq.Q)
		if err != nil {
			t.Fatal(err)
		}
		for name, at := range map[string]int{"value": 8 + 4 + 4 + 1 + 16, "proof hash": len(ans) - 1} {
			bad := append([]byte(nil), ans...)
			bad[at] ^= 1
			if _, err := sys.Verify(ctx, nq.Q, bad); !errors.Is(err, ErrRejected) {
				t.Errorf("%s, %s changed: %v, want ErrRejected", nq.Name, name, err)
			}
		}
		if _, err := sys.Verify(ctx, nq.Q, ans[:len(ans)-3]); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s truncated: %v, want ErrMalformed", nq.Name, err)
		}
	}
}
