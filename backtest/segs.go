package backtest

// segs is a growable array kept in fixed segments of 2^20 elements: appending never copies
// what is already there and never reserves more than one segment ahead, so a run's memory
// follows its data instead of a guess.
type segs[T any] struct {
	s [][]T
	n int
}

const segBits = 20

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
