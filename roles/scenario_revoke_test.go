package roles_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/roles"
)

// The scenarios that change the owner's state (revocation and update), and
// verifiers that hold an old state while they do.

func TestScenarioRevocation(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	var ids []roles.BatchID
	for i := range 3 {
		ids = append(ids, r.create(t, sampleBatch("rev", 6, uint64(20+i))))
	}
	A := ids[1]
	qA := rangeQ(A, 1, 6, "temp", "load")
	before := r.honest(t, qA)

	st, err := r.l.Owner.Revoke(ctx, A)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.State.Epoch)
	require.NotNil(t, st.State.Revoked)
	require.Equal(t, A, st.State.Revoked.Batch)
	require.Equal(t, codec.Scalar(A.Element()), st.State.Revoked.X)
	require.EqualValues(t, 1, r.l.Verifier.State().State.Epoch, "the owner pushed the state to the verifier")
	latest, err := r.l.Server.LatestState(ctx)
	require.NoError(t, err)
	require.Equal(t, st.State, latest.State)

	// The honest server refuses the revoked batch.
	_, err = r.l.Server.Answer(ctx, qA)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	_, err = r.l.Server.Witness(ctx, A)
	requireErrIs(t, err, roles.ErrRevoked)
	_, err = r.l.Query(ctx, qA)
	requireErrIs(t, err, roles.ErrRevoked)
	// A verifier given an answer for it fails: the pre-revocation answer is
	// stale, and relabelled to the current epoch it is revoked.
	requireErrIs(t, r.verify(qA, before), roles.ErrStaleState)
	relabelled := deepCopy(t, before)
	relabelled.Epoch = 1
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	require.Equal(t, A, re.Batch)
	// Other batches still verify, at the new epoch.
	for _, id := range []roles.BatchID{ids[0], ids[2]} {
		res, err := r.l.Query(ctx, rangeQ(id, 1, 6, "temp"))
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Epoch)
	}
	// Revoking again, updating it, or storing it again are refused.
	_, err = r.l.Owner.Revoke(ctx, A)
	requireErrIs(t, err, roles.ErrRevoked)
	_, _, err = r.l.Owner.Update(ctx, A, sampleBatch("rev", 6, 99))
	requireErrIs(t, err, roles.ErrRevoked)
	sb := r.stored(t, A)
	requireErrIs(t, r.l.Server.StoreBatch(ctx, &roles.StoreBatchRequest{Header: sb.Header, Data: sb.Data}), roles.ErrRevoked)
	// The listing shows it revoked.
	infos, err := r.l.Server.ListBatches(ctx, "rev")
	require.NoError(t, err)
	revoked := map[roles.BatchID]bool{}
	for _, in := range infos {
		revoked[in.ID] = in.Revoked
	}
	require.Equal(t, map[roles.BatchID]bool{ids[0]: false, A: true, ids[2]: false}, revoked)
	// A second revocation moves to epoch 2; the first one is still honoured.
	st2 := r.revoke(t, ids[0])
	require.EqualValues(t, 2, st2.State.Epoch)
	d1, err := st.State.Digest()
	require.NoError(t, err)
	require.Equal(t, d1, st2.State.Prev)
	relabelled.Epoch = 2
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	_, err = r.l.Query(ctx, rangeQ(ids[2], 1, 6, "temp"))
	require.NoError(t, err)
}

func TestScenarioUpdate(t *testing.T) {
	t.Parallel()
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	A := r.create(t, sampleBatch("upd", 6, 30))
	other := r.create(t, sampleBatch("upd", 6, 31))
	hA, err := r.l.Server.Header(ctx, A)
	require.NoError(t, err)
	qA := rangeQ(A, 1, 6, "temp")
	before := r.honest(t, qA)

	nb := sampleBatch("", 5, 32) // stream taken from the old version
	sh, st, err := r.l.Owner.Update(ctx, A, nb)
	require.NoError(t, err)
	require.EqualValues(t, 1, sh.Header.Version)
	require.Equal(t, hA.Header.Stream, sh.Header.Stream)
	require.Equal(t, hA.Header.Seq, sh.Header.Seq)
	require.EqualValues(t, 5, sh.Header.Rows)
	require.EqualValues(t, 1, st.State.Epoch)
	require.Equal(t, A, st.State.Revoked.Batch)
	B, err := sh.Header.Digest()
	require.NoError(t, err)
	require.NotEqual(t, A, B)

	// The new version verifies with the new data.
	res, err := r.l.Query(ctx, rangeQ(B, 1, 5, "temp", "load"))
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Epoch)
	require.EqualValues(t, 1, res.Header.Version)
	require.Equal(t, sum(nb.Columns[0].Values, 1, 5), res.Values[0].Int.Int64())
	require.Equal(t, sum(nb.Columns[1].Values, 1, 5), res.Values[1].Int.Int64())
	// The old version is rejected.
	_, err = r.l.Server.Answer(ctx, qA)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: A, Epoch: 1}, *re)
	requireErrIs(t, r.verify(qA, before), roles.ErrStaleState)
	relabelled := deepCopy(t, before)
	relabelled.Epoch = 1
	require.ErrorAs(t, r.verify(qA, relabelled), &re)
	// Other batches are untouched.
	_, err = r.l.Query(ctx, rangeQ(other, 1, 6, "temp"))
	require.NoError(t, err)

	// A second update: version 2, epoch 2; the first update's version is
	// then rejected too.
	nb2 := sampleBatch("upd", 4, 33)
	sh2, st2, err := r.l.Owner.Update(ctx, B, nb2)
	require.NoError(t, err)
	require.EqualValues(t, 2, sh2.Header.Version)
	require.EqualValues(t, 2, st2.State.Epoch)
	require.Equal(t, hA.Header.Seq, sh2.Header.Seq)
	C, _ := sh2.Header.Digest()
	res, err = r.l.Query(ctx, rangeQ(C, 1, 4, "temp"))
	require.NoError(t, err)
	require.Equal(t, sum(nb2.Columns[0].Values, 1, 4), res.Values[0].Int.Int64())
	_, err = r.l.Query(ctx, rangeQ(B, 1, 5, "temp"))
	requireErrIs(t, err, roles.ErrRevoked)
	require.EqualValues(t, 2, r.l.Verifier.State().State.Epoch)

	// Updating a superseded version, or into another stream, is refused.
	_, _, err = r.l.Owner.Update(ctx, A, sampleBatch("upd", 3, 34))
	requireErrIs(t, err, roles.ErrRevoked)
	_, _, err = r.l.Owner.Update(ctx, C, sampleBatch("elsewhere", 3, 35))
	requireErrIs(t, err, roles.ErrConflict)
	var sc *roles.StreamConflictError
	require.ErrorAs(t, err, &sc)
	// The listing holds the three versions of the slot, the latest live.
	infos, err := r.l.Server.ListBatches(ctx, "upd")
	require.NoError(t, err)
	versions := map[uint32]bool{}
	for _, in := range infos {
		if in.Seq == hA.Header.Seq {
			versions[in.Version] = in.Revoked
		}
	}
	require.Equal(t, map[uint32]bool{0: true, 1: true, 2: false}, versions)
}

// TestScenarioStaleVerifier: a verifier cut off from the owner must not
// verify forever against its old state when configured with a maximum age.
func TestScenarioStaleVerifier(t *testing.T) {
	t.Parallel()
	// One clock for the owner (it stamps states) and the verifiers.
	var mu sync.Mutex
	t0 := time.UnixMilli(1_700_000_000_000)
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
	r := newRig(t, testCRS(t), rigOptions{clock: clock})
	ctx := r.ctx
	A := r.create(t, sampleBatch("age", 4, 60))
	q := rangeQ(A, 1, 4, "temp")
	ans := r.honest(t, q)
	st0, err := r.l.Owner.LatestState(ctx)
	require.NoError(t, err)
	require.InDelta(t, t0.UnixMilli(), st0.IssuedAt, 10, "re-signed with the stream head at t0 (+1 ms per re-signature)")
	setNow(t0.Add(30 * time.Second))
	v := r.freshVerifier(t, st0, roles.WithMaxStateAge(time.Minute), roles.WithVerifierClock(clock))
	_, err = v.Verify(ctx, q, ans)
	require.NoError(t, err)
	// The owner revokes A; the isolated verifier does not hear of it, but
	// its state ages out.
	r.revoke(t, A)
	setNow(t0.Add(2 * time.Minute))
	_, err = v.Verify(ctx, q, ans)
	requireErrIs(t, err, roles.ErrStaleState)
	var se *roles.StaleStateError
	require.ErrorAs(t, err, &se)
	require.NotEmpty(t, se.Reason)
	// With a state source it catches up — and then the replay is stale and
	// the batch revoked.
	vs := r.freshVerifier(t, st0, roles.WithMaxStateAge(time.Minute), roles.WithVerifierClock(clock), roles.WithStateSource(r.l.Server))
	latest, err := r.l.Owner.Refresh(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, latest.State.Epoch)
	setNow(t0.Add(2*time.Minute + 10*time.Second))
	_, err = vs.Verify(ctx, q, ans)
	requireErrIs(t, err, roles.ErrStaleState)
	require.EqualValues(t, 1, vs.State().State.Epoch)
	require.Equal(t, latest.IssuedAt, vs.State().IssuedAt)
	relabelled := deepCopy(t, ans)
	relabelled.Epoch = 1
	_, err = vs.Verify(ctx, q, relabelled)
	requireErrIs(t, err, roles.ErrRevoked)
	// Once the refreshed state ages out too, and the owner is silent, even
	// the source cannot help.
	setNow(t0.Add(4 * time.Minute))
	other := r.create(t, sampleBatch("age", 4, 61))
	oq := rangeQ(other, 1, 4, "temp")
	oans, err := r.l.Server.Answer(ctx, oq)
	require.NoError(t, err)
	setNow(t0.Add(6 * time.Minute))
	_, err = vs.Verify(ctx, oq, oans)
	requireErrIs(t, err, roles.ErrStaleState)
}

// TestScenarioConcurrentVerifyDuringRevocation: a Verifier is documented as
// safe for concurrent use; verifying while new states arrive — pushed by the
// owner (the Local verifier), or pulled from the storage server by another
// Verify that catches up (a standalone verifier) — must not race.
//
// It is deliberately not parallel: the race detector fails every test that
// is running when it reports, so this one runs alone.
func TestScenarioConcurrentVerifyDuringRevocation(t *testing.T) {
	r := newRig(t, testCRS(t), rigOptions{})
	ctx := r.ctx
	live := r.create(t, sampleBatch("conc", 4, 70))
	var victims []roles.BatchID
	for i := range 12 {
		victims = append(victims, r.create(t, sampleBatch("conc-v", 2, uint64(71+i))))
	}
	pulling, err := roles.NewVerifier(r.l.CRS.VerifierKey(), r.keys, roles.WithTrustedSource(r.l.Owner), roles.WithStateSource(r.l.Server))
	require.NoError(t, err)
	q := rangeQ(live, 1, 4, "temp")
	stop := make(chan struct{})
	errs := make(chan error, 1024)
	var done atomic.Int64
	var wg sync.WaitGroup
	for i := range 6 {
		v := r.l.Verifier
		if i%2 == 1 {
			v = pulling
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ans, err := r.l.Server.Answer(ctx, q)
				if err == nil {
					_, err = v.Verify(ctx, q, ans)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
				done.Add(1)
			}
		}()
	}
	for _, id := range victims {
		// Let the verifying goroutines make progress between revocations.
		for target := done.Load() + 6; done.Load() < target; {
			time.Sleep(time.Millisecond)
		}
		r.revoke(t, id)
	}
	for target := done.Load() + 6; done.Load() < target; {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		// An answer made just before a revocation may be stale by the time
		// it is verified; nothing else may fail.
		require.True(t, errors.Is(err, roles.ErrStaleState), "%v", err)
	}
	for _, v := range []*roles.Verifier{r.l.Verifier, pulling} {
		ans, err := r.l.Server.Answer(ctx, q)
		require.NoError(t, err)
		res, err := v.Verify(ctx, q, ans)
		require.NoError(t, err)
		require.EqualValues(t, len(victims), res.Epoch)
	}
}
