package silentcert

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
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
		// The offset's other forms (spec §1 names none), and RFC 3339's lower-case t and z.
		{"2024-03-01T00:30:00+0900", "2024-02-29"},
		{"2024-03-01T00:30:00+09", "2024-02-29"},
		{"2024-03-01T20:00:00-0500", "2024-03-02"},
		{"2024-03-01T20:00:00-05", "2024-03-02"},
		{"2024-03-01T15:59:59.5-0000", "2024-03-01"},
		{"2024-03-01t16:00:00z", "2024-03-02"},
		{"2024-03-01t16:00:00Z", "2024-03-02"},
		{"2024-03-01T16:00:00z", "2024-03-02"},
		{"2024-01-10T10:00:00+0800", "2024-01-10"},
		{"2024-01-10 23:30:00+0530", "2024-01-11"},
	}
	for _, c := range cases {
		d, ok := ParseDateTimeBytes([]byte(c.in))
		if !ok || d.String() != c.want {
			t.Errorf("%s: got %s %v, want %s", c.in, d, ok, c.want)
		}
	}
	for _, bad := range []string{"", "2024-3-01", "2024-02-30", "2024-03-01T24:00:00", "2024-03-01T10:00", "2024-03-01T10:00:00+8",
		"2024-03-01T10:00:00.Z", "20240301", "2024-03-01T10:00:00+800", "2024-03-01T10:00:00+08:0", "2024-03-01T10:00:00+08:", "2024-03-01T10:00:00+0:800",
		"2024-03-01T10:00:00+08000", "2024-03-01T10:00:00+1500", "2024-03-01T10:00:00+0860", "2024-03-01T10:00:00 +08:00", "2024-03-01T10:00:00UTC",
		"2024-03-01x10:00:00", "2024-03-01T10:00:00Zz", "2024-03-01T10:00:00++0800", "2024-03-01T10:00:00+08+00"} {
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
	for _, s := range []string{"2024-03-01", "2024-03-01T16:00:00Z", "2024-03-01T20:00:00-05:00", "2024-02-29T23:30:00.5+00:00",
		"2024-03-01t16:00:00z", "2024-03-01T20:00:00-0500", "2024-03-01 00:30:00+09", "2024-03-01T10:00:00+8"} {
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
		// Every accepted form is the same instant as its ±HH:MM form with an upper-case
		// T, which is the date of that instant in Shanghai (time's RFC 3339 reading;
		// time refuses a leap second, and a datetime without an offset is Shanghai's).
		if len(s) == 10 {
			return
		}
		c, ok := canonicalDateTime(s)
		if !ok {
			t.Fatalf("%q accepted, but not in an accepted form", s)
		}
		if cd, ok := ParseDateTimeBytes([]byte(c)); !ok || cd != d {
			t.Fatalf("%q → %s, its ±HH:MM form %q → %s %v", s, d, c, cd, ok)
		}
		if at, err := time.Parse(time.RFC3339Nano, c); err == nil {
			if want := at.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"); d.String() != want {
				t.Fatalf("%q → %s; %q is %s in Shanghai", s, d, c, want)
			}
		} else if s[17:19] != "60" {
			t.Fatalf("%q accepted, its form %q refused by time: %v", s, c, err)
		}
	})
}

// TestDateTimeOffsetForms: an instant written with its offset as ±HH:MM, ±HHMM or (whole
// hours) ±HH, with T or t or a space, and Z or z for UTC, gives the same date, and that
// date is the instant's date in Shanghai (time's own reading of its RFC 3339 form).
func TestDateTimeOffsetForms(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	shanghai := time.FixedZone("CST", 8*3600)
	for range 20000 {
		at := time.Unix(rnd.Int64N(int64(100*365*86400))+int64(1990-1970)*365*86400, 0)
		offMin := rnd.IntN(2*14*60+1) - 14*60
		if rnd.IntN(3) == 0 {
			offMin -= offMin % 60 // whole hours, for ±HH
		}
		local := at.In(time.FixedZone("", offMin*60))
		want := at.In(shanghai).Format("2006-01-02")
		frac := ""
		if rnd.IntN(2) == 0 {
			frac = "." + strconv.Itoa(rnd.IntN(1000))
		}
		base := local.Format("2006-01-02") + "%s" + local.Format("15:04:05") + frac
		sign, a := '+', offMin
		if a < 0 {
			sign, a = '-', -a
		}
		hh, mm := fmt.Sprintf("%c%02d", sign, a/60), fmt.Sprintf("%02d", a%60)
		canonical := fmt.Sprintf(base, "T") + hh + ":" + mm
		if rfc, err := time.Parse(time.RFC3339Nano, canonical); err != nil || !rfc.Equal(at.Add(rfcFrac(frac))) {
			t.Fatalf("%s: time reads %v, %v; want %v", canonical, rfc, err, at)
		}
		forms := []string{hh + ":" + mm, hh + mm}
		if mm == "00" {
			forms = append(forms, hh)
		}
		if offMin == 0 {
			forms = append(forms, "Z", "z", "-00:00", "-0000", "-00")
		}
		for _, sep := range []string{"T", "t", " "} {
			for _, off := range forms {
				s := fmt.Sprintf(base, sep) + off
				if d, ok := ParseDateTimeBytes([]byte(s)); !ok || d.String() != want {
					t.Fatalf("%s: %s %v; %s is %s in Shanghai", s, d, ok, canonical, want)
				}
			}
		}
	}
}

// rfcFrac is the fraction of a second frac (".N") writes.
func rfcFrac(frac string) time.Duration {
	if frac == "" {
		return 0
	}
	d, _ := time.ParseDuration("0" + frac + "s")
	return d
}

// canonicalDateTime rewrites an accepted datetime as RFC 3339 writes it: T, the fraction,
// and Z or ±HH:MM (+08:00 when none is given).
func canonicalDateTime(s string) (string, bool) {
	if len(s) < 19 {
		return "", false
	}
	head, rest := s[:10]+"T"+s[11:19], s[19:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		head, rest = head+rest[:i], rest[i:]
	}
	switch {
	case rest == "":
		return head + "+08:00", true
	case rest == "Z" || rest == "z":
		return head + "Z", true
	case len(rest) == 3:
		return head + rest + ":00", true
	case len(rest) == 5:
		return head + rest[:3] + ":" + rest[3:], true
	case len(rest) == 6:
		return head + rest, true
	}
	return "", false
}
