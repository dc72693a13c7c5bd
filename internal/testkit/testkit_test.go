package testkit

import "testing"

func TestCRSIsSharedPerCapacity(t *testing.T) {
	a, b, c := CRS(t, 8), CRS(t, 8), CRS(t, 16)
	if a != b {
		t.Fatal("two calls with one capacity returned different CRSs")
	}
	if a == c || c.N() != 16 || a.N() != 8 {
		t.Fatalf("capacities %d and %d, want 8 and 16 in distinct CRSs", a.N(), c.N())
	}
}
