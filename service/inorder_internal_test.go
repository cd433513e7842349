package service

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// inOrderAhead hands results over in order whatever order the reads end in, and never
// holds more than ahead of them untaken.
func TestInOrderAhead(t *testing.T) {
	for _, ahead := range []int{1, 2, 5, 16} {
		var inFlight, most atomic.Int64
		rng := rand.New(rand.NewPCG(uint64(ahead), 1))
		delays := make([]time.Duration, 40)
		for i := range delays {
			delays[i] = time.Duration(rng.IntN(2000)) * time.Microsecond
		}
		next := 0
		err := inOrderAhead(context.Background(), len(delays), ahead, func(i int) int {
			for n := inFlight.Add(1); ; {
				if m := most.Load(); n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(delays[i])
			return i * i
		}, func(i, v int) error {
			inFlight.Add(-1)
			if i != next || v != i*i {
				t.Fatalf("ahead %d: got %d (%d) where %d was due", ahead, i, v, next)
			}
			next++
			return nil
		})
		if err != nil || next != len(delays) {
			t.Fatalf("ahead %d: %v after %d", ahead, err, next)
		}
		if limit := int64(max(ahead, runtime.GOMAXPROCS(0))) + 1; most.Load() > limit {
			t.Fatalf("ahead %d: %d results held at once", ahead, most.Load())
		}
	}
}
