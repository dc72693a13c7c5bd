//go:build race

package e2e

// raceEnabled: the test binary runs with the race detector, and so do the
// servers it builds.
const raceEnabled = true
