package service

import (
	"github.com/silentcert/silentcert/idcard"
)

// MaskFileName masks, for the log, the personal numbers in a name a department chose: a
// drop folder's file ("CMT/x371003194103201721.csv", "13812345678-visits.csv"), or an
// error naming one. Every run of 15 digits or more (an ID number of 15 or 18 digits, or
// 17 and its X, whatever touches it: a letter, another digit) is masked as idcard.Mask
// masks an ID number; every run of 11 to 14 digits that holds a mobile number (1, then 3
// to 9, then 9 digits: "8613812345678" too) as idcard.MaskPhone masks a phone. Shorter
// runs (dates, batch numbers) and longer ones holding no mobile number (a 12-digit
// division code) stay; so does everything else, byte for byte. (It replaced idcard.MaskIn,
// which masked only an ID number no letter or digit touched.)
func MaskFileName(s string) string {
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		end := j
		if j-i == 17 && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
			end = j + 1
		}
		var masked string
		switch n := end - i; {
		case n >= 15:
			masked = idcard.Mask(s[i:end])
		case n >= 11 && holdsMobile(s[i:end]):
			masked = idcard.MaskPhone(s[i:end])
		}
		if masked != "" {
			out = append(out, s[last:i]...)
			out = append(out, masked...)
			last = end
		}
		i = end
	}
	if out == nil {
		return s
	}
	return string(append(out, s[last:]...))
}

// holdsMobile reports whether the digits d hold a mainland mobile number: 11 digits, the
// first 1, the second 3 to 9.
func holdsMobile(d string) bool {
	for i := 0; i+11 <= len(d); i++ {
		if d[i] == '1' && d[i+1] >= '3' && d[i+1] <= '9' {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
