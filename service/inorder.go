package service

import (
	"context"
	"runtime"
)

// inOrder runs read(i) for i in [0, n) on every core, at most one per core ahead of the
// consumer, and calls use(i, result) in order of i; it stops at the first error of use or
// of ctx. Reading files of a batch this way keeps every output as a sequential read gives.
func inOrder[T any](ctx context.Context, n int, read func(i int) T, use func(i int, v T) error) error {
	if n == 0 {
		return nil
	}
	results := make([]chan T, n)
	for i := range results {
		results[i] = make(chan T, 1)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < n; i++ {
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			go func() { results[i] <- read(i) }()
		}
	}()
	for i := 0; i < n; i++ {
		var v T
		select {
		case v = <-results[i]:
			<-sem
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := use(i, v); err != nil {
			return err
		}
	}
	return nil
}
