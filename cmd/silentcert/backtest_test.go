package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBacktestCommand(t *testing.T) {
	scn := filepath.Join("..", "..", "backtest", "testdata", "scenario")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"backtest", "--roster", filepath.Join(scn, "roster.csv"), "--records", filepath.Join(scn, "records"),
		"--from", "2024-01-01", "--to", "2024-12-31", "--out", out, "--quiet"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"decisions.csv", "status.csv", "payroll.csv", "overpayments.csv", "quarantine.csv", "held.csv", "unlinked.csv", "report.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if !strings.Contains(stdout.String(), "records read") {
		t.Errorf("summary: %q", stdout.String())
	}
	// Spec §7: --from after --to is a usage error, exit code 2; so are missing flags.
	for _, bad := range [][]string{
		{"backtest", "--roster", "r.csv", "--records", "d", "--from", "2024-12-31", "--to", "2024-01-01", "--out", out},
		{"backtest", "--roster", "r.csv", "--from", "2024-01-01", "--to", "2024-12-31", "--out", out},
		{"backtest", "--roster", "r.csv", "--records", "d", "--from", "2024-02-30", "--to", "2024-12-31", "--out", out},
		{"backtest", "--bogus"},
	} {
		stderr.Reset()
		if code := run(context.Background(), bad, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, stderr.String())
		}
	}
	// A missing roster is an error (exit 1) naming the file.
	stderr.Reset()
	code := run(context.Background(), []string{"backtest", "--roster", filepath.Join(out, "none.csv"), "--records", out,
		"--from", "2024-01-01", "--to", "2024-01-31", "--out", t.TempDir(), "--quiet"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "none.csv") {
		t.Errorf("missing roster: exit %d: %s", code, stderr.String())
	}
}

func TestBacktestConfigErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(cfg, []byte(`{"policy":{"grace_month":1}}`), 0o644)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backtest", "--roster", "r.csv", "--records", "d", "--from", "2024-01-01",
		"--to", "2024-01-31", "--out", t.TempDir(), "--config", cfg}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "bad.json") || !strings.Contains(stderr.String(), "grace_month") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
