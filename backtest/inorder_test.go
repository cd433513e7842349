package backtest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestInOrder: tasks finishing out of order, with few buffers, come out in order and
// never deadlock.
func TestInOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		var got strings.Builder
		err := inOrder(50, workers, func(i int, b []byte) []byte {
			time.Sleep(time.Duration((i*7919)%5) * time.Millisecond)
			return fmt.Appendf(b, "%d,", i)
		}, func(b []byte) error { got.Write(b); return nil })
		if err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for i := 0; i < 50; i++ {
			fmt.Fprintf(&want, "%d,", i)
		}
		if got.String() != want.String() {
			t.Fatalf("workers %d: %s", workers, got.String())
		}
	}
	// A write error stops the run and is returned.
	err := inOrder(20, 2, func(i int, b []byte) []byte { return b }, func([]byte) error { return fmt.Errorf("disk full") })
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v", err)
	}
}
