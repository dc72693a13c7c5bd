// Package bench holds the benchmarks of vds, each next to the raw
// gnark-crypto primitive it should be compared with (see README.md).
package bench
