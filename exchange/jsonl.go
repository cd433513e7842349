package exchange

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonObj iterates over the members of one flat JSON object (a JSON Lines row) without
// building anything: keys and string values are views into the line, unescaped in place
// (an escape is never shorter than what it stands for), numbers are their literal text, and
// nested values are their raw span. It accepts exactly the JSON that encoding/json accepts
// for such a line, except that it expects valid UTF-8 (rows are checked for that first).
type jsonObj struct {
	b []byte
	i int
	n int // members read
}

type jkind uint8

const (
	jString jkind = iota
	jNumber
	jObject
	jArray
	jBool
	jNull
)

// maxJSONDepth bounds nesting in values that are skipped.
const maxJSONDepth = 64

var (
	errJSONNotObject = errors.New("not a JSON object")
	errJSONEnd       = errors.New("unexpected end of the JSON object")
	errJSONSyntax    = errors.New("JSON syntax error")
	errJSONString    = errors.New("bad JSON string (control character or escape)")
	errJSONNumber    = errors.New("bad JSON number")
	errJSONTrailing  = errors.New("text after the JSON object")
	errJSONDepth     = errors.New("JSON nested too deeply")
)

func (o *jsonObj) ws() {
	for o.i < len(o.b) {
		switch o.b[o.i] {
		case ' ', '\t', '\r', '\n':
			o.i++
		default:
			return
		}
	}
}

// open starts reading the object in b.
func (o *jsonObj) open(b []byte) error {
	o.b, o.i, o.n = b, 0, 0
	o.ws()
	if o.i >= len(b) || b[o.i] != '{' {
		return errJSONNotObject
	}
	o.i++
	return nil
}

// next returns the next member; done is true after the closing brace (and nothing but
// white space after it).
func (o *jsonObj) next() (key []byte, kind jkind, val []byte, done bool, err error) {
	o.ws()
	if o.i >= len(o.b) {
		return nil, 0, nil, false, errJSONEnd
	}
	c := o.b[o.i]
	if c == '}' {
		o.i++
		o.ws()
		if o.i != len(o.b) {
			return nil, 0, nil, false, errJSONTrailing
		}
		return nil, 0, nil, true, nil
	}
	if o.n > 0 {
		if c != ',' {
			return nil, 0, nil, false, errJSONSyntax
		}
		o.i++
		o.ws()
		if o.i >= len(o.b) {
			return nil, 0, nil, false, errJSONEnd
		}
	}
	if o.b[o.i] != '"' {
		return nil, 0, nil, false, errJSONSyntax
	}
	if key, err = o.str(); err != nil {
		return nil, 0, nil, false, err
	}
	o.ws()
	if o.i >= len(o.b) || o.b[o.i] != ':' {
		return nil, 0, nil, false, errJSONSyntax
	}
	o.i++
	o.ws()
	kind, val, err = o.value(0)
	if err != nil {
		return nil, 0, nil, false, err
	}
	o.n++
	return key, kind, val, false, nil
}

func (o *jsonObj) value(depth int) (jkind, []byte, error) {
	if o.i >= len(o.b) {
		return 0, nil, errJSONEnd
	}
	start := o.i
	switch c := o.b[o.i]; {
	case c == '"':
		s, err := o.str()
		return jString, s, err
	case c == '{' || c == '[':
		if err := o.skipNested(depth); err != nil {
			return 0, nil, err
		}
		if c == '{' {
			return jObject, o.b[start:o.i], nil
		}
		return jArray, o.b[start:o.i], nil
	case c == '-' || (c >= '0' && c <= '9'):
		if err := o.number(); err != nil {
			return 0, nil, err
		}
		return jNumber, o.b[start:o.i], nil
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(o.b)-o.i >= len(lit) && string(o.b[o.i:o.i+len(lit)]) == lit {
			o.i += len(lit)
			if lit == "null" {
				return jNull, nil, nil
			}
			return jBool, o.b[start:o.i], nil
		}
	}
	return 0, nil, errJSONSyntax
}

// skipNested moves past an object or array, checking its syntax.
func (o *jsonObj) skipNested(depth int) error {
	if depth >= maxJSONDepth {
		return errJSONDepth
	}
	open := o.b[o.i]
	closer := byte('}')
	if open == '[' {
		closer = ']'
	}
	o.i++
	o.ws()
	if o.i < len(o.b) && o.b[o.i] == closer {
		o.i++
		return nil
	}
	for {
		o.ws()
		if open == '{' {
			if o.i >= len(o.b) || o.b[o.i] != '"' {
				return errJSONSyntax
			}
			if _, err := o.str(); err != nil {
				return err
			}
			o.ws()
			if o.i >= len(o.b) || o.b[o.i] != ':' {
				return errJSONSyntax
			}
			o.i++
			o.ws()
		}
		if _, _, err := o.value(depth + 1); err != nil {
			return err
		}
		o.ws()
		if o.i >= len(o.b) {
			return errJSONEnd
		}
		switch o.b[o.i] {
		case ',':
			o.i++
		case closer:
			o.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (o *jsonObj) number() error {
	b, i := o.b, o.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return errJSONNumber
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return errJSONNumber
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return errJSONNumber
		}
	}
	o.i = i
	return nil
}

// str reads a string at o.i (on its opening quote) and returns its content, unescaped in
// place.
func (o *jsonObj) str() ([]byte, error) {
	b := o.b
	i := o.i + 1
	start := i
	esc := false
	for {
		if i >= len(b) {
			return nil, errJSONEnd
		}
		c := b[i]
		switch {
		case c == '"':
			o.i = i + 1
			if esc {
				return unescapeJSON(b[start:i]), nil
			}
			return b[start:i], nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return nil, errJSONEnd
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return nil, errJSONString
				}
				i += 6
			default:
				return nil, errJSONString
			}
		case c < 0x20:
			return nil, errJSONString
		default:
			i++
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hex4(b []byte) rune {
	return rune(hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3]))
}

// unescapeJSON decodes the escapes of a checked string body in place, the way
// encoding/json does (a lone surrogate becomes U+FFFD).
func unescapeJSON(s []byte) []byte {
	w := 0
	for r := 0; r < len(s); {
		c := s[r]
		if c != '\\' {
			s[w] = c
			w++
			r++
			continue
		}
		switch s[r+1] {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			rr := hex4(s[r+2 : r+6])
			r += 6
			if utf16.IsSurrogate(rr) {
				if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
					if dec := utf16.DecodeRune(rr, hex4(s[r+2:r+6])); dec != utf8.RuneError {
						w += utf8.EncodeRune(s[w:], dec)
						r += 6
						continue
					}
				}
				rr = utf8.RuneError
			}
			w += utf8.EncodeRune(s[w:], rr)
			continue
		default: // '"', '\\', '/'
			c = s[r+1]
		}
		s[w] = c
		w++
		r += 2
	}
	return s[:w]
}
