package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// cli runs a command as main does and returns its exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var so, se bytes.Buffer
	code := run(context.Background(), args, &so, &se)
	return code, so.String(), se.String()
}

var anchorRE = regexp.MustCompile(`audit head ([0-9]+:[0-9a-f]{64})`)

// TestAuditAnchors: the heads run-day and payroll print, and `audit head`, kept outside
// the database, catch a rewrite of the trail with every hash computed again (which the
// chain alone calls intact), and a cut back past them; migrate's rows name the command
// line's user.
func TestAuditAnchors(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "a.db")
	if code, _, se := cli("migrate", "--db", dsn); code != 0 {
		t.Fatalf("migrate: %s", se)
	}
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	if code, _, se := cli("ingest", "--db", dsn, "--roster", roster); code != 0 {
		t.Fatalf("ingest: %s", se)
	}
	code, out, se := cli("run-day", "--db", dsn, "--day", "2024-02-01")
	m := anchorRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("run-day printed no audit head: %d %s %s", code, out, se)
	}
	day := m[1]
	code, out, se = cli("payroll", "--db", dsn, "--month", "2024-02", "--out", filepath.Join(dir, "pay.csv"))
	m = anchorRE.FindStringSubmatch(out)
	if code != 0 || m == nil || !strings.Contains(out, "keep it with the payroll") {
		t.Fatalf("payroll printed no audit head: %d %s %s", code, out, se)
	}
	pay := m[1]
	// The command the payroll suggests runs as printed: it names the database (without
	// --db it looked for silentcert.db).
	sugg := regexp.MustCompile("`silentcert (audit verify [^`]*)`").FindStringSubmatch(out)
	if sugg == nil || !strings.Contains(sugg[1], "--db "+dsn+" ") {
		t.Fatalf("payroll's suggested verify does not name --db %s: %s", dsn, out)
	}
	if code, out, se := cli(strings.Fields(sugg[1])...); code != 0 || !strings.Contains(out, "anchors kept outside found") {
		t.Fatalf("payroll's suggestion %q: %d %s %s", sugg[1], code, out, se)
	}
	if code, out, se := cli("audit", "head", "--db", dsn); code != 0 || strings.TrimSpace(out) != pay {
		t.Fatalf("audit head: %d %q %s, want the payroll's %s", code, out, se, pay)
	}
	if code, out, se := cli("audit", "verify", "--db", dsn, "--expect", day, "--expect", pay); code != 0 || !strings.Contains(out, "2 anchors kept outside found") {
		t.Fatalf("verify against the anchors of an untouched trail: %d %s %s", code, out, se)
	}

	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Trail(context.Background(), store.TrailQuery{Kind: "migration", Limit: 1000, From: sc.NoDate, To: sc.NoDate})
	if err != nil || len(rows) < 30 {
		t.Fatalf("migrate's rows: %d (%v)", len(rows), err)
	}
	for _, r := range rows {
		if r.Actor != cliActor() || r.Action != "apply" {
			t.Fatalf("migrate's row %+v, want it applied by %s", r, cliActor())
		}
	}
	// A decision of the day rewritten (a death date edited), every hash after it
	// computed again, the head moved: as anyone who can write the database can.
	var seq int64
	if err := db.SQL().QueryRow(`SELECT min(seq) FROM audit WHERE kind = 'decision'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`UPDATE audit SET detail = detail || ';death_date=2024-01-20' WHERE seq = ?`, seq); err != nil {
		t.Fatal(err)
	}
	rechain(t, db.SQL(), seq)
	if code, out, se := cli("audit", "verify", "--db", dsn); code != 0 {
		t.Fatalf("the chain alone should call the rewrite intact (it has no secret): %d %s %s", code, out, se)
	}
	code, out, se = cli("audit", "verify", "--db", dsn, "--expect", day)
	if code == 0 || !strings.Contains(out, "its hash is not the anchor's "+day) || !strings.Contains(se, "audit trail broken") {
		t.Fatalf("a rewrite before the day's anchor: %d %s %s", code, out, se)
	}
	file := filepath.Join(dir, "anchors.txt")
	os.WriteFile(file, []byte("# the fund's anchors\n\n"+pay+" payroll 2024-02\n"), 0o600)
	if code, out, _ := cli("audit", "verify", "--db", dsn, "--expect-file", file); code == 0 || !strings.Contains(out, "its hash is not the anchor's "+pay) {
		t.Fatalf("a rewrite before the payroll's anchor, from a file: %d %s", code, out)
	}
	// Cut back to before the payroll's rows, the head moved back with them.
	a, _ := store.ParseAuditAnchor(pay)
	if _, err := db.SQL().Exec(`DELETE FROM audit WHERE seq >= ?`, a.Seq-1); err != nil {
		t.Fatal(err)
	}
	rechain(t, db.SQL(), a.Seq-2)
	if code, out, _ := cli("audit", "verify", "--db", dsn, "--expect", pay); code == 0 || !strings.Contains(out, "names a row the trail does not have") {
		t.Fatalf("a cut past the payroll's anchor: %d %s", code, out)
	}
	if code, _, se := cli("audit", "verify", "--db", dsn, "--expect", "12:abc"); code != 2 || !strings.Contains(se, "64 hex digits") {
		t.Fatalf("a malformed anchor: %d %s", code, se)
	}
}

// rechain computes again, on SQLite, the hash of every row of the trail from seq on and
// moves the head: what anyone who reads store/audit.go can do, with no secret.
func rechain(t *testing.T, db *sql.DB, from int64) {
	t.Helper()
	var prev []byte
	if err := db.QueryRow(`SELECT hash FROM audit WHERE seq = ?`, from-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT seq, kind, day, at, actor, pid, person_id, action, method, evidence, detail, rule, region FROM audit WHERE seq >= ? ORDER BY seq`, from)
	if err != nil {
		t.Fatal(err)
	}
	type link struct {
		seq        int64
		prev, hash []byte
	}
	var links []link
	last := from - 1
	for rows.Next() {
		var seq, day, pid int64
		var f [10]string
		if err := rows.Scan(&seq, &f[0], &day, &f[1], &f[2], &pid, &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		fields := []string{string(prev), strconv.FormatInt(seq, 10), f[0], strconv.FormatInt(day, 10), f[1], f[2],
			strconv.FormatInt(pid, 10), f[3], f[4], f[5], f[6], f[7], f[8]}
		if f[9] != "" { // the region, hashed when set (migration 0034)
			fields = append(fields, f[9])
		}
		for _, s := range fields {
			h.Write(binary.AppendUvarint(nil, uint64(len(s))))
			h.Write([]byte(s))
		}
		links = append(links, link{seq, prev, h.Sum(nil)})
		prev, last = links[len(links)-1].hash, seq
	}
	rows.Close()
	for _, l := range links {
		if _, err := db.Exec(`UPDATE audit SET prev = ?, hash = ? WHERE seq = ?`, l.prev, l.hash, l.seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`UPDATE meta SET value = ? WHERE key = 'audit_head'`, strconv.FormatInt(last, 10)+":"+hex.EncodeToString(prev)); err != nil {
		t.Fatal(err)
	}
}

// httpGet returns the status of GET url.
func httpGet(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestServeAuditCut: serve beside a trail whose last rows were deleted says so in its log
// and answers /readyz 503, writing nothing (the day's run waits), until the trail is whole.
func TestServeAuditCut(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "s.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	if code, _, se := cli("ingest", "--db", dsn, "--roster", roster); code != 0 {
		t.Fatalf("ingest: %s", se)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	db.SQL().QueryRow(`SELECT max(seq) FROM audit`).Scan(&last)
	if _, err := db.SQL().Exec(`DELETE FROM audit WHERE seq = ?`, last); err != nil { // the roster's row
		t.Fatal(err)
	}
	db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", dsn, "--addr", "127.0.0.1:0"}, out, errOut)
	}()
	var base string
	for i := 0; i < 200 && base == ""; i++ {
		if _, rest, ok := strings.Cut(out.String(), " on http://"); ok {
			base = "http://" + strings.TrimSuffix(strings.Fields(rest)[0], "/")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("serve did not announce itself: %s %s", out.String(), errOut.String())
	}
	resp, err := httpGet(base + "/readyz")
	if err != nil || resp != 503 {
		t.Fatalf("readyz beside a cut trail: %d %v", resp, err)
	}
	if log := errOut.String(); !strings.Contains(log, "audit trail broken") || !strings.Contains(log, "the head in meta is") {
		t.Fatalf("serve's log: %s", log)
	}
	cancel()
	<-done
	db, err = store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if d, _ := db.LastRun(context.Background()); d != sc.NoDate {
		t.Fatalf("serve ran day %s over a cut trail", d)
	}
	var now int64
	db.SQL().QueryRow(`SELECT max(seq) FROM audit`).Scan(&now)
	if now != last-1 {
		t.Fatalf("the trail ends at %d, want %d: a deleted row's number was taken", now, last-1)
	}
	// A migration pending (here 0032 again) cannot write its row on the cut trail, and
	// refuses; audit verify still reads the trail as it is and names the break.
	if _, err := db.SQL().Exec(`DELETE FROM schema_migrations WHERE version = 32`); err != nil {
		t.Fatal(err)
	}
	if code, out, se := cli("audit", "verify", "--db", dsn); code != 1 || !strings.Contains(out, "head is") {
		t.Fatalf("verify of a cut trail with a migration pending: %d %s %s", code, out, se)
	}
}

// TestShellDSN: the --db a suggested command prints is the operator's, runnable as
// printed: no password (in the user part or as a parameter), the user name kept (the
// command connects as the same user), quoted for the shell when it must be.
func TestShellDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"":                              "sqlite:silentcert.db",
		"sqlite:/srv/city.db":           "sqlite:/srv/city.db",
		"sqlite:/srv/my city's.db":      `'sqlite:/srv/my city'\''s.db'`,
		"postgres://u:s3cret@h:5432/db": "postgres://u@h:5432/db",
		"postgres://u:s3cret@h:5432/db?sslmode=disable":     "'postgres://u@h:5432/db?sslmode=disable'",
		"postgresql:///db?host=/run&user=u&password=s3cret": "'postgresql:///db?host=%2Frun&user=u'",
		"postgres://h/db?password=s3cret&sslpassword=k":     "postgres://h/db",
	} {
		if got := shellDSN(dsn); got != want {
			t.Errorf("%q shown as %s, want %s", dsn, got, want)
		}
	}
}

// TestAuditVerifyPeople: audit verify says how many people's roster fields it checked
// against their roster rows, and fails on a phone changed by SQL, the phone masked.
func TestAuditVerifyPeople(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "a.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	if code, _, se := cli("ingest", "--db", dsn, "--roster", roster); code != 0 {
		t.Fatalf("ingest: %s", se)
	}
	code, out, se := cli("audit", "verify", "--db", dsn)
	if code != 0 || !regexp.MustCompile(`; [1-9][0-9]* people's roster fields checked against their rows\n$`).MatchString(out) || strings.Contains(out, "before the roster trail") {
		t.Fatalf("verify of an imported roster: %d %q %s", code, out, se)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL().Exec(`UPDATE people SET phone = '13911112222' WHERE person_id = '371002194003150019'`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli("audit", "verify", "--db", dsn)
	if code == 0 || !strings.Contains(out, "person 3710**********0019 (pid 1) was changed outside the service: its phone is 139****2222, the trail's 138****0001") ||
		strings.Contains(out, "13911112222") || strings.Contains(out, "371002194003150019") {
		t.Fatalf("verify of a phone changed by SQL: %d %q", code, out)
	}
}
