package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

// TestPhotosCommand: ID-card photos named by ID number become face references; a photo of
// a group, one of a person not on the roster and one that is no JPEG are each refused with
// their file named, and do not stop the others.
func TestPhotosCommand(t *testing.T) {
	pkg := filepath.Join("..", "..", "face", "testdata", "npm", "package")
	if _, err := os.Stat(filepath.Join(pkg, "model")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the face-api package is missing (%v): run face/fetch.sh", err)
		}
		t.Skipf("the face-api package is missing (%v): run face/fetch.sh", err)
	}
	scn := filepath.Join("..", "..", "backtest", "testdata", "scenario")
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "p.db")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", filepath.Join(scn, "roster.csv")}, &stdout, &stderr); code != 0 {
		t.Fatalf("roster: exit %d: %s", code, stderr.String())
	}
	photos := filepath.Join(dir, "photos")
	os.MkdirAll(photos, 0o755)
	cp := func(from, to string) {
		b, err := os.ReadFile(filepath.Join(pkg, "demo", from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(photos, to), b, 0o644)
	}
	const zhang, li = "371002194003150019", "371002193802100021"
	cp("sample2.jpg", zhang+".jpg")
	cp("sample1.jpg", li+".jpg")                 // a group
	cp("sample2.jpg", "11010519491231002X.jpeg") // not on the roster
	os.WriteFile(filepath.Join(photos, "readme.txt"), []byte("not a photo"), 0o644)
	os.WriteFile(filepath.Join(dir, "371002193802100021.jpg"), []byte("not a jpeg"), 0o644)
	os.Symlink(filepath.Join(dir, "gone.jpg"), filepath.Join(photos, "11010519491231002X.jpg")) // unreadable
	stdout.Reset()
	stderr.Reset()
	code := run(context.Background(), []string{"photos", "--db", dsn, "--face-models", filepath.Join(pkg, "model"), photos,
		filepath.Join(dir, "371002193802100021.jpg")}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "1 imported, 4 refused") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	// Each refusal named by its file, the ID number in the name masked (the list goes to
	// cron mail and the journal).
	for _, id := range []string{li, "11010519491231002X"} {
		if strings.Contains(stderr.String(), id) {
			t.Errorf("the report prints the ID number %s whole:\n%s", id, stderr.String())
		}
	}
	for _, want := range []string{idcard.Mask(li) + ".jpg: ", "faces, want exactly one", idcard.Mask("11010519491231002X") + ".jpeg: ", "no recipient", filepath.Join(dir, idcard.Mask("371002193802100021")+".jpg") + ": "} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, stderr.String())
		}
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var actor string
	db.SQL().QueryRow(`SELECT count(*) FROM citizen_refs WHERE kind = 'idcard'`).Scan(&n)
	db.SQL().QueryRow(`SELECT actor FROM audit WHERE action = 'import_idcard_photo'`).Scan(&actor)
	if n != 1 || !strings.HasPrefix(actor, "cli") {
		t.Fatalf("%d references, audited by %q", n, actor)
	}
}
