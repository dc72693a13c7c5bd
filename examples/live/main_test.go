package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestRun runs the example for a few seconds: every check in it returns
// an error if it fails.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, 3*time.Second, 1200*time.Millisecond, 300); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"(verified)", "closed: all "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(&out, 0, time.Second, 1); err == nil {
		t.Error("a zero duration is refused")
	}
}
