package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestUsers: a new installation's first administrator is made from the command line (the
// password from standard input, hashed), can log in, is listed; a forgotten password is
// reset; the last administrator cannot be disabled; bad input is refused; each change is
// audited with the command line's actor.
func TestUsers(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "u.db")
	defer func() { stdin = os.Stdin }()
	users := func(in string, args ...string) (int, string, string) {
		stdin = strings.NewReader(in)
		var so, se bytes.Buffer
		code := run(context.Background(), append([]string{"users"}, args...), &so, &se)
		return code, so.String(), se.String()
	}
	const pw = "Correct-Horse-7-Battery"
	if code, out, errs := users(pw+"\n", "add", "--db", dsn, "--name", "zhao.admin", "--role", "admin"); code != 0 || !strings.Contains(out, "zhao.admin (admin) made") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	// The database it made holds password hashes: its owner's only.
	if fi, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:")); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("users add made its database %v, want 0600", fi.Mode().Perm())
	}
	if code, _, errs := users(pw+"\n", "add", "--db", dsn, "--name", "v.1", "--role", "village", "--region", "3710"); code == 0 || !strings.Contains(errs, "12-digit") {
		t.Fatalf("a village account without its village: %d %s", code, errs)
	}
	if code, _, errs := users("short\n", "add", "--db", dsn, "--name", "op", "--role", "operator"); code == 0 || errs == "" {
		t.Fatalf("a weak password: %d", code)
	}
	if code, _, _ := users("", "add", "--db", dsn, "--role", "operator"); code != 2 {
		t.Fatalf("no --name: %d", code)
	}
	// A name taken is refused before the password is read (no input given here).
	if code, _, errs := users("", "add", "--db", dsn, "--name", "zhao.admin", "--role", "operator"); code == 0 || !strings.Contains(errs, "is taken") || strings.Contains(errs, "password") {
		t.Fatalf("a name taken: %d %s", code, errs)
	}
	// A weak password for a new database makes none.
	fresh := filepath.Join(t.TempDir(), "new.db")
	if code, _, errs := users("short\n", "add", "--db", "sqlite:"+fresh, "--name", "a1", "--role", "admin"); code == 0 || errs == "" {
		t.Fatalf("a weak password on a new database: %d", code)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Fatal("a refused first account left a database behind")
	}
	// The other commands that only use a database never make one of a mistyped path.
	for _, args := range [][]string{{"audit", "verify", "--db", "sqlite:" + fresh}, {"run-day", "--db", "sqlite:" + fresh, "--day", "2024-01-08"},
		{"payroll", "--db", "sqlite:" + fresh, "--month", "2024-01", "--out", filepath.Join(t.TempDir(), "p.csv")},
		{"migrate", "--db", "sqlite:" + fresh, "--status"}, {"backup", "--db", "sqlite:" + fresh, "--out", filepath.Join(t.TempDir(), "b.db")},
		{"ingest", "--db", "sqlite:" + fresh, filepath.Join(t.TempDir(), "r.csv")}} {
		var so, se bytes.Buffer
		if code := run(context.Background(), args, &so, &se); code == 0 || !strings.Contains(se.String(), "no such database") {
			t.Errorf("%v: %d %s", args, code, se.String())
		}
		if _, err := os.Stat(fresh); err == nil {
			t.Fatalf("%v made a database of a mistyped path", args)
		}
	}
	if code, _, errs := users("", "list", "--db", dsn+"x"); code == 0 || !strings.Contains(errs, "no such database") {
		t.Fatalf("a mistyped path: %d %s", code, errs)
	}
	if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:") + "x"); err == nil {
		t.Fatal("a mistyped path made a database")
	}
	if code, out, _ := users("", "list", "--db", dsn); code != 0 || !strings.Contains(out, "zhao.admin") || !strings.Contains(out, "enabled") || strings.Contains(out, "op ") {
		t.Fatalf("list: %d %s", code, out)
	}
	if code, _, errs := users("", "disable", "--db", dsn, "--name", "zhao.admin"); code == 0 || !strings.Contains(errs, "last enabled administrator") {
		t.Fatalf("disabling the last administrator: %d %s", code, errs)
	}
	if code, _, errs := users(pw+"x\n", "password", "--db", dsn, "--name", "nobody"); code == 0 || !strings.Contains(errs, "no account") {
		t.Fatalf("an unknown account: %d %s", code, errs)
	}
	const pw2 = "Another-Long-Pass-42"
	if code, out, errs := users(pw2+"\r\n", "password", "--db", dsn, "--name", "zhao.admin"); code != 0 || !strings.Contains(out, "new password") {
		t.Fatalf("password: %d %s %s", code, out, errs)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := auth.New(db, auth.Options{})
	if _, _, err := a.Login(context.Background(), "zhao.admin", pw, "127.0.0.1"); err == nil {
		t.Error("the old password still logs in")
	}
	tok, u, err := a.Login(context.Background(), "zhao.admin", pw2, "127.0.0.1")
	if err != nil || u.MustChange {
		t.Errorf("the new password: %v (must change: %v)", err, u != nil && u.MustChange)
	}
	// --temporary: for someone else, who chooses their own at the next sign-in; whoever
	// was signed in with the one before is signed out.
	if code, out, errs := users(pw+"\n", "password", "--db", dsn, "--name", "zhao.admin", "--temporary"); code != 0 || !strings.Contains(out, "temporary") {
		t.Fatalf("password --temporary: %d %s %s", code, out, errs)
	}
	if _, _, err := a.Session(context.Background(), tok); sc.ErrorCode(err) != sc.EUnauthorized {
		t.Errorf("a session outlived password --temporary: %v", err)
	}
	if _, u, err := a.Login(context.Background(), "zhao.admin", pw, "127.0.0.1"); err != nil || !u.MustChange {
		t.Errorf("a temporary password: %v (must change: %v)", err, u != nil && u.MustChange)
	}
	rows, err := db.Trail(context.Background(), store.TrailQuery{Limit: 100, From: sc.NoDate, To: sc.NoDate})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, r := range rows {
		if r.Kind == "user" {
			if !strings.HasPrefix(r.Actor, "cli") || strings.Contains(r.Detail, pw) || strings.Contains(r.Detail, pw2) {
				t.Errorf("audit row %+v", r)
			}
			acts = append(acts, r.Action)
		}
	}
	if strings.Join(acts, ",") != "password,password,create" {
		t.Errorf("audited: %v", acts)
	}
}

// TestBackupCommand: backup copies a database that then opens and verifies; a second
// backup to the same file is refused.
func TestBackupCommand(t *testing.T) {
	dir, dsn := rosterDB(t)
	out := filepath.Join(dir, "copy.db")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--db", dsn, "--out", out}, &so, &se); code != 0 || !strings.Contains(so.String(), "checked") {
		t.Fatalf("backup: %d %s %s", code, so.String(), se.String())
	}
	so.Reset()
	if code := run(context.Background(), []string{"audit", "verify", "--db", "sqlite:" + out}, &so, &se); code != 0 || !strings.Contains(so.String(), "intact") {
		t.Fatalf("the copy's audit: %s %s", so.String(), se.String())
	}
	// Who took the copy is in the trail, the copy's too.
	for _, path := range []string{strings.TrimPrefix(dsn, "sqlite:"), out} {
		db, err := store.Open(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'export' AND action = 'backup' AND detail LIKE '%copy.db%'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d backup rows (%v)", path, n, err)
		}
		db.Close()
	}
	se.Reset()
	if code := run(context.Background(), []string{"backup", "--db", dsn, "--out", out}, &so, &se); code == 0 || !strings.Contains(se.String(), "exists") {
		t.Fatalf("over an existing file: %d %s", code, se.String())
	}
}

// TestBackupRefusesPostgresUnaudited: a PostgreSQL database is refused (pg_dump backs it
// up) before the trail records a copy that is never made.
func TestBackupRefusesPostgresUnaudited(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	db := storetest.Open(t, dsn)
	out := filepath.Join(t.TempDir(), "pg.db")
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--db", dsn, "--out", out}, &so, &se); code == 0 || !strings.Contains(se.String(), "pg_dump") {
		t.Fatalf("backup of PostgreSQL: exit %d %s", code, se.String())
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM audit WHERE kind = 'export' AND action = 'backup'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d backup rows for a refused backup (%v)", n, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a file was written")
	}
}

// TestIngestListsProblems: the operator at the command line sees the rows quarantined and
// the warnings, each with its file and line (a roster printed only a count; warnings —
// an unknown column, a required one missing — were never printed).
func TestIngestListsProblems(t *testing.T) {
	dir, dsn := rosterDB(t)
	roster := filepath.Join(dir, "more.csv")
	os.WriteFile(roster, []byte("person_id,name,benefit_type,monthly_amount,start_month,hukou_address,nickname\n"+
		"371002194003150019,张三,EMP_PENSION,abc,2020-01,某地址,x\n"), 0o644)
	records := filepath.Join(dir, "r.csv")
	// A good row beside the bad: a file of which only some rows are quarantined exits 0
	// (one whose every row is, 3: TestIngestHeaderFirst).
	os.WriteFile(records, []byte("record_id,source,type,person_id,event_date,hospital\nR1,HEA,HEA.CHECKUP,371002194003150019,2024-13-01,x\n"+
		"R2,HEA,HEA.CHECKUP,371002194003150019,2024-01-13,x\n"), 0o644)
	var so, se bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--db", dsn, "--roster", roster, "--day", "2024-02-01", records}, &so, &se); code != 0 {
		t.Fatalf("ingest: %d %s", code, se.String())
	}
	for _, want := range []string{roster + ":2: monthly_amount:", "warning: " + roster + ":1: nickname:", records + ":2: event_date:", "warning: " + records + ":1: hospital:"} {
		if !strings.Contains(se.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, se.String())
		}
	}
}
