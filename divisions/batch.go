package divisions

import (
	"runtime"
	"sync"
)

// ResolveAll resolves many addresses on up to workers goroutines (0 means one per CPU).
// The results are in the order of the addresses and do not depend on workers.
func (r *Resolver) ResolveAll(addrs []string, workers int) []Result {
	out := make([]Result, len(addrs))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const chunk = 256
	if workers == 1 || len(addrs) <= chunk {
		for i, a := range addrs {
			out[i] = r.Resolve(a)
		}
		return out
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for lo := range next {
				for i := lo; i < min(lo+chunk, len(addrs)); i++ {
					out[i] = r.Resolve(addrs[i])
				}
			}
		})
	}
	for lo := 0; lo < len(addrs); lo += chunk {
		next <- lo
	}
	close(next)
	wg.Wait()
	return out
}

// Tally counts results the way a roster report shows them: people whose worklist is their
// village, and the rest, who go to their region's unassigned worklist.
type Tally struct {
	Village    int // resolved to one village or community
	Partial    int // resolved to one town, county, prefecture or province only
	Ambiguous  int // two or more divisions fit equally
	Unresolved int // nothing matched
}

// Add counts one result.
func (t *Tally) Add(res Result) {
	switch {
	case res.Ambiguous:
		t.Ambiguous++
	case res.Level == LevelVillage:
		t.Village++
	case res.Level == LevelNone:
		t.Unresolved++
	default:
		t.Partial++
	}
}

// Total returns the number of results counted.
func (t Tally) Total() int { return t.Village + t.Partial + t.Ambiguous + t.Unresolved }
