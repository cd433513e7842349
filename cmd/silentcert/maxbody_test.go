package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// TestDefaultMaxBody: serve accepts by default no batch its machine cannot hold in half
// its memory (a batch takes about 20 times its size): 1 GiB took about 21 GiB, all but
// the whole of a 24 GiB machine.
func TestDefaultMaxBody(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct{ mem, want int64 }{
		{0, gib},            // unknown: as before
		{24 * gib, gib / 2}, // the project's machine
		{4 * gib, gib / 12}, // a small one
		{64 * gib, gib},     // never more than 1 GiB
		{48 * gib, gib},
	} {
		if got := defaultMaxBody(c.mem); got != c.want {
			t.Errorf("%d GiB of memory: %d, want %d", c.mem/gib, got, c.want)
		}
	}
	if m := memTotal(); m <= 0 {
		t.Logf("no /proc/meminfo here: the default is 1 GiB")
	} else if got := defaultMaxBody(m); got <= 0 || got > gib {
		t.Errorf("this machine (%d bytes): %d", m, got)
	}
}

// TestIngestMaxBody: ingest on the command line had no bound on its batch (serve's
// --max-body only bounded the API and the drop folder): record files past the memory
// were read for minutes and then stopped the command, or the machine. Files larger
// together than --max-body are refused before anything is read (exit 2, naming the
// sizes and what to do), nothing applied; a gzip file that unpacks past it is refused
// whole (by its trailer before anything is read, or as it is read); 0 lifts the bound.
func TestIngestMaxBody(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "m.db")
	roster := filepath.Join("..", "..", "backtest", "testdata", "scenario", "roster.csv")
	row := "f%d,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-01-02,2024-01-02,,\n"
	head := "record_id,source,type,person_id,name,birth_date,event_date,reported_date,region_code,detail\n"
	a, b, z := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "z.csv.gz")
	os.WriteFile(a, []byte(head+fmt.Sprintf(row, 1)), 0o644) // 172 bytes
	os.WriteFile(b, []byte(head+fmt.Sprintf(row, 2)), 0o644)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(head + strings.Repeat(fmt.Sprintf(row, 3), 200)))
	w.Close()
	os.WriteFile(z, gz.Bytes(), 0o644)
	// The same, with an empty gzip member after it: its trailer says 0 bytes, so that only
	// the reading finds it too large.
	w = gzip.NewWriter(&gz)
	w.Close()
	z2 := filepath.Join(dir, "z2.csv.gz")
	os.WriteFile(z2, gz.Bytes(), 0o644)
	if code, _, se := cli("ingest", "--db", dsn, "--roster", roster, "--day", "2024-01-02"); code != 0 {
		t.Fatalf("roster: exit %d: %s", code, se)
	}
	batches := func() int {
		db := storetest.Open(t, dsn)
		defer db.Close()
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM batches WHERE origin = 'file'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	code, _, se := cli("ingest", "--db", dsn, "--day", "2024-01-02", "--max-body", "300", a, b)
	if code != 2 || !strings.Contains(se, "344 B together (unpacked), past --max-body 300 B") || !strings.Contains(se, "nothing applied") {
		t.Errorf("two files past the bound: exit %d: %s", code, se)
	}
	if n := batches(); n != 0 {
		t.Fatalf("%d record batches stored after the refusal", n)
	}
	if code, _, se := cli("ingest", "--db", dsn, "--day", "2024-01-02", "--max-body", "1000", z); code != 2 || !strings.Contains(se, "(unpacked), past --max-body 1000 B") {
		t.Errorf("a gzip file whose trailer says it unpacks past the bound: exit %d: %s", code, se)
	}
	if code, _, se := cli("ingest", "--db", dsn, "--day", "2024-01-02", "--max-body", "1000", z2); code != 1 || !strings.Contains(se, "larger than the limit of 1000 bytes (the batch is refused whole; send the records in smaller batches)") {
		t.Errorf("a gzip file unpacking past the bound as it is read: exit %d: %s", code, se)
	}
	if code, _, se := cli("ingest", "--db", dsn, "--day", "2024-01-02", "--max-body", "0", a, b, z); code != 0 {
		t.Errorf("no bound: exit %d: %s", code, se)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 101_000_000: "96.3 MiB", 1 << 30: "1.0 GiB", 1<<62 + 1<<61: "6.0 EiB"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
