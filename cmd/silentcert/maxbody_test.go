package main

import "testing"

// TestDefaultMaxBody: serve accepts by default no batch its machine cannot hold in half
// its memory (a batch takes about 20 times its size): 1 GiB took about 21 GiB, all but
// the whole of a 24 GiB machine.
func TestDefaultMaxBody(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct{ mem, want int64 }{
		{0, gib},            // unknown: as before
		{24 * gib, gib / 2}, // the project's machine
		{4 * gib, gib / 12}, // a small one
		{64 * gib, gib},     // never more than 1 GiB
		{48 * gib, gib},
	} {
		if got := defaultMaxBody(c.mem); got != c.want {
			t.Errorf("%d GiB of memory: %d, want %d", c.mem/gib, got, c.want)
		}
	}
	if m := memTotal(); m <= 0 {
		t.Logf("no /proc/meminfo here: the default is 1 GiB")
	} else if got := defaultMaxBody(m); got <= 0 || got > gib {
		t.Errorf("this machine (%d bytes): %d", m, got)
	}
}
