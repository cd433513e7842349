package backtest

import "sync"

// segs is a growable array kept in fixed segments of 2^16 elements: appending never copies
// what is already there and never reserves more than one segment ahead, so a run's memory
// follows its data instead of a guess. Segments are small, so that the last one of each
// key partition's list wastes little, and so that the segments a phase lets go can hold
// the next phase's.
type segs[T any] struct {
	s [][]T
	n int
}

const segBits = 16

func (g *segs[T]) at(i uint32) *T { return &g.s[i>>segBits][i&(1<<segBits-1)] }

func (g *segs[T]) len() int { return g.n }

func (g *segs[T]) append(xs []T) {
	for len(xs) > 0 {
		if g.n>>segBits == len(g.s) {
			g.s = append(g.s, make([]T, 1<<segBits))
		}
		seg := g.s[g.n>>segBits]
		k := copy(seg[g.n&(1<<segBits-1):], xs)
		g.n += k
		xs = xs[k:]
	}
}

// span returns elements [lo, hi) as one slice when they lie in one segment.
func (g *segs[T]) span(lo, hi int) ([]T, bool) {
	if lo>>segBits != (hi-1)>>segBits {
		return nil, false
	}
	return g.s[lo>>segBits][lo&(1<<segBits-1) : (hi-1)&(1<<segBits-1)+1], true
}

// segPool keeps the segments of the lists one phase is done with (the key partitions'
// entry lists, the content hashes) for the next phase's (the replay order), so that each
// phase reuses the memory of the one before instead of adding to it while the collector
// has yet to free it.
type segPool struct {
	mu   sync.Mutex
	free [][]uint32
}

// put gives g's segments to the pool and empties g.
func (p *segPool) put(g *segs[uint32]) {
	p.mu.Lock()
	p.free = append(p.free, g.s...)
	p.mu.Unlock()
	*g = segs[uint32]{}
}

// take returns a list of n elements of arbitrary value, from kept segments as far as
// they go.
func (p *segPool) take(n int) segs[uint32] {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := segs[uint32]{n: n}
	for len(g.s)<<segBits < n {
		if k := len(p.free); k > 0 {
			g.s = append(g.s, p.free[k-1])
			p.free[k-1] = nil
			p.free = p.free[:k-1]
		} else {
			g.s = append(g.s, make([]uint32, 1<<segBits))
		}
	}
	return g
}
