package service

import (
	"context"
	"runtime"
)

// inOrder runs read(i) for i in [0, n) on every core, at most one result per core ahead
// of the consumer, and calls use(i, result) in order of i; it stops at the first error of
// use or of ctx. Reading files of a batch this way keeps every output as a sequential read
// gives.
func inOrder[T any](ctx context.Context, n int, read func(i int) T, use func(i int, v T) error) error {
	return inOrderAhead(ctx, n, runtime.GOMAXPROCS(0), read, use)
}

// inOrderAhead is inOrder holding up to ahead results the consumer has not taken (at least
// one per core): with small results (a replay's spill) a large file then keeps one core
// busy while the others read the files after it, instead of waiting for it.
func inOrderAhead[T any](ctx context.Context, n, ahead int, read func(i int) T, use func(i int, v T) error) error {
	if n == 0 {
		return nil
	}
	results := make([]chan T, n)
	for i := range results {
		results[i] = make(chan T, 1)
	}
	running := make(chan struct{}, runtime.GOMAXPROCS(0))
	held := make(chan struct{}, max(ahead, cap(running)))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < n; i++ {
			for _, sem := range []chan struct{}{held, running} {
				select {
				case sem <- struct{}{}:
				case <-stop:
					return
				case <-ctx.Done():
					return
				}
			}
			go func() {
				v := read(i)
				<-running
				results[i] <- v
			}()
		}
	}()
	for i := 0; i < n; i++ {
		var v T
		select {
		case v = <-results[i]:
			<-held
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := use(i, v); err != nil {
			return err
		}
	}
	return nil
}
