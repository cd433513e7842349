package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTrailKinds: the audit page's kind filter offers the kinds the program writes, each
// named in every catalogue, and no kind that nothing writes (it offered "payroll", which is
// an export's action, and lacked recoveries and held records).
func TestTrailKinds(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	// How rows get their kind: a literal, the accounts' and the citizen site's helpers,
	// and the settings recorded with their row (setNoted).
	forms := regexp.MustCompile(`Kind:\s*"([a-z_]+)"|auditRow\((?:[a-zA-Z.()]+, )?"([a-z_]+)"|setNoted\(ctx, "([a-z_]+)"`)
	written := map[string]bool{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range forms.FindAllStringSubmatch(string(b), -1) {
			written[m[1]+m[2]+m[3]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Not audit kinds: the person page's timeline events.
	for _, k := range []string{"record", "action", "payment"} {
		delete(written, k)
	}
	if len(written) < 15 {
		t.Fatalf("found only %d kinds written: %v", len(written), written)
	}
	for k := range written {
		if k != "decision" && !slices.Contains(trailKinds, k) {
			t.Errorf("kind %q is written but not offered in the audit page's filter", k)
		}
		for lang, m := range cats {
			if _, ok := m["audit.kind."+k]; !ok {
				t.Errorf("kind %q has no name in %s", k, lang)
			}
		}
	}
	for _, k := range trailKinds {
		if !written[k] {
			t.Errorf("the filter offers %q, which nothing writes", k)
		}
	}
}
