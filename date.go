package silentcert

import (
	"fmt"
	"strconv"
)

// Date is a civil calendar date, counted in days since 1970-01-01 (proleptic Gregorian).
// It carries no time zone: the exchange standard fixes every date to Asia/Shanghai before
// it becomes a Date. The zero Date is 1970-01-01; NoDate marks an absent date.
type Date int32

// NoDate is the absent date. It sorts before every real date.
const NoDate Date = -1 << 31

// Month is a calendar month counted from year 0 (year*12 + month-1). NoMonth is absent.
type Month int32

// NoMonth is the absent month.
const NoMonth Month = -1 << 31

// daysFromCivil converts y-m-d to days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// MakeDate returns the Date for year y, month m (1–12) and day d. It does not validate;
// use ValidDate first when the parts come from input.
func MakeDate(y, m, d int) Date { return Date(daysFromCivil(y, m, d)) }

// Civil returns the year, month (1–12) and day of d.
func (d Date) Civil() (y, m, day int) {
	z := int(d) + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, day
}

// IsLeap reports whether y is a leap year.
func IsLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysIn returns the number of days in month m (1–12) of year y.
func DaysIn(y, m int) int {
	switch m {
	case 2:
		if IsLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// ValidDate reports whether y-m-d is a real date in years 1–9999.
func ValidDate(y, m, d int) bool {
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= DaysIn(y, m)
}

// AddMonths adds n months (n may be negative) keeping the day of the month, clamped to the
// last day of the target month: 2024-08-31 plus 6 months is 2025-02-28 (spec §6).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.Civil()
	t := y*12 + (m - 1) + n
	ty, tm := floorDiv(t, 12), floorMod(t, 12)+1
	if dim := DaysIn(ty, tm); day > dim {
		day = dim
	}
	return MakeDate(ty, tm, day)
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// Month returns the month that d falls in.
func (d Date) Month() Month {
	y, m, _ := d.Civil()
	return MakeMonth(y, m)
}

// Day returns the day of the month of d (1–31).
func (d Date) Day() int {
	_, _, day := d.Civil()
	return day
}

// String formats d as YYYY-MM-DD, or "" for NoDate.
func (d Date) String() string {
	if d == NoDate {
		return ""
	}
	return string(d.AppendTo(nil))
}

// AppendTo appends d as YYYY-MM-DD to b (nothing for NoDate).
func (d Date) AppendTo(b []byte) []byte {
	if d == NoDate {
		return b
	}
	y, m, day := d.Civil()
	b = append4(b, y)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+day/10), byte('0'+day%10))
	return b
}

func append4(b []byte, y int) []byte {
	if y < 0 || y > 9999 {
		return strconv.AppendInt(b, int64(y), 10)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}

// MakeMonth returns the Month for year y and month m (1–12).
func MakeMonth(y, m int) Month { return Month(y*12 + m - 1) }

// Civil returns the year and month (1–12) of mo.
func (mo Month) Civil() (y, m int) { return floorDiv(int(mo), 12), floorMod(int(mo), 12) + 1 }

// First returns the first day of the month.
func (mo Month) First() Date {
	y, m := mo.Civil()
	return MakeDate(y, m, 1)
}

// Last returns the last day of the month.
func (mo Month) Last() Date {
	y, m := mo.Civil()
	return MakeDate(y, m, DaysIn(y, m))
}

// String formats mo as YYYY-MM, or "" for NoMonth.
func (mo Month) String() string {
	if mo == NoMonth {
		return ""
	}
	return string(mo.AppendTo(nil))
}

// AppendTo appends mo as YYYY-MM to b (nothing for NoMonth).
func (mo Month) AppendTo(b []byte) []byte {
	if mo == NoMonth {
		return b
	}
	y, m := mo.Civil()
	b = append4(b, y)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10))
}

func digits(s []byte) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ParseDateBytes parses YYYY-MM-DD exactly. It does not allocate.
func ParseDateBytes(s []byte) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return NoDate, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || !ValidDate(y, m, d) {
		return NoDate, false
	}
	return MakeDate(y, m, d), true
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	d, ok := ParseDateBytes([]byte(s))
	if !ok {
		return NoDate, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// MustDate parses YYYY-MM-DD and panics on error; for tests and constants.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// ParseMonthBytes parses YYYY-MM exactly.
func ParseMonthBytes(s []byte) (Month, bool) {
	if len(s) != 7 || s[4] != '-' {
		return NoMonth, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	if !ok1 || !ok2 || y < 1 || m < 1 || m > 12 {
		return NoMonth, false
	}
	return MakeMonth(y, m), true
}

// ParseMonth parses YYYY-MM.
func ParseMonth(s string) (Month, error) {
	mo, ok := ParseMonthBytes([]byte(s))
	if !ok {
		return NoMonth, fmt.Errorf("%q is not a month (YYYY-MM)", s)
	}
	return mo, nil
}

// shanghaiOffsetSeconds is Asia/Shanghai's offset from UTC. China has kept UTC+8 without
// daylight saving since 1991; the exchange standard only carries dates after that.
const shanghaiOffsetSeconds = 8 * 3600

// ParseDateTimeBytes parses a date (YYYY-MM-DD) or a datetime and returns its date part
// in Asia/Shanghai, as spec §1 requires: YYYY-MM-DDTHH:MM:SS (the T in either case, or a
// space), optional fractional seconds, and an optional offset (DateTimeShift). A datetime
// without an offset is Shanghai local time.
func ParseDateTimeBytes(s []byte) (Date, bool) {
	if len(s) == 10 {
		return ParseDateBytes(s)
	}
	if len(s) < 19 {
		return NoDate, false
	}
	shift, ok := DateTimeShift(s[10:])
	if !ok {
		return NoDate, false
	}
	d, ok := ParseDateBytes(s[:10])
	if !ok {
		return NoDate, false
	}
	return d + Date(shift), true
}

// DateTimeShift reads the part of a datetime after its date — "THH:MM:SS", an optional
// fraction, an optional offset — and returns by how many days it moves the date into
// Shanghai time (-1, 0 or 1). Spec §1 gives the datetime's shape "with or without an
// offset" and names no standard: the offset is Z, or ±HH:MM, ±HHMM or ±HH (ISO 8601's
// forms; Java's and many exporters' +0800), and the T and Z may be lower case, as RFC 3339
// allows. A time without seconds, an hour of 24 or a one-digit offset is refused.
func DateTimeShift(s []byte) (int, bool) {
	if len(s) < 9 || (s[0] != 'T' && s[0] != 't' && s[0] != ' ') || s[3] != ':' || s[6] != ':' {
		return 0, false
	}
	hh, ok1 := twoDigits(s[1], s[2])
	mm, ok2 := twoDigits(s[4], s[5])
	ss, ok3 := twoDigits(s[7], s[8])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	rest := s[9:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return 0, false
		}
		rest = rest[i:]
	}
	offset, ok := parseOffset(rest)
	if !ok {
		return 0, false
	}
	// Seconds since local midnight, moved to Shanghai.
	return floorDiv(hh*3600+mm*60+ss-offset+shanghaiOffsetSeconds, 86400), true
}

// parseOffset reads a datetime's offset from UTC in seconds: none (Shanghai's), Z or z,
// ±HH:MM, ±HHMM or ±HH, at most 14 hours.
func parseOffset(s []byte) (int, bool) {
	switch {
	case len(s) == 0:
		return shanghaiOffsetSeconds, true
	case len(s) == 1 && (s[0] == 'Z' || s[0] == 'z'):
		return 0, true
	case len(s) < 3 || (s[0] != '+' && s[0] != '-'):
		return 0, false
	}
	oh, ok := twoDigits(s[1], s[2])
	om := 0
	switch {
	case !ok:
		return 0, false
	case len(s) == 3: // ±HH
	case len(s) == 5: // ±HHMM
		om, ok = twoDigits(s[3], s[4])
	case len(s) == 6 && s[3] == ':': // ±HH:MM
		om, ok = twoDigits(s[4], s[5])
	default:
		return 0, false
	}
	if !ok || oh > 14 || om > 59 {
		return 0, false
	}
	offset := oh*3600 + om*60
	if s[0] == '-' {
		offset = -offset
	}
	return offset, true
}

// twoDigits reads two decimal digits.
func twoDigits(a, b byte) (int, bool) {
	if a < '0' || a > '9' || b < '0' || b > '9' {
		return 0, false
	}
	return int(a-'0')*10 + int(b-'0'), true
}
