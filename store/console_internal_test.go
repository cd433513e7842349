package store

import (
	"fmt"
	"testing"
)

// TestRegionWhere: the range a prefix scans holds exactly the codes that start with it,
// carries included; a village's whole code is the code itself.
func TestRegionWhere(t *testing.T) {
	for _, c := range []struct{ p, want string }{
		{"", "1 = 1 []"},
		{"3710", "region_code >= ? AND region_code < ? [3710 3711]"},
		{"371099", "region_code >= ? AND region_code < ? [371099 3711]"},
		{"371002009", "region_code >= ? AND region_code < ? [371002009 37100201]"},
		{"371002001009", "region_code = ? [371002001009]"},
		{"99", "region_code >= ? [99]"},
	} {
		q, args := regionWhere(c.p)
		if got := fmt.Sprint(q, " ", args); got != c.want {
			t.Errorf("%q: %s, want %s", c.p, got, c.want)
		}
	}
}
