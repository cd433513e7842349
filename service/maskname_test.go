package service_test

import (
	"regexp"
	"testing"

	"github.com/silentcert/silentcert/service"
)

// TestMaskFileName: ID numbers and mobile numbers in a file's name are masked whatever
// touches them; dates, batch numbers and division codes are not.
func TestMaskFileName(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CMT/x371003194103201721.csv", "CMT/x3710**********1721.csv"},
		{"HEA/李四_371002196710217787.csv", "HEA/李四_3710**********7787.csv"},
		{"37100219671021778X-death.jsonl", "3710**********778X-death.jsonl"},
		{"a37100219671021778xb", "a3710**********778xb"},
		{"old371002671021778new", "old3710*******1778new"},
		{"1371002196710217787.csv", "1371***********7787.csv"}, // 19 digits: an ID number and one more
		{"1234567890123456", "1234********3456"},
		{"wang13812345678.csv", "wang138****5678.csv"},
		{"tel8613812345678", "tel861******5678"},
		{"371002001001-visits.csv", "371002001001-visits.csv"}, // a division code holds no mobile number
		{"batch-20240101.csv", "batch-20240101.csv"},
		{"12812345678", "12812345678"}, // not a mobile number
		{"", ""},
	} {
		if got := service.MaskFileName(c.in); got != c.want {
			t.Errorf("MaskFileName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

var (
	idRun  = regexp.MustCompile(`[0-9]{15}`)
	mobile = regexp.MustCompile(`1[3-9][0-9]{9}`)
)

// FuzzMaskFileName: whatever the name, what the log shows of it holds no run of 15 digits
// (an ID number, or part of one longer than its 8 shown digits) and no mobile number, and
// is as long as the name, every byte but masked digits kept.
func FuzzMaskFileName(f *testing.F) {
	for _, s := range []string{"CMT/x371003194103201721.csv", "37100219671021778X", "wang13812345678", "8613812345678",
		"1371002196710217787", "371002001001", "李四_371002196710217787.csv", "x1\xff3812345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := service.MaskFileName(s)
		if idRun.MatchString(got) || mobile.MatchString(got) {
			t.Fatalf("MaskFileName(%q) = %q: an ID number or a mobile number shows", s, got)
		}
		if len(got) != len(s) {
			t.Fatalf("MaskFileName(%q) = %q: of another length", s, got)
		}
		for i := range len(s) {
			if got[i] != s[i] && (got[i] != '*' || s[i] < '0' || s[i] > '9') {
				t.Fatalf("MaskFileName(%q) = %q: byte %d changed, not a digit masked", s, got, i)
			}
		}
	})
}
