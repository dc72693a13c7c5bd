package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun runs the example: every check in it returns an error if it fails.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2160 rows as 9 batches", "9 batches already stored", "January", "March", "overlapping batch refused", "missing a batch rejected: true"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
