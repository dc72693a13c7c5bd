package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/devpki"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/transport"
)

// e2eCase is one end-to-end scenario, run on a fresh system.
type e2eCase struct {
	name  string
	kinds []string // the transports it runs over; nil: all
	opts  sysOptions
	run   func(t *testing.T, s *system)
}

var cases = []e2eCase{
	// The prototype's four end-to-end tests.
	{name: "dc_one_column", run: testDCOneColumn},
	{name: "dc_several_columns", run: testDCSeveralColumns},
	{name: "da_audit", run: testDAAudit},
	{name: "revocation", run: testRevocation},
	// And what the prototype could not do.
	{name: "update", run: testUpdate},
	{name: "time_window", run: testTimeWindow},
	{name: "storage_restart", run: testStorageRestart},
	{name: "unsigned_mutation", run: testUnsignedMutation},
	{name: "mtls", kinds: []string{kindHTTP}, opts: sysOptions{tls: true}, run: testMTLS},
	// Beyond the issue: the whole deployment restarted (vds stop; vds start),
	// and what an untrusted party can do to a verifier that has just started.
	{name: "deployment_restart", run: testDeploymentRestart},
	{name: "stale_anchor", run: testStaleAnchor},
	{name: "stream_window", run: testStreamWindow},
}

// testStreamWindow asks for verified totals over a stream's time window
// through the transports (SPEC §11): re-ingest stores nothing, an overlap
// is refused with a typed error, a revoked batch drops out of the total, a
// dropped batch is caught.
func testStreamWindow(t *testing.T, s *system) {
	ctx := context.Background()
	var batches []*transport.NewBatch
	for k := range 4 {
		nb := makeBatch("sw", 6, 40+k, uint64(100_000+1000*k))
		s.create(t, nb)
		batches = append(batches, nb)
	}
	again, err := s.owner.CreateBatch(ctx, batches[1])
	require.NoError(t, err)
	require.True(t, again.Existing, "the same content again is already stored")
	_, err = s.owner.CreateBatch(ctx, makeBatch("sw", 3, 99, 101_010))
	var sc *roles.StreamConflictError
	require.ErrorAs(t, err, &sc, "an overlapping batch")
	require.ErrorIs(t, err, roles.ErrConflict)

	q := &roles.StreamQuery{Stream: "sw", Kind: roles.QueryWindow, Columns: []string{"temp", "power"}, TimeFrom: 100_020, TimeTo: 103_030}
	want := func(live []*transport.NewBatch, col string) int64 {
		var total int64
		for _, nb := range live {
			for i, ts := range nb.Timestamps {
				if ts >= q.TimeFrom && ts <= q.TimeTo {
					total += column(nb, col)[i]
				}
			}
		}
		return total
	}
	check := func(live []*transport.NewBatch) {
		t.Helper()
		ans, err := s.storage.AnswerStream(ctx, q)
		require.NoError(t, err)
		res, err := s.verifier.VerifyStream(ctx, q, ans)
		require.NoError(t, err)
		for c, col := range q.Columns {
			require.Equal(t, strconv.FormatInt(want(live, col), 10), res.Raw[c], "%s over the window", col)
		}
		bad := *ans
		bad.Parts = bad.Parts[1:]
		_, err = s.verifier.VerifyStream(ctx, q, &bad)
		require.ErrorIs(t, err, roles.ErrIncomplete)
	}
	check(batches)
	ids := s.listIDs(t, "sw")
	_, err = s.owner.Revoke(ctx, ids[2])
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, _, v := s.epochs(t); return v == 1 }, 10*time.Second, 20*time.Millisecond)
	check([]*transport.NewBatch{batches[0], batches[1], batches[3]})
}

// TestE2E runs every case over every transport: t.Run names are
// "<transport>/<case>", e.g. "http/revocation". The transports run in
// parallel, the cases of one transport one after the other, each on a
// fresh system (for http and unix: a fresh data directory and three fresh
// server processes).
func TestE2E(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				if c.kinds != nil && !slices.Contains(c.kinds, kind) {
					continue // e.g. mutual TLS exists only over HTTP
				}
				t.Run(c.name, func(t *testing.T) {
					start := time.Now()
					s := newSystem(t, kind, c.opts)
					up := time.Since(start)
					c.run(t, s)
					t.Logf("system up in %s, case ran in %s", up.Round(time.Millisecond), (time.Since(start) - up).Round(time.Millisecond))
				})
			}
		})
	}
}

// testDCOneColumn is the prototype's "DC query, one column": point and range
// queries on one column, verified, with exact values; lies are caught.
func testDCOneColumn(t *testing.T, s *system) {
	ctx := context.Background()
	full := makeBatch("dc1", capacity, 1, 1_000)
	id, _ := s.create(t, full)
	part := makeBatch("dc1", 5, 2, 5_000) // a batch shorter than the capacity
	pid, _ := s.create(t, part)

	for _, row := range []int{1, 7, capacity} {
		for _, col := range allCols {
			_, res := s.ask(t, pointQ(id, row, col))
			checkSums(t, res, full, []string{col}, row, row)
			require.EqualValues(t, 0, res.Epoch)
		}
	}
	for _, r := range [][2]int{{1, capacity}, {3, 9}, {5, 5}, {capacity, capacity}, {1, 1}} {
		_, res := s.ask(t, rangeQ(id, r[0], r[1], "power"))
		checkSums(t, res, full, []string{"power"}, r[0], r[1])
	}
	_, res := s.ask(t, rangeQ(pid, 1, 5, "temp"))
	checkSums(t, res, part, []string{"temp"}, 1, 5)
	_, res = s.ask(t, pointQ(pid, 5, "power"))
	checkSums(t, res, part, []string{"power"}, 5, 5)

	// Queries outside the batch or on unknown columns are refused with the
	// offending field named.
	for _, q := range []*roles.Query{
		pointQ(pid, 6, "temp"), pointQ(id, 0, "temp"), rangeQ(id, 4, 3, "temp"),
		rangeQ(id, 1, capacity+1, "temp"), pointQ(id, 1, "nope"),
	} {
		_, err := s.storage.Answer(ctx, q)
		var ie *roles.InputError
		require.ErrorAs(t, err, &ie, "%+v", q)
		require.ErrorIs(t, err, roles.ErrInvalidInput)
	}
	_, err := s.storage.Answer(ctx, pointQ(roles.BatchID{1, 2, 3}, 1, "temp"))
	require.ErrorIs(t, err, roles.ErrUnknownBatch)

	// A lying server is caught: a sum off by one, and an answer to another
	// range.
	q := rangeQ(id, 2, 11, "power")
	ans, res := s.ask(t, q)
	checkSums(t, res, full, []string{"power"}, 2, 11)
	forged := cloneAnswer(ans)
	forged.Values[0] = plusOne(forged.Values[0])
	_, err = s.verifier.Verify(ctx, q, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)
	other, err := s.storage.Answer(ctx, rangeQ(id, 2, 10, "power"))
	require.NoError(t, err)
	_, err = s.verifier.Verify(ctx, q, other)
	require.ErrorIs(t, err, roles.ErrBadProof)
	// The answer to the other range, relabelled as an answer to q.
	relabelled := cloneAnswer(other)
	relabelled.Query = *q
	_, err = s.verifier.Verify(ctx, q, relabelled)
	require.ErrorIs(t, err, roles.ErrBadProof)
}

// testDCSeveralColumns is the prototype's "DC query, several columns": one
// answer with one proof for three columns.
func testDCSeveralColumns(t *testing.T, s *system) {
	ctx := context.Background()
	nb := makeBatch("dcn", capacity, 3, 2_000)
	id, _ := s.create(t, nb)

	ans, res := s.ask(t, rangeQ(id, 2, 14, allCols...))
	require.Len(t, ans.Values, 3)
	require.NotNil(t, ans.Proof, "one proof for the three columns")
	require.Nil(t, ans.Window)
	checkSums(t, res, nb, allCols, 2, 14)

	// Values come back in the order asked.
	order := []string{"power", "temp", "hum"}
	_, res = s.ask(t, pointQ(id, 9, order...))
	checkSums(t, res, nb, order, 9, 9)
	_, res = s.ask(t, rangeQ(id, 1, capacity, "hum", "power"))
	checkSums(t, res, nb, []string{"hum", "power"}, 1, capacity)

	// Swapping two columns' values breaks the one proof.
	q := rangeQ(id, 1, 8, allCols...)
	ans, res = s.ask(t, q)
	checkSums(t, res, nb, allCols, 1, 8)
	forged := cloneAnswer(ans)
	forged.Values[0], forged.Values[1] = forged.Values[1], forged.Values[0]
	_, err := s.verifier.Verify(ctx, q, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)
	forged = cloneAnswer(ans)
	forged.Values[2] = plusOne(forged.Values[2])
	_, err = s.verifier.Verify(ctx, q, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)
	// Dropping a column is not an answer either.
	forged = cloneAnswer(ans)
	forged.Values = forged.Values[:2]
	_, err = s.verifier.Verify(ctx, q, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)

	_, err = s.storage.Answer(ctx, rangeQ(id, 1, 8, "temp", "temp"))
	require.ErrorIs(t, err, roles.ErrInvalidInput)
}

// testDAAudit is the prototype's "DA audit", with a fresh nonce per audit
// (the prototype's fixed per-batch challenge let a server precompute it).
func testDAAudit(t *testing.T, s *system) {
	ctx := context.Background()
	nb := makeBatch("da", capacity, 4, 3_000)
	id, _ := s.create(t, nb)
	cols := []string{"temp", "hum"}

	n1 := freshNonce(t)
	q1 := auditQ(id, n1, cols...)
	a1, r1 := s.ask(t, q1)
	require.Equal(t, roles.QueryAudit, r1.Kind)
	require.EqualValues(t, 0, r1.Epoch)
	require.Equal(t, cols, r1.Columns)
	require.Equal(t, auditValues(id, nb, cols, n1, 0), r1.Raw)

	// The same answer, checked against another nonce: refused as an answer
	// to another challenge — on the client side, through the wire.
	n2 := freshNonce(t)
	q2 := auditQ(id, n2, cols...)
	_, err := s.verifier.Verify(ctx, q2, a1)
	require.ErrorIs(t, err, roles.ErrWrongChallenge)
	// Rewriting the nonce inside the answer does not help: the proof is
	// bound to the challenge.
	replay := cloneAnswer(a1)
	replay.Query.Nonce = n2
	_, err = s.verifier.Verify(ctx, q2, replay)
	require.ErrorIs(t, err, roles.ErrBadProof)
	// A fresh answer for the second nonce verifies, with other values.
	_, r2 := s.ask(t, q2)
	require.Equal(t, auditValues(id, nb, cols, n2, 0), r2.Raw)
	require.NotEqual(t, r1.Raw, r2.Raw)

	// A non-interactive audit: the nonce from the latest state and a slot.
	st, err := s.owner.LatestState(ctx)
	require.NoError(t, err)
	d, err := st.State.Digest()
	require.NoError(t, err)
	n3 := roles.AuditNonce(d, uint64(time.Now().Unix()/60))
	_, r3 := s.ask(t, auditQ(id, n3, allCols...))
	require.Equal(t, auditValues(id, nb, allCols, n3, 0), r3.Raw)

	// An audit needs a nonce; and an audit is not answered by the query
	// endpoint.
	_, err = s.storage.Answer(ctx, auditQ(id, nil, "temp"))
	var ie *roles.InputError
	require.ErrorAs(t, err, &ie)
	err = s.storage.T.Call(ctx, transport.ServiceStorage, "generate_dc_proof", q1, &roles.Answer{})
	require.ErrorIs(t, err, roles.ErrInvalidInput)
	// Forged audit values are caught.
	forged := cloneAnswer(a1)
	forged.Values[1] = plusOne(forged.Values[1])
	_, err = s.verifier.Verify(ctx, q1, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)
}

// testRevocation is the prototype's "batch revocation": the revoked batch
// is refused by the storage server with its evidence, answers made before
// the revocation are stale, other batches still verify.
func testRevocation(t *testing.T, s *system) {
	ctx := context.Background()
	nbA, nbB, nbC := makeBatch("rev", capacity, 5, 10_000), makeBatch("rev", capacity, 6, 20_000), makeBatch("rev", 9, 7, 30_000)
	a, _ := s.create(t, nbA)
	b, _ := s.create(t, nbB)
	c, _ := s.create(t, nbC)

	qa := rangeQ(a, 1, capacity, "power")
	oldA, res := s.ask(t, qa)
	checkSums(t, res, nbA, []string{"power"}, 1, capacity)
	qb := pointQ(b, 4, "temp")
	oldB, _ := s.ask(t, qb)
	qc := auditQ(c, freshNonce(t), "hum")
	oldC, _ := s.ask(t, qc)

	st, err := s.owner.Revoke(ctx, b)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.State.Epoch)
	require.NotNil(t, st.State.Revoked)
	require.Equal(t, b, st.State.Revoked.Batch)

	// The storage server refuses every kind of query on the revoked batch,
	// with the batch and the epoch that revoked it.
	for _, q := range []*roles.Query{qb, rangeQ(b, 1, capacity, allCols...), auditQ(b, freshNonce(t), "temp"),
		windowQ(b, 0, math.MaxUint64, "power")} {
		_, err := s.storage.Answer(ctx, q)
		require.ErrorIs(t, err, roles.ErrRevoked, "%s query", q.Kind)
		var re *roles.RevokedError
		require.ErrorAs(t, err, &re, "%s query", q.Kind)
		require.Equal(t, b, re.Batch)
		require.EqualValues(t, 1, re.Epoch)
	}

	// Answers made before the revocation are stale now, whatever batch
	// they are about.
	for _, old := range []struct {
		q   *roles.Query
		ans *roles.Answer
	}{{qa, oldA}, {qb, oldB}, {qc, oldC}} {
		_, err := s.verifier.Verify(ctx, old.q, old.ans)
		require.ErrorIs(t, err, roles.ErrStaleState, "old %s answer", old.q.Kind)
		var se *roles.StaleStateError
		require.ErrorAs(t, err, &se)
		require.EqualValues(t, 1, se.Have)
		require.EqualValues(t, 0, se.Got)
	}

	// The other batches still verify, at the new epoch.
	_, res = s.ask(t, qa)
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbA, []string{"power"}, 1, capacity)
	_, res = s.ask(t, rangeQ(c, 2, 9, allCols...))
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbC, allCols, 2, 9)
	n := freshNonce(t)
	_, res = s.ask(t, auditQ(c, n, "hum"))
	require.Equal(t, auditValues(c, nbC, []string{"hum"}, n, 1), res.Raw)

	// A batch is revoked once.
	_, err = s.owner.Revoke(ctx, b)
	require.ErrorIs(t, err, roles.ErrRevoked)

	list, err := s.storage.ListBatches(ctx, "rev")
	require.NoError(t, err)
	require.Len(t, list, 3)
	for _, bi := range list {
		require.Equal(t, bi.ID == b, bi.Revoked, "batch %s", bi.ID.Short())
	}
	// The public revocation log: two linked states, the second revoking b.
	states, err := s.storage.States(ctx, 0, 1)
	require.NoError(t, err)
	require.Len(t, states, 2)
	d0, err := states[0].State.Digest()
	require.NoError(t, err)
	require.Equal(t, d0, states[1].State.Prev)
	require.Equal(t, b, states[1].State.Revoked.Batch)

	o, sv, v := s.epochs(t)
	require.Equal(t, [3]uint64{1, 1, 1}, [3]uint64{o, sv, v}, "owner, storage, verifier epochs")
}

// testUpdate replaces a batch by a new version: the old one is refused,
// the new one verifies as version 1.
func testUpdate(t *testing.T, s *system) {
	ctx := context.Background()
	old := makeBatch("upd", 12, 8, 40_000)
	oldID, oldH := s.create(t, old)
	keep := makeBatch("upd", 6, 20, 90_000)
	keepID, _ := s.create(t, keep)
	cols := []string{"temp", "power"}
	q := rangeQ(oldID, 1, 12, cols...)
	oldAns, res := s.ask(t, q)
	checkSums(t, res, old, cols, 1, 12)

	nb := makeBatch("", 12, 9, 40_000) // stream "": the old version's
	r, err := s.owner.Update(ctx, oldID, nb)
	require.NoError(t, err)
	nh := r.Header.Header
	require.EqualValues(t, 1, nh.Version)
	require.Equal(t, oldH.Header.Seq, nh.Seq)
	require.Equal(t, "upd", nh.Stream)
	require.EqualValues(t, 1, r.State.State.Epoch)
	require.Equal(t, oldID, r.State.State.Revoked.Batch)
	newID, err := nh.Digest()
	require.NoError(t, err)
	require.NotEqual(t, oldID, newID)

	// The old version: refused by the storage server, and its old answer
	// by the verifier.
	_, err = s.storage.Answer(ctx, q)
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: oldID, Epoch: 1}, *re)
	_, err = s.verifier.Verify(ctx, q, oldAns)
	require.ErrorIs(t, err, roles.ErrStaleState)

	// The new version verifies, with the new values.
	nq := rangeQ(newID, 1, 12, cols...)
	ans, res := s.ask(t, nq)
	require.EqualValues(t, 1, ans.Header.Header.Version)
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nb, cols, 1, 12)
	require.NotEqual(t, rowSum(old, "temp", 1, 12), rowSum(nb, "temp", 1, 12), "the test data must change")
	_, res = s.ask(t, pointQ(newID, 12, "hum"))
	checkSums(t, res, nb, []string{"hum"}, 12, 12)
	sh, err := s.storage.Header(ctx, newID)
	require.NoError(t, err)
	require.EqualValues(t, 1, sh.Header.Version)
	// Batches of the stream that were not updated are untouched.
	_, res = s.ask(t, rangeQ(keepID, 1, 6, "temp"))
	checkSums(t, res, keep, []string{"temp"}, 1, 6)

	list, err := s.storage.ListBatches(ctx, "upd")
	require.NoError(t, err)
	require.Len(t, list, 3)
	byID := map[roles.BatchID]roles.BatchInfo{}
	for _, bi := range list {
		byID[bi.ID] = bi
	}
	require.True(t, byID[oldID].Revoked)
	require.False(t, byID[newID].Revoked)
	require.EqualValues(t, 0, byID[oldID].Version)
	require.EqualValues(t, 1, byID[newID].Version)
	require.Equal(t, byID[oldID].Seq, byID[newID].Seq)

	// The replaced version cannot be updated again, nor moved to another
	// stream.
	_, err = s.owner.Update(ctx, oldID, makeBatch("", 3, 10, 40_000))
	require.ErrorIs(t, err, roles.ErrRevoked)
	_, err = s.owner.Update(ctx, newID, makeBatch("elsewhere", 3, 10, 40_000))
	require.ErrorIs(t, err, roles.ErrConflict, "an update keeps the stream")
	var sc *roles.StreamConflictError
	require.ErrorAs(t, err, &sc)

	// A second update makes version 2 at epoch 2.
	nb2 := makeBatch("upd", 7, 11, 40_000)
	r2, err := s.owner.Update(ctx, newID, nb2)
	require.NoError(t, err)
	require.EqualValues(t, 2, r2.Header.Header.Version)
	require.EqualValues(t, 2, r2.State.State.Epoch)
	id2, err := r2.Header.Header.Digest()
	require.NoError(t, err)
	_, res = s.ask(t, rangeQ(id2, 1, 7, allCols...))
	checkSums(t, res, nb2, allCols, 1, 7)
	require.EqualValues(t, 2, res.Epoch)
	_, err = s.storage.Answer(ctx, nq)
	require.ErrorIs(t, err, roles.ErrRevoked)

	o, sv, v := s.epochs(t)
	require.Equal(t, [3]uint64{2, 2, 2}, [3]uint64{o, sv, v}, "owner, storage, verifier epochs")
}

// testTimeWindow asks for sums over time windows: the rows selected, their
// sums, and the boundary cases (empty windows, windows covering all).
func testTimeWindow(t *testing.T, s *system) {
	ctx := context.Background()
	nb := makeBatch("tw", capacity, 10, 100_000)
	id, _ := s.create(t, nb)
	T := nb.Timestamps
	cols := []string{"temp", "power"}

	for _, c := range []struct {
		name        string
		from, to    uint64
		first, last int // rows selected; last = first−1 for none
	}{
		{"interior", T[2] - 1, T[6] + 1, 3, 7},
		{"exact bounds", T[2], T[6], 3, 7},
		{"one row", T[4], T[4], 5, 5},
		{"first row from zero", 0, T[0], 1, 1},
		{"last row to the end of time", T[capacity-1], math.MaxUint64, capacity, capacity},
		{"covering all", 0, math.MaxUint64, 1, capacity},
		{"covering exactly", T[0], T[capacity-1], 1, capacity},
		{"empty between two rows", T[3] + 1, T[4] - 1, 5, 4},
		{"empty before the batch", 0, T[0] - 1, 1, 0},
		{"empty after the batch", T[capacity-1] + 1, T[capacity-1] + 1_000, capacity + 1, capacity},
		{"single instant, no row", T[7] + 1, T[7] + 1, 9, 8},
	} {
		q := windowQ(id, c.from, c.to, cols...)
		ans, res := s.ask(t, q)
		require.Equal(t, [2]uint32{uint32(c.first), uint32(c.last)}, [2]uint32{res.First, res.Last}, c.name)
		require.NotNil(t, ans.Window, c.name)
		checkSums(t, res, nb, cols, c.first, c.last)
		if c.last < c.first {
			require.Nil(t, ans.Proof, "%s: an empty window has no column proof", c.name)
		}
	}

	// A short batch: every window is within a few rows.
	short := makeBatch("tw", 3, 11, 200_000)
	sid, _ := s.create(t, short)
	S := short.Timestamps
	for _, c := range []struct {
		from, to    uint64
		first, last int
	}{{0, math.MaxUint64, 1, 3}, {S[1], S[1], 2, 2}, {S[1] + 1, S[2] - 1, 3, 2}, {S[0], S[1], 1, 2}} {
		_, res := s.ask(t, windowQ(sid, c.from, c.to, allCols...))
		require.Equal(t, [2]uint32{uint32(c.first), uint32(c.last)}, [2]uint32{res.First, res.Last})
		checkSums(t, res, short, allCols, c.first, c.last)
	}

	// A reversed window is refused.
	_, err := s.storage.Answer(ctx, windowQ(id, T[5], T[4], "temp"))
	require.ErrorIs(t, err, roles.ErrInvalidInput)

	// A server that leaves a row out, or answers another window, is caught.
	q := windowQ(id, T[2], T[6], cols...)
	ans, _ := s.ask(t, q)
	other, err := s.storage.Answer(ctx, windowQ(id, T[2], T[5], cols...))
	require.NoError(t, err)
	relabelled := cloneAnswer(other)
	relabelled.Query = *q
	_, err = s.verifier.Verify(ctx, q, relabelled)
	require.ErrorIs(t, err, roles.ErrBadProof)
	short2 := cloneAnswer(ans)
	short2.Window.Last--
	_, err = s.verifier.Verify(ctx, q, short2)
	require.ErrorIs(t, err, roles.ErrBadProof)
	lied := cloneAnswer(ans)
	lied.Window.Times[0]++
	_, err = s.verifier.Verify(ctx, q, lied)
	require.ErrorIs(t, err, roles.ErrBadProof)
	// An empty window's answer cannot claim a non-zero sum.
	eq := windowQ(id, T[3]+1, T[4]-1, "temp")
	empty, _ := s.ask(t, eq)
	forged := cloneAnswer(empty)
	forged.Values[0] = plusOne(forged.Values[0])
	_, err = s.verifier.Verify(ctx, eq, forged)
	require.ErrorIs(t, err, roles.ErrBadProof)
}

// testStorageRestart restarts the storage server in the middle: its data
// and revocation log survive, answers still verify (including one given
// before the restart), and new batches and revocations still work.
func testStorageRestart(t *testing.T, s *system) {
	ctx := context.Background()
	nbA, nbB, nbC := makeBatch("rs", capacity, 12, 50_000), makeBatch("rs", capacity, 13, 60_000), makeBatch("rs", 10, 14, 70_000)
	a, _ := s.create(t, nbA)
	b, _ := s.create(t, nbB)
	c, _ := s.create(t, nbC)
	qa := rangeQ(a, 2, 15, allCols...)
	qw := windowQ(b, nbB.Timestamps[3], nbB.Timestamps[9], "power")
	_, err := s.owner.Revoke(ctx, c)
	require.NoError(t, err)
	before, res := s.ask(t, qa)
	require.EqualValues(t, 1, res.Epoch)
	_, res = s.ask(t, qw)
	checkSums(t, res, nbB, []string{"power"}, 4, 10)

	s.restartStorage(t)

	// An answer given before the restart still verifies afterwards.
	res, err = s.verifier.Verify(ctx, qa, before)
	require.NoError(t, err)
	checkSums(t, res, nbA, allCols, 2, 15)
	// The restarted server answers from its store, at the same epoch.
	h, err := s.storage.Health(ctx)
	require.NoError(t, err)
	require.True(t, h.HasEpoch)
	require.EqualValues(t, 1, h.Epoch)
	_, res = s.ask(t, qa)
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbA, allCols, 2, 15)
	ans, res := s.ask(t, qw)
	require.Equal(t, [2]uint32{4, 10}, [2]uint32{ans.Window.First, ans.Window.Last})
	checkSums(t, res, nbB, []string{"power"}, 4, 10)
	n := freshNonce(t)
	_, res = s.ask(t, auditQ(b, n, "temp", "hum"))
	require.Equal(t, auditValues(b, nbB, []string{"temp", "hum"}, n, 1), res.Raw)
	// The revocation survived.
	_, err = s.storage.Answer(ctx, pointQ(c, 1, "temp"))
	var re *roles.RevokedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, roles.RevokedError{Batch: c, Epoch: 1}, *re)

	// New batches and revocations reach the restarted server.
	nbD := makeBatch("rs", 8, 15, 80_000)
	d, _ := s.create(t, nbD)
	_, res = s.ask(t, rangeQ(d, 1, 8, allCols...))
	checkSums(t, res, nbD, allCols, 1, 8)
	st, err := s.owner.Revoke(ctx, b)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.State.Epoch)
	_, err = s.storage.Answer(ctx, qw)
	require.ErrorIs(t, err, roles.ErrRevoked)

	// Once more, with everything written after the first restart.
	s.restartStorage(t)
	_, res = s.ask(t, qa)
	require.EqualValues(t, 2, res.Epoch)
	checkSums(t, res, nbA, allCols, 2, 15)
	_, res = s.ask(t, pointQ(d, 8, "power"))
	checkSums(t, res, nbD, []string{"power"}, 8, 8)
	list, err := s.storage.ListBatches(ctx, "rs")
	require.NoError(t, err)
	require.Len(t, list, 4)
	for _, bi := range list {
		require.Equal(t, bi.ID == b || bi.ID == c, bi.Revoked, "batch %s", bi.ID.Short())
	}
	o, sv, v := s.epochs(t)
	require.Equal(t, [3]uint64{2, 2, 2}, [3]uint64{o, sv, v}, "owner, storage, verifier epochs")
}

// forgeBatch builds a store_batch request that is valid in every respect —
// header structure, CRS, owner, commitments recomputed from the data — but
// carries no valid owner signature (the caller sets one).
func forgeBatch(t *testing.T, s *system, nb *transport.NewBatch, seq uint64) *roles.StoreBatchRequest {
	pk := s.crs.ProverKey()
	l := len(nb.Timestamps)
	h := roles.Header{
		Format: roles.FormatVersion, CRS: roles.Hash(s.crs.Digest()), Owner: s.keys.ID(), KeyID: s.keys.Signing[0].ID,
		Stream: nb.Stream, Seq: seq, Rows: uint32(l), FirstTime: nb.Timestamps[0], LastTime: nb.Timestamps[l-1],
	}
	d := roles.BatchData{Times: append([]uint64(nil), nb.Timestamps...)}
	random := func() fr.Element {
		var e fr.Element
		_, err := e.SetRandom()
		require.NoError(t, err)
		return e
	}
	times := make([]fr.Element, l)
	for i, ts := range nb.Timestamps {
		times[i].SetUint64(ts)
	}
	tg := random()
	tc, err := pk.CommitG2(times, tg)
	require.NoError(t, err)
	h.TimeCommit, d.TimeGamma = codec.G2(tc), codec.Scalar(tg)
	for _, c := range nb.Columns {
		m := make([]fr.Element, l)
		for i, v := range c.Values {
			m[i] = roles.FromInt64(v)
		}
		g := random()
		cm, err := pk.CommitG1(m, g)
		require.NoError(t, err)
		h.Columns = append(h.Columns, roles.ColumnInfo{Name: c.Name, Scale: c.Scale, Bits: roles.DefaultBits})
		h.Commits = append(h.Commits, codec.G1(cm))
		d.Columns = append(d.Columns, codec.ScalarVector(m))
		d.Gammas = append(d.Gammas, codec.Scalar(g))
	}
	return &roles.StoreBatchRequest{Header: roles.SignedHeader{Header: h}, Data: d}
}

// snapshot is what a refused mutation must leave unchanged.
type snapshot struct {
	list   []roles.BatchInfo
	latest roles.SignedState
	epochs [3]uint64
}

func takeSnapshot(t *testing.T, s *system) snapshot {
	ctx := context.Background()
	list, err := s.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	for i := range list {
		// Proof tables are computed in the background: not part of the
		// stored state a snapshot compares.
		list[i].ProofColumns, list[i].ProofBytes = 0, 0
	}
	latest, err := s.storage.LatestState(ctx)
	require.NoError(t, err)
	o, sv, v := s.epochs(t)
	return snapshot{list: list, latest: *latest, epochs: [3]uint64{o, sv, v}}
}

// testUnsignedMutation sends mutations straight to the storage server,
// bypassing the owner: a batch whose header carries a zeroed (or foreign)
// signature, states that were tampered with. Each is refused with
// ErrBadSignature and changes nothing.
func testUnsignedMutation(t *testing.T, s *system) {
	ctx := context.Background()
	nbA := makeBatch("um", capacity, 16, 60_000)
	a, ah := s.create(t, nbA)
	nbB := makeBatch("um", 5, 17, 70_000)
	b, _ := s.create(t, nbB)
	genuine, err := s.owner.Revoke(ctx, b) // a genuine signed state to tamper with
	require.NoError(t, err)
	qa := rangeQ(a, 1, capacity, allCols...)
	_, res := s.ask(t, qa)
	checkSums(t, res, nbA, allCols, 1, capacity)
	before := takeSnapshot(t, s)
	require.Equal(t, [3]uint64{1, 1, 1}, before.epochs)

	badSig := func(what string, err error) {
		t.Helper()
		require.ErrorIs(t, err, roles.ErrBadSignature, what)
	}

	// store_batch: a well-formed batch whose signature is zeroed, missing,
	// made with another key under the owner's key id, or made with another
	// key under its own id.
	nbF := makeBatch("um-forged", 8, 18, 80_000)
	forged := forgeBatch(t, s, nbF, 0)
	fid, err := forged.Header.Header.Digest()
	require.NoError(t, err)
	forged.Header.Sig = make([]byte, ed25519.SignatureSize)
	badSig("store_batch, zeroed signature", s.storage.StoreBatch(ctx, forged))
	forged.Header.Sig = nil
	badSig("store_batch, no signature", s.storage.StoreBatch(ctx, forged))
	_, attacker, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	forged.Header.Sig = ed25519.Sign(attacker, fid[:])
	badSig("store_batch, signed by another key", s.storage.StoreBatch(ctx, forged))
	other := *forged
	other.Header.Header.KeyID = roles.KeyID(attacker.Public().(ed25519.PublicKey))
	oid, err := other.Header.Header.Digest()
	require.NoError(t, err)
	other.Header.Sig = ed25519.Sign(attacker, oid[:])
	badSig("store_batch, signed by an unknown key", s.storage.StoreBatch(ctx, &other))
	// A genuine header moved to another stream keeps a signature that no
	// longer matches.
	moved := forgeBatch(t, s, nbA, 0)
	moved.Header.Header = ah.Header
	moved.Header.Header.Stream = "um-moved"
	moved.Header.Sig = ah.Sig
	badSig("store_batch, tampered header", s.storage.StoreBatch(ctx, moved))

	// add_revoked_item: the genuine state of epoch 1 with a zeroed
	// signature, re-dated, or revoking another batch; and a made-up state of
	// epoch 2 revoking a, carrying epoch 1's signature.
	zeroed := *genuine
	zeroed.Sig = make([]byte, ed25519.SignatureSize)
	badSig("add_revoked_item, zeroed signature", s.storage.ApplyState(ctx, &zeroed))
	redated := *genuine
	redated.IssuedAt += 60_000
	badSig("add_revoked_item, re-dated", s.storage.ApplyState(ctx, &redated))
	swapped := *genuine
	rev := roles.Revocation{X: codec.Scalar(a.Element()), Batch: a}
	swapped.State.Revoked = &rev
	badSig("add_revoked_item, another batch revoked", s.storage.ApplyState(ctx, &swapped))
	d1, err := genuine.State.Digest()
	require.NoError(t, err)
	next := *genuine
	next.State.Epoch, next.State.Prev, next.State.Revoked = 2, d1, &rev
	badSig("add_revoked_item, made-up next state", s.storage.ApplyState(ctx, &next))
	next.Sig = make([]byte, ed25519.SignatureSize)
	badSig("add_revoked_item, made-up next state, zeroed signature", s.storage.ApplyState(ctx, &next))

	// update_batch: the made-up state with the forged batch as a's new
	// version.
	upd := forgeBatch(t, s, makeBatch("um", 4, 19, 60_000), ah.Header.Seq)
	upd.Header.Header.Version = 1
	upd.Header.Sig = make([]byte, ed25519.SignatureSize)
	badSig("update_batch, made-up state", s.storage.UpdateBatch(ctx, &roles.UpdateBatchRequest{State: next, Header: upd.Header, Data: upd.Data}))
	// …and with a genuine state (an old one: epoch 1) but an unsigned batch.
	badSig("update_batch, unsigned batch", s.storage.UpdateBatch(ctx, &roles.UpdateBatchRequest{State: *genuine, Header: upd.Header, Data: upd.Data}))

	// Nothing changed: same batches, same state, same epochs; a still
	// answers and verifies at epoch 1; the forged batches are unknown.
	after := takeSnapshot(t, s)
	require.Equal(t, before.list, after.list)
	require.Equal(t, before.latest, after.latest)
	require.Equal(t, before.epochs, after.epochs)
	for _, id := range []roles.BatchID{fid, oid} {
		_, err := s.storage.Header(ctx, id)
		require.ErrorIs(t, err, roles.ErrUnknownBatch)
	}
	_, res = s.ask(t, qa)
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbA, allCols, 1, capacity)
	list, err := s.storage.ListBatches(ctx, "um-forged")
	require.NoError(t, err)
	require.Empty(t, list)
}

// testMTLS runs a system under mutual TLS (servers started with -tls-dir):
// the servers talk to each other and to a client with the CA and the client
// certificate; a client without a valid certificate, or speaking plain HTTP,
// is refused by every server.
func testMTLS(t *testing.T, s *system) {
	ctx := context.Background()
	require.NotEmpty(t, s.tlsDir)
	// The whole flow over mutual TLS: owner → storage, verifier → owner and
	// storage, owner → verifier (the revocation push).
	nb := makeBatch("tls", capacity, 21, 1_000)
	id, _ := s.create(t, nb)
	nb2 := makeBatch("tls", 4, 22, 9_000)
	id2, _ := s.create(t, nb2)
	_, res := s.ask(t, rangeQ(id, 1, capacity, allCols...))
	checkSums(t, res, nb, allCols, 1, capacity)
	_, err := s.owner.Revoke(ctx, id2)
	require.NoError(t, err)
	_, res = s.ask(t, pointQ(id, 3, "temp"))
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nb, []string{"temp"}, 3, 3)
	o, sv, v := s.epochs(t)
	require.Equal(t, [3]uint64{1, 1, 1}, [3]uint64{o, sv, v})

	ca := filepath.Join(s.tlsDir, "ca.pem")
	noCert, err := transport.ClientTLS(ca, "", "")
	require.NoError(t, err)
	foreign, err := devpki.Write(t.TempDir())
	require.NoError(t, err)
	foreignCert, err := transport.ClientTLS(ca, foreign.Certs["admin"], foreign.Keys["admin"])
	require.NoError(t, err)
	services := map[string]string{"owner": transport.ServiceOwner, "storage": transport.ServiceStorage, "verifier": transport.ServiceVerifier}
	for role, svc := range services {
		for name, opts := range map[string][]transport.Option{
			"no client certificate":                  {transport.WithTLS(noCert)},
			"a client certificate of another CA":     {transport.WithTLS(foreignCert)},
			"plain HTTP to the HTTPS port (no cert)": nil,
		} {
			url := "https://" + s.addrs[role]
			if opts == nil {
				url = "http://" + s.addrs[role]
			}
			c, err := transport.NewHTTPClient(url, append(opts, transport.WithRetries(0, 0), transport.WithTimeout(10*time.Second))...)
			require.NoError(t, err)
			var h transport.Health
			err = c.Call(ctx, svc, "health", &transport.Empty{}, &h)
			require.ErrorIs(t, err, roles.ErrUnavailable, "%s, %s", role, name)
			c.Close()
		}
	}
	// Mutations from a client without a certificate are refused too.
	bad, err := transport.NewHTTPClient("https://"+s.addrs["owner"], transport.WithTLS(noCert), transport.WithRetries(0, 0))
	require.NoError(t, err)
	defer bad.Close()
	_, err = transport.OwnerClient{T: bad}.CreateBatch(ctx, makeBatch("tls-intruder", 3, 23, 1))
	require.ErrorIs(t, err, roles.ErrUnavailable)
	_, err = transport.OwnerClient{T: bad}.Revoke(ctx, id)
	require.ErrorIs(t, err, roles.ErrUnavailable)
	list, err := s.storage.ListBatches(ctx, "")
	require.NoError(t, err)
	require.Len(t, list, 2)
	_, res = s.ask(t, rangeQ(id, 2, 5, "power"))
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nb, []string{"power"}, 2, 5)
}

// testDeploymentRestart stops the three servers and starts them again in
// the order of `vds start` (storage, verifier, owner): the owner's keys and
// states and the storage server's batches survive, the verifier re-anchors
// at the owner, and everything goes on at the right epoch.
func testDeploymentRestart(t *testing.T, s *system) {
	ctx := context.Background()
	nbA, nbB := makeBatch("dr", capacity, 40, 1_000), makeBatch("dr", 7, 41, 5_000)
	a, _ := s.create(t, nbA)
	b, _ := s.create(t, nbB)
	_, err := s.owner.Revoke(ctx, b)
	require.NoError(t, err)
	qa := rangeQ(a, 3, 13, allCols...)
	before, _ := s.ask(t, qa)

	s.restartAll(t)

	res, err := s.verifier.Verify(ctx, qa, before)
	require.NoError(t, err, "an answer of the current epoch still verifies after the restart")
	checkSums(t, res, nbA, allCols, 3, 13)
	_, res = s.ask(t, qa)
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbA, allCols, 3, 13)
	_, err = s.storage.Answer(ctx, pointQ(b, 1, "temp"))
	require.ErrorIs(t, err, roles.ErrRevoked)
	// The owner carries on from its stored state: same keys, next epoch,
	// next sequence number.
	nbC := makeBatch("dr", 5, 42, 9_000)
	c, ch := s.create(t, nbC)
	require.EqualValues(t, 2, ch.Header.Seq)
	st, err := s.owner.Revoke(ctx, a)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.State.Epoch)
	_, res = s.ask(t, rangeQ(c, 1, 5, "power"))
	require.EqualValues(t, 2, res.Epoch)
	checkSums(t, res, nbC, []string{"power"}, 1, 5)
	_, err = s.verifier.Verify(ctx, qa, before)
	require.ErrorIs(t, err, roles.ErrStaleState)
	o, sv, v := s.epochs(t)
	require.Equal(t, [3]uint64{2, 2, 2}, [3]uint64{o, sv, v})
}

// testStaleAnchor: after the deployment restarts, the verifier holds no
// state until it is anchored. The storage server is untrusted (SPEC §1) and
// serves the whole public revocation log; if it can hand the verifier an
// old, genuinely signed state through update_global_pk, the verifier must
// not end up accepting an answer about a batch that was revoked since.
func testStaleAnchor(t *testing.T, s *system) {
	ctx := context.Background()
	nbA, nbB := makeBatch("sa", capacity, 43, 1_000), makeBatch("sa", capacity, 44, 5_000)
	a, _ := s.create(t, nbA)
	b, _ := s.create(t, nbB)
	qb := rangeQ(b, 1, capacity, "power")
	oldB, _ := s.ask(t, qb) // epoch 0: b is live
	_, err := s.owner.Revoke(ctx, b)
	require.NoError(t, err)
	_, err = s.verifier.Verify(ctx, qb, oldB)
	require.ErrorIs(t, err, roles.ErrStaleState)

	s.restartAll(t)

	// The storage server (or anyone who reaches the verifier) offers the
	// genuine state of epoch 0.
	old, err := s.storage.States(ctx, 0, 0)
	require.NoError(t, err)
	require.Len(t, old, 1)
	acceptErr := s.verifier.AcceptState(ctx, &old[0])
	// Whatever the verifier made of that, the answer about b from before
	// its revocation must not verify.
	res, err := s.verifier.Verify(ctx, qb, oldB)
	require.Error(t, err, "the verifier accepted an answer about a batch revoked at epoch 1 (verified at epoch %v), "+
		"after an unauthenticated update_global_pk with the old state of epoch 0 was accepted (err %v) as its first anchor", epochOf(res), acceptErr)
	require.True(t, errorsIsAny(err, roles.ErrStaleState, roles.ErrRevoked), "%v", err)
	_, res = s.ask(t, rangeQ(a, 1, capacity, "power"))
	require.EqualValues(t, 1, res.Epoch)
	checkSums(t, res, nbA, []string{"power"}, 1, capacity)
}

func epochOf(res *transport.VerifyResult) any {
	if res == nil {
		return nil
	}
	return res.Epoch
}
