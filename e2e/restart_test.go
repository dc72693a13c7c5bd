package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/transport"
)

// TestCallDuringStorageRestart asks the storage server a question while it
// is down for a restart, with a client configured to retry six times with
// exponential backoff from 50 ms (WithRetries: at least 1.5 s in all, with
// jitter): the call must ride out a restart that takes a fraction of that,
// over HTTP and over Unix sockets alike.
func TestCallDuringStorageRestart(t *testing.T) {
	for _, kind := range []string{kindHTTP, kindUnix} {
		t.Run(kind, func(t *testing.T) {
			s := newSystem(t, kind, sysOptions{})
			nb := makeBatch("cdr", capacity, 50, 1_000)
			id, _ := s.create(t, nb)
			q := rangeQ(id, 2, 9, allCols...)
			s.ask(t, q)

			c := transport.StorageClient{T: s.dial(t, s.addrs["storage"], transport.WithRetries(6, 50*time.Millisecond))}
			_, err := c.Health(context.Background()) // a pooled connection to the server about to stop
			require.NoError(t, err)
			s.stopStorage(t)
			type result struct {
				err     error
				elapsed time.Duration
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				ans, err := c.Answer(context.Background(), q)
				if err == nil {
					_, err = s.verifier.Verify(context.Background(), q, ans)
				}
				done <- result{err, time.Since(start)}
			}()
			time.Sleep(150 * time.Millisecond)
			s.startStorage(t)
			up := time.Since(start)
			r := <-done
			require.NoError(t, r.err, "a call made while the storage server restarted failed after %s (the server was back after %s); "+
				"WithRetries(6, 50ms) promises at least 1.5 s of retries with backoff", r.elapsed.Round(time.Millisecond), up.Round(time.Millisecond))
		})
	}
}
