package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGeocode runs the command on a small file with good and bad rows and compares the
// output and the summary with golden files.
func TestGeocode(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"geocode", "--in", "testdata/geocode/in.csv", "--out", out, "--workers", "2"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the geocoded file (ID numbers and addresses): %v %v, want 0600", fi.Mode(), err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/geocode/want.csv", got)
	golden(t, "testdata/geocode/want.stderr", stderr.Bytes())

	// With --city the same file resolves inside Weihai only.
	code = run(context.Background(), []string{"geocode", "--in", "testdata/geocode/in.csv", "--out", out, "--city", "3710"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("--city: exit %d", code)
	}
	got, _ = os.ReadFile(out)
	golden(t, "testdata/geocode/want-weihai.csv", got)
}

func TestGeocodeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"geocode"},
		{"geocode", "--in", "x.csv"},
		{"geocode", "--in", "testdata/geocode/in.csv", "--out", "/dev/null", "--city", "37"},
		{"geocode", "--in", "testdata/geocode/in.csv", "--out", "/dev/null", "--city", "9999"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
	dir := t.TempDir()
	noHeader := filepath.Join(dir, "in.csv")
	os.WriteFile(noHeader, []byte("P1,山东省威海市\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"geocode", "--in", noHeader, "--out", filepath.Join(dir, "out.csv")}, &stdout, &stderr); code != 1 ||
		!bytes.Contains(stderr.Bytes(), []byte("line 1: header must name the columns id and address")) {
		t.Errorf("no header: exit %d: %s", code, stderr.String())
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
