package roles

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/vdsproject/vds/commitment"
)

// Precomputed openings (SPEC §4, "Precomputed openings"): after a batch is
// stored, a background worker computes, for each data column and for the
// timestamps, the prefix sums of all point proofs and keeps them in the
// store ([ProofTableStore]). Point, range, weighted and time-window answers
// then combine a few stored points instead of running a multi-exponentiation
// over the CRS; until a column's table is stored, answers take the direct
// path. The proofs are the same either way. Audits always take the direct
// path.

// WithoutPrecompute turns the background precomputation off: every answer
// is computed directly, and no proof table is stored.
func WithoutPrecompute() ServerOption {
	return func(c *serverConfig) { c.noPrecompute = true }
}

// WithPrecomputeWorkers sets the number of cores the background
// precomputation may keep busy (default [DefaultPrecomputeWorkers]).
func WithPrecomputeWorkers(k int) ServerOption {
	return func(c *serverConfig) { c.precomputeWorkers = k }
}

// DefaultPrecomputeWorkers is the default share of the cores the
// precomputation uses: half of them, at least one.
func DefaultPrecomputeWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// PrecomputeClaimTTL is how long a server's claim on computing a proof
// table lasts in a shared store ([ProofTableClaimer]): longer than the
// computation of one column at full capacity on a slow machine, so that a
// live server is never doubled, and short enough that a table whose server
// died is computed by another within minutes.
const PrecomputeClaimTTL = 5 * time.Minute

// precomputer is the background worker of one StorageServer. It works on
// one batch at a time, column by column, and stops when its queue is empty.
type precomputer struct {
	pk      *commitment.ProverKey
	store   ServerStore
	tables  ProofTableStore
	claims  ProofTableClaimer // nil unless the store is shared
	workers int

	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	queue   []BatchID
	queued  map[BatchID]bool
	running bool
	idle    chan struct{} // closed when the worker stops
	lastErr error
}

// newPrecomputer returns the worker of a server, or nil if precomputation
// is off or the store cannot keep tables.
func newPrecomputer(pk *commitment.ProverKey, store ServerStore, cfg *serverConfig) *precomputer {
	tables, ok := store.(ProofTableStore)
	if cfg.noPrecompute || !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	claims, _ := store.(ProofTableClaimer)
	return &precomputer{pk: pk, store: store, tables: tables, claims: claims, workers: cfg.precomputeWorkers,
		ctx: ctx, cancel: cancel, queued: map[BatchID]bool{}, idle: idle}
}

// enqueue schedules a batch; the worker skips the columns that have a table.
func (p *precomputer) enqueue(id BatchID) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued[id] || p.ctx.Err() != nil {
		return
	}
	p.queued[id] = true
	p.queue = append(p.queue, id)
	if !p.running {
		p.running = true
		p.idle = make(chan struct{})
		go p.run()
	}
}

func (p *precomputer) run() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 || p.ctx.Err() != nil {
			p.running = false
			clear(p.queued)
			p.queue = nil
			close(p.idle)
			p.mu.Unlock()
			return
		}
		id := p.queue[0]
		p.queue = p.queue[1:]
		p.mu.Unlock()
		err := p.batch(p.ctx, id)
		p.mu.Lock()
		delete(p.queued, id)
		if err != nil && p.ctx.Err() == nil {
			p.lastErr = fmt.Errorf("vds: precompute batch %s: %w", id.Short(), err)
		}
		p.mu.Unlock()
	}
}

// batch computes and stores the missing tables of one batch. A revoked
// batch gets none: it is skipped, and a revocation that lands while its
// tables are computed stops the work (the store refuses the table with
// ErrRevoked and has dropped the ones already put, atomically with the
// revoking state).
func (p *precomputer) batch(ctx context.Context, id BatchID) error {
	err := p.build(ctx, id)
	if errors.Is(err, ErrRevoked) {
		return nil
	}
	return err
}

func (p *precomputer) build(ctx context.Context, id BatchID) error {
	h, revokedAt, err := p.store.Header(ctx, id)
	if err != nil || revokedAt != 0 {
		return err
	}
	have, _, err := p.tables.ProofTables(ctx, id)
	if err != nil || len(have) == len(h.Header.Columns)+1 {
		return err
	}
	b, err := p.store.Batch(ctx, id)
	if err != nil {
		return err
	}
	k := len(b.Data.Columns)
	for col := 0; col <= k; col++ {
		if slices.Contains(have, col) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, revokedAt, err := p.store.Header(ctx, id); err != nil || revokedAt != 0 {
			return err // revoked since: no more work on it
		}
		if p.claims != nil {
			ok, err := p.claims.ClaimProofTable(ctx, id, col, PrecomputeClaimTTL)
			if err != nil {
				return err
			}
			if !ok {
				continue // another server computes it
			}
		}
		m, gamma := timeVector(&b.Data), fr.Element(b.Data.TimeGamma)
		if col < k {
			m, gamma = b.Data.Columns[col], fr.Element(b.Data.Gammas[col])
		}
		prefix, err := p.pk.ProofPrefixSums(m, gamma, p.workers)
		if err != nil {
			return err
		}
		values := make([]fr.Element, len(m))
		values[0] = m[0]
		for i := 1; i < len(m); i++ {
			values[i].Add(&values[i-1], &m[i])
		}
		if err := p.tables.PutProofTable(ctx, id, col, prefix, values); err != nil {
			return err
		}
	}
	return nil
}

// timeVector returns the timestamps as field elements.
func timeVector(d *BatchData) []fr.Element {
	ts := make([]fr.Element, len(d.Times))
	for i, t := range d.Times {
		ts[i].SetUint64(t)
	}
	return ts
}

// points returns P_idx of each column from the tables and the values
// Σ_t coef[t]·V_idx[t] of each column (by Abel summation, the inner product
// of the column with the weights), or ok = false (and the batch scheduled)
// if one of them has no table yet.
func (p *precomputer) points(ctx context.Context, id BatchID, cols []int, idx []int, coef []fr.Element) ([][]bls.G1Affine, []fr.Element, bool, error) {
	out := make([][]bls.G1Affine, len(cols))
	xs := make([]fr.Element, len(cols))
	for i, c := range cols {
		pts, vals, err := p.tables.ProofPoints(ctx, id, c, idx)
		if errors.Is(err, ErrNotFound) {
			p.enqueue(id)
			return nil, nil, false, nil
		}
		if err != nil {
			return nil, nil, false, err
		}
		out[i] = pts
		var t fr.Element
		for k := range vals {
			t.Mul(&coef[k], &vals[k])
			xs[i].Add(&xs[i], &t)
		}
	}
	return out, xs, true, nil
}

// openColumns is OpenColumns of the prover key, from the tables when they
// are ready and useTables is set (audits never use them).
func (s *StorageServer) openColumns(ctx context.Context, b *StoredBatch, cols []int, w commitment.Weights, cctx []byte, useTables bool) ([]fr.Element, bls.G1Affine, error) {
	ms := make([][]fr.Element, len(cols))
	gammas := make([]fr.Element, len(cols))
	for i, c := range cols {
		ms[i] = b.Data.Columns[c]
		gammas[i] = fr.Element(b.Data.Gammas[c])
	}
	if s.pre != nil && useTables {
		if idx, coef := w.TableTerms(); len(idx) > 0 {
			pts, xs, ok, err := s.pre.points(ctx, b.ID, cols, idx, coef)
			if err != nil {
				return nil, bls.G1Affine{}, err
			}
			if ok {
				proof, err := commitment.CombineTables(pts, coef, commitment.ColumnCoefficients(cctx, xs))
				if err == nil {
					return xs, proof, nil
				}
			}
		}
	}
	return s.pk.OpenColumns(ms, gammas, w, cctx)
}

// openTimes opens the timestamps under the boundary weights of a time
// window, from the table when it is ready.
func (s *StorageServer) openTimes(ctx context.Context, b *StoredBatch, w commitment.Weights) (bls.G1Affine, error) {
	if s.pre != nil {
		if idx, coef := w.TableTerms(); len(idx) > 0 {
			pts, _, ok, err := s.pre.points(ctx, b.ID, []int{len(b.Data.Columns)}, idx, coef)
			if err != nil {
				return bls.G1Affine{}, err
			}
			if ok {
				if proof, err := commitment.CombineTables(pts, coef, nil); err == nil {
					return proof, nil
				}
			}
		}
	}
	_, proof, err := s.pk.Open(timeVector(&b.Data), fr.Element(b.Data.TimeGamma), w)
	return proof, err
}

// ResumePrecompute schedules every live batch whose proof tables are not
// all stored, for instance after a restart that interrupted the
// precomputation; it returns how many it scheduled. Answers schedule a
// batch they find without tables too, so calling it is optional.
func (s *StorageServer) ResumePrecompute(ctx context.Context) (int, error) {
	if s.pre == nil {
		return 0, nil
	}
	list, err := s.store.List(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, bi := range list {
		if bi.Revoked {
			continue
		}
		h, _, err := s.store.Header(ctx, bi.ID)
		if err != nil {
			return n, err
		}
		have, _, err := s.pre.tables.ProofTables(ctx, bi.ID)
		if err != nil {
			return n, err
		}
		if len(have) < len(h.Header.Columns)+1 {
			s.pre.enqueue(bi.ID)
			n++
		}
	}
	return n, nil
}

// WaitPrecomputed waits until the background precomputation has nothing
// left to do (or ctx ends) and returns the last error it met since the
// previous call, if any (a batch that failed is tried again when an answer
// or ResumePrecompute schedules it).
func (s *StorageServer) WaitPrecomputed(ctx context.Context) error {
	if s.pre == nil {
		return nil
	}
	s.pre.mu.Lock()
	idle := s.pre.idle
	s.pre.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.pre.mu.Lock()
	defer s.pre.mu.Unlock()
	err := s.pre.lastErr
	s.pre.lastErr = nil
	return err
}

// Close stops the background precomputation: nothing new starts, and a
// column in progress is dropped without writing its table. The server
// still answers (directly, or from the tables already stored). It does
// not close the store.
func (s *StorageServer) Close() error {
	if s.pre != nil {
		s.pre.cancel()
	}
	return nil
}

// proofInfo fills the proof-table fields of batch summaries.
func (s *StorageServer) proofInfo(ctx context.Context, list []BatchInfo) error {
	if s.pre == nil {
		return nil
	}
	for i := range list {
		cols, size, err := s.pre.tables.ProofTables(ctx, list[i].ID)
		if err != nil {
			return err
		}
		list[i].ProofColumns = uint32(len(cols))
		list[i].ProofBytes = uint64(size)
	}
	return nil
}
