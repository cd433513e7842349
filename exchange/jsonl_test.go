package exchange

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

type member struct {
	kind jkind
	val  string
}

// readObject reads a line with jsonObj; later duplicate keys win, as in encoding/json.
func readObject(line []byte) (map[string]member, error) {
	var o jsonObj
	if err := o.open(append([]byte(nil), line...)); err != nil {
		return nil, err
	}
	m := map[string]member{}
	for {
		k, kind, v, done, err := o.next()
		if err != nil {
			return nil, err
		}
		if done {
			return m, nil
		}
		m[string(k)] = member{kind, string(v)}
	}
}

func TestJSONObject(t *testing.T) {
	m, err := readObject([]byte(` { "a" : "x\"y\\z\u00e9\ud83d\ude00" , "n":-12.5e+3,"o":{"k":["v",{}]},"t":true,"z":null,"e":"" } `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]member{
		"a": {jString, "x\"y\\zé😀"}, "n": {jNumber, "-12.5e+3"}, "o": {jObject, `{"k":["v",{}]}`},
		"t": {jBool, "true"}, "z": {jNull, ""}, "e": {jString, ""},
	}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %+v, want %+v", k, m[k], w)
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":"b"} x`, `{"a":01}`, `{"a":"\x"}`,
		"{\"a\":\"\t\"}", `{"a":1.}`, `{"a":-}`, `{a:1}`, `{"a":tru}`, `{"a":"\u12"}`} {
		if _, err := readObject([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzJSONObject checks jsonObj against encoding/json on lines of valid UTF-8: both accept
// or both reject a line, and agree on every string and number of an accepted object.
func FuzzJSONObject(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"amount":12.50,"detail":{"icd10":"I21"}}`, `{"a":"\ud800\u0041\udc00"}`,
		`{"a":[1,{"b":null}],"a":"again"}`, ` {} `, `{"x":-0.0e-0}`, `{"a":"\u00e9\/"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if !utf8.Valid(line) || bytes.ContainsAny(line, "\n") {
			return
		}
		got, err := readObject(line)
		var want map[string]json.RawMessage
		jerr := json.Unmarshal(line, &want)
		if jerr == nil && bytes.TrimSpace(line)[0] != '{' {
			jerr = errJSONNotObject // null decodes into a map without error
		}
		if (err == nil) != (jerr == nil) {
			if err != nil && err == errJSONDepth {
				return // encoding/json nests deeper than we allow
			}
			t.Fatalf("%q: jsonObj error %v, encoding/json error %v", line, err, jerr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, encoding/json %d", line, len(got), len(want))
		}
		for k, raw := range want {
			g, ok := got[k]
			if !ok {
				t.Fatalf("%q: key %q missing", line, k)
			}
			switch g.kind {
			case jString:
				var s string
				if err := json.Unmarshal(raw, &s); err != nil || s != g.val {
					t.Fatalf("%q: %q = %q, encoding/json %q (%v)", line, k, g.val, s, err)
				}
			case jNumber:
				if string(bytes.TrimSpace(raw)) != g.val {
					t.Fatalf("%q: %q = %s, encoding/json %s", line, k, g.val, raw)
				}
			}
		}
	})
}

// FuzzTrimSpace checks the fast trimSpace against bytes.TrimSpace on valid UTF-8.
func FuzzTrimSpace(f *testing.F) {
	for _, s := range []string{" 张三 ", "\u3000李四\u00a0", "\u2000x\u205f", "丰", "\u0085", " \t\r\n", "a\u2029", "李张", "张\u3000", "\u3000张\u2000"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		if got, want := trimSpace(b), bytes.TrimSpace(b); !bytes.Equal(got, want) {
			t.Fatalf("trimSpace(%q) = %q, want %q", b, got, want)
		}
	})
}

// FuzzValidUTF8 checks validUTF8 against utf8.Valid.
func FuzzValidUTF8(f *testing.F) {
	for _, s := range []string{"abc", "张三丰 abcdefgh 李四", "\xff", "abcdefgh\xe5\xbc", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80\x80", "\xe0\xa0\x80", "\xef\xbf\xbf", "\xee\x80", "\xe5\xbc\xa0\xe5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if validUTF8(b) != utf8.Valid(b) {
			t.Fatalf("validUTF8(%q) = %v", b, validUTF8(b))
		}
	})
}

// FuzzASCIIFirst checks that the ASCII fast path decodes exactly as the plain decoders do,
// whatever the chunking of the input and the room in the output.
func FuzzASCIIFirst(f *testing.F) {
	f.Add([]byte("abc\xd5\xc5\x81\x30\x81\x30,\xff\x80x\x81"), uint8(5), uint8(3))
	f.Add([]byte(strings.Repeat("a\xd5", 40)), uint8(7), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk, room uint8) {
		for _, enc := range []encoding.Encoding{simplifiedchinese.GBK, simplifiedchinese.GB18030} {
			want, _ := enc.NewDecoder().Bytes(in)
			r := transform.NewReader(&chunkReader{data: in, rnd: rand.New(rand.NewPCG(uint64(chunk), 3)), max: int(chunk)%9 + 1},
				asciiFirst{dec: enc.NewDecoder()})
			var got []byte
			buf := make([]byte, int(room)%17+1)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%q: got %q, want %q", in, got, want)
			}
		}
	})
}
