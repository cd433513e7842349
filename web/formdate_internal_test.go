package web

import (
	"testing"

	sc "github.com/silentcert/silentcert"
)

// TestFormDate: dates as a phone's date picker sends them, and as people type them where
// there is none; impossible and future dates refused.
func TestFormDate(t *testing.T) {
	today := sc.MustDate("2024-05-10")
	for in, want := range map[string]string{
		"": "2024-05-10", "2024-05-08": "2024-05-08", "2024/5/8": "2024-05-08", "2024.05.08": "2024-05-08",
		"2024年5月8日": "2024-05-08", "20240508": "2024-05-08", " 2024-5-8 ": "2024-05-08", "1950-02-28": "1950-02-28",
		"2024-02-30": "", "2024-13-01": "", "2024-05-11": "", "1899-12-31": "", "08/05/2024": "", "2024": "", "2024-5": "",
		"２０２４-05-08": "", "2024-05-08T00:00": "",
	} {
		d, err := formDate(in, today, today)
		got := ""
		if err == nil {
			got = d.String()
		}
		if got != want {
			t.Errorf("%q: %q (%v), want %q", in, got, err, want)
		}
	}
}

// FuzzFormDate: whatever is typed, a date between 1900 and today or a refusal.
func FuzzFormDate(f *testing.F) {
	for _, s := range []string{"2024-05-08", "2024/5/8", "2024年5月8日", "20240508", "0000-00-00", "9999/99/99"} {
		f.Add(s)
	}
	today := sc.MustDate("2024-05-10")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := formDate(s, today, today)
		if err == nil && (d > today || d < sc.MakeDate(1900, 1, 1)) {
			t.Fatalf("%q read as %s", s, d)
		}
	})
}
