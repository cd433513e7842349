package exchange

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
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
