package store_test

import (
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store"
)

// A note cannot add a pair to an audit detail, nor break the line it is exported on.
func TestDetailValue(t *testing.T) {
	for _, note := range []string{"paid back;owed=0", "line one\r\nline=two", "", "还款；已结清"} {
		got := store.DetailValue(note)
		if strings.ContainsAny(got, ";=\r\n") {
			t.Errorf("DetailValue(%q) = %q keeps a separator", note, got)
		}
		if len([]rune(got)) != len([]rune(note)) {
			t.Errorf("DetailValue(%q) = %q changes the note's length", note, got)
		}
	}
	if got := store.DetailValue("a;b=c"); got != "a,b:c" {
		t.Errorf("DetailValue(a;b=c) = %q", got)
	}
}
