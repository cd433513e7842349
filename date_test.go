package silentcert

import (
	"testing"
	"time"
)

func TestAddMonthsClamps(t *testing.T) {
	cases := []struct {
		from string
		n    int
		want string
	}{
		{"2024-08-31", 6, "2025-02-28"}, // spec §6
		{"2025-04-30", -2, "2025-02-28"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2023-03-31", -1, "2023-02-28"},
		{"2024-03-31", -1, "2024-02-29"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2024-12-15", 1, "2025-01-15"},
		{"2025-01-15", -1, "2024-12-15"},
		{"2024-05-31", 24, "2026-05-31"},
		{"2024-10-31", -12, "2023-10-31"},
		{"2000-02-29", 1200, "2100-02-28"},
	}
	for _, c := range cases {
		if got := MustDate(c.from).AddMonths(c.n).String(); got != c.want {
			t.Errorf("%s %+d months = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}

// TestDatesAgreeWithTime checks every day of 1900–2100 against the standard library.
func TestDatesAgreeWithTime(t *testing.T) {
	start := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	d0 := MakeDate(1900, 1, 1)
	for i := 0; i < 366*201; i++ {
		tm := start.AddDate(0, 0, i)
		d := d0 + Date(i)
		y, m, day := d.Civil()
		if y != tm.Year() || m != int(tm.Month()) || day != tm.Day() {
			t.Fatalf("day %d: got %d-%d-%d, want %s", i, y, m, day, tm.Format("2006-01-02"))
		}
		if got := d.String(); got != tm.Format("2006-01-02") {
			t.Fatalf("String %s, want %s", got, tm.Format("2006-01-02"))
		}
		if p, ok := ParseDateBytes([]byte(d.String())); !ok || p != d {
			t.Fatalf("parse %s gave %v", d, p)
		}
		if int64(d) != tm.Unix()/86400 {
			t.Fatalf("%s is day %d, want %d", d, d, tm.Unix()/86400)
		}
	}
}

// TestAddMonthsProperties: adding months keeps the day or clamps it to the month's end,
// lands in the right month, and never moves backwards for n > 0.
func TestAddMonthsProperties(t *testing.T) {
	for d := MakeDate(2019, 1, 1); d < MakeDate(2029, 1, 1); d += 3 {
		y, m, day := d.Civil()
		for n := -30; n <= 30; n++ {
			r := d.AddMonths(n)
			ry, rm, rday := r.Civil()
			if (ry*12+rm-1)-(y*12+m-1) != n {
				t.Fatalf("%s %+d: month %d-%d", d, n, ry, rm)
			}
			if rday != min(day, DaysIn(ry, rm)) {
				t.Fatalf("%s %+d = %s: day not kept or clamped", d, n, r)
			}
			if n > 0 && r <= d || n < 0 && r >= d {
				t.Fatalf("%s %+d = %s: wrong direction", d, n, r)
			}
		}
	}
}

func TestParseDateTime(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2024-03-01", "2024-03-01"},
		{"2024-03-01T23:59:59", "2024-03-01"},      // Shanghai local time
		{"2024-03-01T16:00:00Z", "2024-03-02"},     // 00:00 in Shanghai
		{"2024-03-01T15:59:59.999Z", "2024-03-01"}, // fractional seconds
		{"2024-03-01T08:00:00+08:00", "2024-03-01"},
		{"2024-03-01T20:00:00-05:00", "2024-03-02"},
		{"2024-02-29T23:30:00+00:00", "2024-03-01"},
		{"2024-03-01T01:00:00+09:00", "2024-03-01"},
		{"2024-03-01T00:30:00+09:00", "2024-02-29"},
	}
	for _, c := range cases {
		d, ok := ParseDateTimeBytes([]byte(c.in))
		if !ok || d.String() != c.want {
			t.Errorf("%s: got %s %v, want %s", c.in, d, ok, c.want)
		}
	}
	for _, bad := range []string{"", "2024-3-01", "2024-02-30", "2024-03-01T24:00:00", "2024-03-01T10:00", "2024-03-01T10:00:00+8", "2024-03-01T10:00:00.Z", "20240301"} {
		if _, ok := ParseDateTimeBytes([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestYuan(t *testing.T) {
	good := map[string]Fen{"0": 0, "12": 1200, "12.3": 1230, "12.34": 1234, "3500.00": 350000, "007.05": 705}
	for s, want := range good {
		if got, ok := ParseYuan(s); !ok || got != want {
			t.Errorf("%q = %d %v, want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1,000", "¥5", "1.234", "1.", ".5", "1e3", " 1", "1 "} {
		if _, ok := ParseYuan(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
	if s := Fen(123405).String(); s != "1234.05" {
		t.Errorf("format %s", s)
	}
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"0", "12.34", "1.5", "x", "99999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseYuan(s)
		if !ok {
			return
		}
		if v < 0 {
			t.Fatalf("%q gave negative %d", s, v)
		}
		back, ok := ParseYuan(v.String())
		if !ok || back != v {
			t.Fatalf("%q → %s → %d", s, v, back)
		}
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2024-03-01", "2024-03-01T16:00:00Z", "2024-03-01T20:00:00-05:00", "2024-02-29T23:30:00.5+00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDateTimeBytes([]byte(s))
		if !ok {
			return
		}
		// The date part moves by at most one day from the written date.
		w, ok2 := ParseDateBytes([]byte(s[:10]))
		if !ok2 || d < w-1 || d > w+1 {
			t.Fatalf("%q → %s, written %s", s, d, w)
		}
	})
}
