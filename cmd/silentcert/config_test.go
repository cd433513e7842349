package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// TestConfigGuard: one database, one configuration, as one model. The auditor's case:
// run-day with a --config that sets grace_months 0 and makes TEL.ACTIVITY STRONG
// suspended four more people than the same day run plainly, and nothing in the trail
// or meta said the rules had changed. Now it is refused, naming what differs and the
// switch flag; with a reason it runs and the switch is in the trail. A file written by
// `silentcert config` is the same configuration as the built-in rules it spells out.
func TestConfigGuard(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "g.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte(`{"policy":{"grace_months":0},"catalogue":{"types":[{"code":"TEL.ACTIVITY","class":"STRONG"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := func(args ...string) int {
		stdout.Reset()
		stderr.Reset()
		return run(context.Background(), args, &stdout, &stderr)
	}
	if code := cmd("ingest", "--db", dsn, "--roster", roster, "--day", "2024-01-01", "--model", "builtin"); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr.String())
	}
	if code := cmd("run-day", "--db", dsn, "--day", "2024-01-02", "--model", "builtin", "--config", other); code == 0 ||
		!strings.Contains(stderr.String(), "--config-change") || !strings.Contains(stderr.String(), "policy.grace_months 1→0") {
		t.Fatalf("run-day under other rules: exit %d: %s", code, stderr.String())
	}
	pinned := filepath.Join(dir, "pinned.json")
	if code := cmd("config", "--out", pinned); code != 0 || !strings.HasPrefix(stderr.String(), "configuration ") {
		t.Fatalf("config: exit %d: %s", code, stderr.String())
	}
	print := strings.TrimSpace(strings.TrimPrefix(stderr.String(), "configuration "))
	if code := cmd("run-day", "--db", dsn, "--day", "2024-01-02", "--model", "builtin", "--config", pinned); code != 0 {
		t.Fatalf("run-day under the built-in rules spelled out: exit %d: %s", code, stderr.String())
	}
	if code := cmd("run-day", "--db", dsn, "--day", "2024-01-03", "--model", "builtin", "--config", other, "--config-change", "grace withdrawn by order 12"); code != 0 {
		t.Fatalf("run-day with a reason: exit %d: %s", code, stderr.String())
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Trail(context.Background(), store.TrailQuery{From: sc.NoDate, To: sc.NoDate, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, r := range rows {
		if r.Kind == "config" || r.Kind == "run" {
			d, _, _ := strings.Cut(r.Detail, ";config={")
			trail = append([]string{r.Kind + " " + d}, trail...)
		}
	}
	now, _, _ := db.Meta(context.Background(), "config")
	want := []string{
		"config to=" + print + ";first=1",
		"run evaluated=8;decisions=2;payroll=false;config=" + print + ";model=" + builtinID(t),
		"config from=" + print + ";to=" + now + ";changed=catalogue.types.TEL.ACTIVITY.class WEAK→STRONG, catalogue.types.TEL.ACTIVITY.method →STRONG, policy.grace_months 1→0;reason=grace withdrawn by order 12",
	}
	if len(trail) < 4 || strings.Join(trail[:3], "\n") != strings.Join(want, "\n") || !strings.HasSuffix(trail[3], ";config="+now+";model="+builtinID(t)) {
		t.Errorf("the trail's configurations and runs:\n%s\nwant\n%s\nrun …;config=%s", strings.Join(trail, "\n"), strings.Join(want, "\n"), now)
	}
}

// builtinID is the built-in model's identity.
func builtinID(t *testing.T) string {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"model"}, &stdout, &stderr); code != 0 {
		t.Fatalf("model: %s", stderr.String())
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(stderr.String(), "model "), " ")
	return id
}
