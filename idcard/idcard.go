// Package idcard reads citizen ID numbers (公民身份号码) of GB 11643-1999: it normalises
// and validates them (ISO 7064 MOD 11-2 check character, a real birth date), derives the
// birth date and sex they carry, packs them into a uint64 key for fast maps, and masks them
// (and phone numbers, the other identifier logs must not show) for logs.
//
// It never looks a number up anywhere, never judges region codes (they change over time and
// a department's copy is often older than ours) and never compares a birth date with the
// clock: a valid number is one that is well-formed, self-consistent and names a real date.
// Nothing here allocates except Mask.
package idcard

import (
	"unicode/utf8"

	"github.com/silentcert/silentcert"
)

// weights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of the first 17 digits.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// MinBirthYear is the earliest birth year a valid number may carry. The standard itself
// sets none; 1800 keeps out typed zeros (year 0000) and other impossible centuries while
// still accepting the old numbers some libraries' tests carry (born 1880).
const MinBirthYear = 1800

// CheckChar returns the check character ('0'–'9' or 'X') for the first 17 digits of a
// number, or 0 when first17 is not exactly 17 ASCII digits.
func CheckChar(first17 []byte) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i, c := range first17 {
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11]
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// Normalize returns the canonical form of a citizen ID number and whether it is valid.
//
// It trims ASCII white space around id and reads a lower-case 'x' check character as 'X'.
// The number is valid when, after that, it has exactly 18 characters: 17 ASCII digits and a
// digit or X; its check character is the ISO 7064 MOD 11-2 one of the first 17 digits; and
// positions 7–14 (YYYYMMDD) are a real Gregorian date with a year from MinBirthYear to 9999.
// Nothing else is checked: not the region code (positions 1–6), not whether the date is in
// the future. 15-digit numbers of the first generation are invalid (spec §3). The returned
// array is meaningful only when ok is true.
func Normalize(id []byte) (n [18]byte, ok bool) {
	for len(id) > 0 && isSpace(id[0]) {
		id = id[1:]
	}
	for len(id) > 0 && isSpace(id[len(id)-1]) {
		id = id[:len(id)-1]
	}
	if len(id) != 18 {
		return n, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return n, false
		}
		n[i] = c
		sum += int(c-'0') * weights[i]
	}
	last := id[17]
	if last == 'x' {
		last = 'X'
	}
	if last != checkChars[sum%11] {
		return n, false
	}
	n[17] = last
	y, m, d := civil(&n)
	if y < MinBirthYear || !silentcert.ValidDate(y, m, d) {
		return n, false
	}
	return n, true
}

// Valid reports whether id is a valid citizen ID number (see Normalize for exactly what is
// checked).
func Valid(id []byte) bool {
	_, ok := Normalize(id)
	return ok
}

// ValidString is Valid for a string.
func ValidString(id string) bool { return Valid([]byte(id)) }

func civil(id *[18]byte) (y, m, d int) {
	num := func(s []byte) int {
		v := 0
		for _, c := range s {
			v = v*10 + int(c-'0')
		}
		return v
	}
	return num(id[6:10]), num(id[10:12]), num(id[12:14])
}

// BirthDate returns the birth date a normalised number carries, or NoDate when its
// positions 7–14 are not a real date (which Normalize has already ruled out for a valid
// number).
func BirthDate(id [18]byte) silentcert.Date {
	for _, c := range id[6:14] {
		if c < '0' || c > '9' {
			return silentcert.NoDate
		}
	}
	y, m, d := civil(&id)
	if !silentcert.ValidDate(y, m, d) {
		return silentcert.NoDate
	}
	return silentcert.MakeDate(y, m, d)
}

// Sex returns the sex a number carries in GB/T 2261.1 codes: 1 (male) when its 17th digit
// (the last of the sequence code) is odd, 2 (female) when it is even.
func Sex(id [18]byte) int {
	if (id[16]-'0')%2 == 1 {
		return 1
	}
	return 2
}

// Key packs a normalised number into a uint64: its first 17 digits read as a decimal
// number, times 11, plus the check character's value (0–9, X = 10). It is injective over
// every 18-character digit-or-X string, so a map keyed by it is as exact as one keyed by the
// string; the key of a valid number is never 0, which callers may use as "no key".
func Key(id [18]byte) uint64 {
	var v uint64
	for _, c := range id[:17] {
		v = v*10 + uint64(c-'0')
	}
	check := uint64(10)
	if id[17] != 'X' {
		check = uint64(id[17] - '0')
	}
	return v*11 + check
}

// FromKey returns the number that Key packed into k.
func FromKey(k uint64) [18]byte {
	var id [18]byte
	check := k % 11
	if check == 10 {
		id[17] = 'X'
	} else {
		id[17] = byte('0' + check)
	}
	v := k / 11
	for i := 16; i >= 0; i-- {
		id[i] = byte('0' + v%10)
		v /= 10
	}
	return id
}

// Mask hides the middle of an ID number for logs and screens: the first 4 and last 4
// characters stay, every character between becomes '*' ("3710**********123X"). Strings of
// 8 characters or fewer are masked entirely. It counts characters, not bytes, so a
// malformed number with non-ASCII characters is never cut inside a character.
func Mask(id string) string { return maskMiddle(id, 4, 4) }

// MaskPhone hides the middle of a phone number as Mask hides an ID number's: the first 3
// and last 4 characters stay ("138****8000"); 7 characters or fewer are masked entirely.
// The roster's audit rows keep phones so, and `audit verify` compares them so.
func MaskPhone(p string) string { return maskMiddle(p, 3, 4) }

// maskMiddle keeps the first head and the last tail characters of s and writes '*' for
// every other one; s of head+tail characters or fewer is masked whole.
func maskMiddle(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	out := make([]byte, 0, len(s))
	i := 0
	for _, r := range s {
		if n > head+tail && (i < head || i >= n-tail) {
			out = utf8.AppendRune(out, r)
		} else {
			out = append(out, '*')
		}
		i++
	}
	return string(out)
}
