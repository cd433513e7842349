package silentcert

import "testing"

func TestPlaceOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Place
	}{
		{"", 0}, {"37", 0}, {"3710", 371000}, {"37100", 371000}, {"371002", 371002},
		{"371002001001", 371002}, {"371000000000", 371000}, {"37a002", 0}, {"3710\u00a0", 0},
	} {
		if got := PlaceOf(c.in); got != c.want {
			t.Errorf("PlaceOf(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		a, b string
		near bool
	}{
		{"371002", "371002001", true}, {"371002", "371003", false}, {"3710", "371003", true},
		{"371003", "3710", true}, {"3710", "3711", false}, {"", "371003", true}, {"371082", "370102", false},
	} {
		if got := PlaceOf(c.a).Near(PlaceOf(c.b)); got != c.near {
			t.Errorf("%q near %q = %v, want %v", c.a, c.b, got, c.near)
		}
	}
}
