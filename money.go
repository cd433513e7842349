package silentcert

import "strconv"

// Fen is an amount of money in fen (分, 1/100 yuan). Amounts are never floats (spec §1).
type Fen int64

// ParseYuanBytes parses yuan written as digits with an optional "." and one or two decimals:
// no sign, separators or currency marks (spec §1). The whole yuan have at most
// maxYuanDigits digits, so that every amount read is written back (AppendTo) as an amount
// this reads.
func ParseYuanBytes(s []byte) (Fen, bool) {
	if len(s) == 0 || len(s) > maxYuanDigits+3 {
		return 0, false
	}
	var whole int64
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		whole = whole*10 + int64(s[i]-'0')
		i++
	}
	if i == 0 || i > maxYuanDigits {
		return 0, false
	}
	f := Fen(whole * 100)
	if i == len(s) {
		return f, true
	}
	if s[i] != '.' {
		return 0, false
	}
	dec := s[i+1:]
	switch len(dec) {
	case 1:
		if dec[0] < '0' || dec[0] > '9' {
			return 0, false
		}
		return f + Fen(dec[0]-'0')*10, true
	case 2:
		if dec[0] < '0' || dec[0] > '9' || dec[1] < '0' || dec[1] > '9' {
			return 0, false
		}
		return f + Fen(dec[0]-'0')*10 + Fen(dec[1]-'0'), true
	}
	return 0, false
}

// maxYuanDigits bounds the whole yuan of an amount: 9,999,999,999,999 yuan, far past any
// pension or recoverable sum. (Read with 14 digits, "10000000000000" was written back as
// "10000000000000.00", which the old length bound refused: found by FuzzParseYuan.)
const maxYuanDigits = 13

// ParseYuan parses an amount in yuan; see ParseYuanBytes.
func ParseYuan(s string) (Fen, bool) { return ParseYuanBytes([]byte(s)) }

// AppendTo appends f as yuan with exactly two decimals.
func (f Fen) AppendTo(b []byte) []byte {
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	b = strconv.AppendInt(b, int64(f/100), 10)
	c := int(f % 100)
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// String formats f as yuan with exactly two decimals ("1234.50").
func (f Fen) String() string { return string(f.AppendTo(nil)) }
