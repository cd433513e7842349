package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestSafeNext: a redirect after login stays on this site, however the browser would read
// the address; a local path with its query passes as it is.
func TestSafeNext(t *testing.T) {
	for _, s := range []string{"/", "/work/warning?page=2", "/person/12", "/work/risk?region=371002001001&sort=health"} {
		if got := safeNext(s); got != s {
			t.Errorf("safeNext(%q) = %q, want it kept", s, got)
		}
	}
	for _, s := range []string{"", "work", "//evil.example", "/\\evil.example", "/\t/evil.example/phish",
		"/\n/evil.example", "/\r\n//evil.example", "/%09/evil.example", "/\x7f/evil.example", "https://evil.example/",
		"/\\/evil.example", "\\\\evil.example", " /evil", "/a\\b"} {
		s, _ = url.QueryUnescape(s) // what the form's value is once decoded
		if got := safeNext(s); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", s, got)
		}
	}
}

// FuzzSafeNext: whatever comes in, what goes out is "/" or a path no browser reads as
// another host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/work", "//x", "/\t/x", "/\\x", "/a?b=//c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		if got == "/" {
			return
		}
		if got != s || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeNext(%q) = %q", s, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q parses as %+v, %v", s, got, u, err)
		}
	})
}
