package service_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// syncBuffer is a log's output, read when the scans are done.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// scanClock is the drop folder's clock in these tests: it moves a minute at each reading,
// so that each scan comes a minute after the last and a file seen unchanged by one scan
// is taken at the next (settled), no test sleeping for it.
var scanClock = struct {
	sync.Mutex
	t time.Time
}{t: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}

func aMinuteLater() time.Time {
	scanClock.Lock()
	defer scanClock.Unlock()
	scanClock.t = scanClock.t.Add(time.Minute)
	return scanClock.t
}

// dropFolder is the drop folder at dir, on the clock a minute later at each scan. A file
// is taken at the second scan that sees it (the first only notes it).
func dropFolder(dir string, s *service.Service) *service.DropFolder {
	return &service.DropFolder{Dir: dir, Service: s, Now: aMinuteLater}
}

// newLoggedCity is newCity with its log kept.
func newLoggedCity(t *testing.T) (*service.Service, *store.DB, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db")
	log := &syncBuffer{}
	s, err := service.Open(ctx, db, service.Options{Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	return s, db, log
}

// dropBatches are the batches the drop folder committed, newest first.
func dropBatches(t *testing.T, db *store.DB) []store.Batch {
	t.Helper()
	bs, err := db.Batches(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Batch
	for _, b := range bs {
		if b.Origin == "drop" {
			out = append(out, b)
		}
	}
	return out
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
}

func isRegular(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		t.Errorf("%s is not a regular file: %v %v", path, fi, err)
	}
}

func isSymlink(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is not the symlink left in place: %v %v", path, fi, err)
	}
}

// TestDropFolderOutDirLinkedToAnotherSource: a department that links its done/ (or
// failed/) to another source's folder does not get its file moved there, to be ingested as
// that source's batch (HRSS.COUNTER certifies people): its files wait, the error says why,
// nothing of it is committed, and the other sources' files are taken meanwhile.
func TestDropFolderOutDirLinkedToAnotherSource(t *testing.T) {
	for _, c := range []struct{ link, file, body string }{
		{"done", "a.csv", header +
			"h1,HRSS,HRSS.COUNTER,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n" +
			"t1,TRN,TRN.RAIL,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"},
		{"failed", "b.csv.gz", "\x1f\x8b\x08\x00broken"},
	} {
		t.Run(c.link, func(t *testing.T) {
			ctx := context.Background()
			s, db, _ := newLoggedCity(t)
			dir := t.TempDir()
			for _, src := range []string{"TRN", "HRSS", "HEA"} {
				os.MkdirAll(filepath.Join(dir, src), 0o755)
			}
			symlink(t, filepath.Join("..", "HRSS"), filepath.Join(dir, "TRN", c.link))
			os.WriteFile(filepath.Join(dir, "TRN", c.file), []byte(c.body), 0o644)
			os.WriteFile(filepath.Join(dir, "HEA", "c.csv"), []byte(header+
				"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
			// The first scan notes the files, the second takes HEA's; TRN's error is said at
			// each.
			for i := range 3 {
				n, err := dropFolder(dir, s).Scan(ctx)
				if n != b2i(i == 1) || err == nil || !strings.Contains(err.Error(), "TRN") || !strings.Contains(err.Error(), c.link+"/ is not a directory but a symlink") {
					t.Errorf("scan %d: %d files, %v", i+1, n, err)
				}
			}
			if fs, _ := os.ReadDir(filepath.Join(dir, "HRSS")); len(fs) != 0 {
				t.Errorf("the TRN file went into HRSS/: %v", fs)
			}
			isRegular(t, filepath.Join(dir, "TRN", c.file))
			isSymlink(t, filepath.Join(dir, "TRN", c.link))
			isRegular(t, filepath.Join(dir, "HEA", "done", "c.csv"))
			for _, b := range dropBatches(t, db) {
				if b.Source != "HEA" {
					t.Errorf("a batch of %s was committed: %+v", b.Source, b)
				}
			}
		})
	}
}

// TestDropFolderOutDirNotADirectory: a file where done/ should be stops its source, named,
// and is left alone.
func TestDropFolderOutDirNotADirectory(t *testing.T) {
	ctx := context.Background()
	s, db, _ := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	os.WriteFile(filepath.Join(dir, "HEA", "done"), []byte("not a folder"), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(header+
		"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	n, err := dropFolder(dir, s).Scan(ctx)
	if n != 0 || err == nil || !strings.Contains(err.Error(), "done/ is not a directory but a file") {
		t.Fatalf("scan: %d files, %v", n, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "HEA", "done")); string(b) != "not a folder" {
		t.Errorf("done was changed: %q", b)
	}
	isRegular(t, filepath.Join(dir, "HEA", "a.csv"))
	if bs := dropBatches(t, db); len(bs) != 0 {
		t.Errorf("%d batches committed", len(bs))
	}
}

// TestDropFolderReportNotWrittenThroughLinks: a symlink planted in done/ under a report's
// name, or under the moved file's, is replaced, never written through: the file it points
// at (the database, say) is left as it was. So is a report's symlink when the same file is
// dropped again (its batch's report is looked for, not read through the link).
func TestDropFolderReportNotWrittenThroughLinks(t *testing.T) {
	s, db, _ := newLoggedCity(t)
	dir, away := t.TempDir(), t.TempDir()
	victim, victim2 := filepath.Join(away, "city.db"), filepath.Join(away, "other")
	os.WriteFile(victim, []byte("precious"), 0o644)
	os.WriteFile(victim2, []byte("precious too"), 0o644)
	done := filepath.Join(dir, "HEA", "done")
	os.MkdirAll(done, 0o755)
	symlink(t, victim, filepath.Join(done, "a.csv.report.json"))
	symlink(t, victim2, filepath.Join(done, "a.csv"))
	body := header + "d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(body), 0o644)
	drop := dropFolder(dir, s)
	scanTwice(t, drop, 1)
	check := func(want string) {
		t.Helper()
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Errorf("the report was written through the link: the victim holds %q", b)
		}
		if b, _ := os.ReadFile(victim2); string(b) != "precious too" {
			t.Errorf("the file was moved through the link: the victim holds %q", b)
		}
		isRegular(t, filepath.Join(done, "a.csv.report.json"))
		isRegular(t, filepath.Join(done, "a.csv"))
		if rep, err := os.ReadFile(filepath.Join(done, "a.csv.report.json")); err != nil || !strings.Contains(string(rep), want) {
			t.Errorf("report %s %v, want %s", rep, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(done, "a.csv")); string(b) != body {
			t.Errorf("done/a.csv holds %q", b)
		}
		fs, _ := os.ReadDir(done)
		for _, f := range fs {
			if strings.HasPrefix(f.Name(), ".") {
				t.Errorf("left in done/: %s", f.Name())
			}
		}
	}
	check(`"applied": 1`)
	// The same file dropped again, its report's name linked to the victim again.
	os.Remove(filepath.Join(done, "a.csv.report.json"))
	symlink(t, victim, filepath.Join(done, "a.csv.report.json"))
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(body), 0o644)
	scanTwice(t, drop, 1)
	check(`"already_taken": true`)
	if bs := dropBatches(t, db); len(bs) != 1 {
		t.Errorf("%d batches", len(bs))
	}
}

// TestDropFolderSkipsLinks: a symlink in a source's folder is never taken, whatever it
// points at (a directory named to come first, a file outside the folder, nothing), and
// never stops the files after it: they are taken, the links left in place, and the log
// warns of each once, not at every scan (serve makes a DropFolder for each).
func TestDropFolderSkipsLinks(t *testing.T) {
	ctx := context.Background()
	s, db, log := newLoggedCity(t)
	dir, away := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	outside := filepath.Join(away, "secret.csv")
	os.WriteFile(outside, []byte(header+
		"s1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-01-01,2024-01-02,,\n"), 0o644)
	symlink(t, away, filepath.Join(dir, "HEA", "0dir"))
	symlink(t, outside, filepath.Join(dir, "HEA", "1outside.csv"))
	symlink(t, filepath.Join(dir, "gone.csv"), filepath.Join(dir, "HEA", "2gone.csv"))
	// A link named by a person's ID number: the log names it masked.
	symlink(t, outside, filepath.Join(dir, "HEA", "3李四_371002196710217787.csv"))
	// Glued to a letter, or a phone number: masked all the same.
	symlink(t, outside, filepath.Join(dir, "HEA", "4x371003194103201721.csv"))
	symlink(t, outside, filepath.Join(dir, "HEA", "5wang13812345678.csv"))
	os.WriteFile(filepath.Join(dir, "HEA", "a.csv"), []byte(header+
		"d1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	for i := range 3 {
		n, err := dropFolder(dir, s).Scan(ctx)
		if n != b2i(i == 1) || err != nil {
			t.Fatalf("scan %d: %d files, %v", i+1, n, err)
		}
	}
	isRegular(t, filepath.Join(dir, "HEA", "done", "a.csv"))
	for _, l := range []string{"0dir", "1outside.csv", "2gone.csv"} {
		isSymlink(t, filepath.Join(dir, "HEA", l))
		if c := strings.Count(log.String(), "file="+filepath.Join("HEA", l)); c != 1 {
			t.Errorf("%s warned of %d times:\n%s", l, c, log)
		}
	}
	if !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("no warning:\n%s", log)
	}
	if strings.Contains(log.String(), "371002196710217787") || !strings.Contains(log.String(), "3710**********7787") {
		t.Errorf("the ID number in a file's name is not masked in the log:\n%s", log)
	}
	if strings.Contains(log.String(), "371003194103201721") || !strings.Contains(log.String(), "4x3710**********1721.csv") ||
		strings.Contains(log.String(), "13812345678") || !strings.Contains(log.String(), "5wang138****5678.csv") {
		t.Errorf("an ID number glued to a letter, or a phone number, in a file's name is not masked in the log:\n%s", log)
	}
	if bs := dropBatches(t, db); len(bs) != 1 || !strings.Contains(bs[0].Files, "a.csv") {
		t.Errorf("batches %+v", bs)
	}
	// A link removed and put back is warned of again.
	os.Remove(filepath.Join(dir, "HEA", "2gone.csv"))
	dropFolder(dir, s).Scan(ctx)
	symlink(t, filepath.Join(dir, "gone.csv"), filepath.Join(dir, "HEA", "2gone.csv"))
	dropFolder(dir, s).Scan(ctx)
	if c := strings.Count(log.String(), "file="+filepath.Join("HEA", "2gone.csv")); c != 2 {
		t.Errorf("2gone.csv warned of %d times:\n%s", c, log)
	}
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanTwice scans twice, the first scan noting the files waiting (taking none of them),
// the second taking them: want files, without an error.
func scanTwice(t *testing.T, drop *service.DropFolder, want int) {
	t.Helper()
	ctx := context.Background()
	if n, err := drop.Scan(ctx); n != 0 || err != nil {
		t.Fatalf("first scan: %d files, %v (a file seen the first time was taken)", n, err)
	}
	if n, err := drop.Scan(ctx); n != want || err != nil {
		t.Fatalf("second scan: %d files, %v, want %d", n, err, want)
	}
}

// TestDropFolderReportPrivate: a drop folder's reports are their owner's only (0600), as
// backups and payroll files are: they name the file, which a department may name by a
// person's ID number, and quote its values.
func TestDropFolderReportPrivate(t *testing.T) {
	s := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	os.WriteFile(filepath.Join(dir, "HEA", "x371002194003150019.csv"), []byte(header+
		"p1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "bad.csv"), []byte("\xff\xfer\x00e\x00c\x00\n\x00"), 0o644) // UTF-16: refused
	scanTwice(t, dropFolder(dir, s), 2)
	for _, p := range []string{filepath.Join("done", "x371002194003150019.csv.report.json"), filepath.Join("failed", "bad.csv.report.json")} {
		b, err := os.ReadFile(filepath.Join(dir, "HEA", p))
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "HEA", p)); err != nil {
			t.Fatal(err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600:\n%s", p, fi.Mode().Perm(), b)
		}
	}
}

// TestDropFolderReportNameKept: a file a department drops under the name another file's
// report will take (d.csv.report.json) is kept as received: the later d.csv goes beside it
// under its batch's name, with its own report, instead of its report replacing the file.
func TestDropFolderReportNameKept(t *testing.T) {
	s := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	planted := []byte("record_id,source\nplanted,HEA\n")
	os.WriteFile(filepath.Join(dir, "HEA", "d.csv.report.json"), planted, 0o644)
	drop := dropFolder(dir, s)
	scanTwice(t, drop, 1)
	// Refused too (UTF-16), so that it goes where the planted file went.
	os.WriteFile(filepath.Join(dir, "HEA", "d.csv"), []byte("\xff\xfer\x00e\x00c\x00\n\x00"), 0o644)
	scanTwice(t, drop, 1)
	var kept []byte
	for _, sub := range []string{"done", "failed"} {
		if b, err := os.ReadFile(filepath.Join(dir, "HEA", sub, "d.csv.report.json")); err == nil && bytes.Equal(b, planted) {
			kept = b
		}
	}
	if kept == nil {
		t.Error("the file dropped under a report's name was replaced")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "HEA", "failed", "d.batch-*.csv")); len(m) != 1 {
		t.Errorf("d.csv not beside it under its batch's name: %v", m)
	}
}

// TestDropFolderBounded: a file past the drop folder's limit, or a small gzip file that
// unpacks past it (a bomb), is refused whole and moved to failed/ with its report, not
// read into memory (the drop folder had no bound, where the API has --max-body).
func TestDropFolderBounded(t *testing.T) {
	s := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	var big bytes.Buffer
	big.WriteString(header)
	for i := 0; big.Len() < 4096; i++ {
		fmt.Fprintf(&big, "b%d,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-01,2024-02-02,,\n", i)
	}
	os.WriteFile(filepath.Join(dir, "HEA", "a-big.csv"), big.Bytes(), 0o644)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(header))
	zw.Write(bytes.Repeat([]byte("x"), 1<<20))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "HEA", "b-bomb.csv.gz"), z.Bytes(), 0o644)
	drop := dropFolder(dir, s)
	drop.MaxBytes = 2048
	scanTwice(t, drop, 2)
	for _, f := range []string{"a-big.csv", "b-bomb.csv.gz"} {
		rep, err := os.ReadFile(filepath.Join(dir, "HEA", "failed", f+".report.json"))
		if err != nil || !bytes.Contains(rep, []byte(`"rejected"`)) {
			t.Errorf("%s: not refused into failed/: %v %s", f, err, rep)
		}
	}
	// Refused for the limit, not for what they hold: dropped again under a raised limit,
	// both are read (the refusal was kept under the file's key, and stuck).
	os.WriteFile(filepath.Join(dir, "HEA", "a-big.csv"), big.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "b-bomb.csv.gz"), z.Bytes(), 0o644)
	drop.MaxBytes = 4 << 20
	scanTwice(t, drop, 2)
	if _, err := os.Stat(filepath.Join(dir, "HEA", "done", "a-big.csv")); err != nil {
		t.Errorf("the file refused for its size is not read under a raised limit: %v", err)
	}
}

// TestDropFolderTakesTurns: a source with more files than a scan takes from one leaves
// the rest for the next scans, and another source's file goes in at the same scan.
func TestDropFolderTakesTurns(t *testing.T) {
	s := newCity(t, storetest.Open(t, "sqlite:"+t.TempDir()+"/t.db"))
	dir := t.TempDir()
	for _, src := range []string{"CIV", "HEA"} {
		os.MkdirAll(filepath.Join(dir, src), 0o755)
	}
	for i := range 130 {
		os.WriteFile(filepath.Join(dir, "CIV", fmt.Sprintf("f%03d.csv", i)), []byte(header), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "HEA", "h.csv"), []byte(header), 0o644)
	drop := dropFolder(dir, s)
	scanTwice(t, drop, 101)
	if _, err := os.Stat(filepath.Join(dir, "HEA", "done", "h.csv")); err != nil {
		t.Error("HEA's file waited for CIV's")
	}
	if n, err := drop.Scan(context.Background()); n != 30 || err != nil {
		t.Errorf("the next scan took %d, %v; want CIV's other 30", n, err)
	}
}

// TestDropFolderLogsEachFile: the drop folder logged nothing of the files it took or
// refused, and a refused file was counted nowhere in /metrics (13 files dropped, 10
// batches counted). Each file taken is logged at INFO with its source, its name masked
// (a department may name a file by a person's ID number), its batch and counts; each
// refused at WARN with the reason; and the refused batches are counted.
func TestDropFolderLogsEachFile(t *testing.T) {
	s, _, log := newLoggedCity(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
	os.WriteFile(filepath.Join(dir, "HEA", "a-371002194003150019.csv"), []byte(header+checkupRow(3)+"bad,HEA,HEA.CHECKUP\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "HEA", "b-371002194003150019.csv"), []byte("\xff\xfer\x00e\x00c\x00\n\x00"), 0o644) // UTF-16: refused whole
	applied, refused := s.Metrics().Batches.Load(), s.Metrics().BatchesRefused.Load()
	scanTwice(t, dropFolder(dir, s), 2)
	out := log.String()
	if strings.Contains(out, "371002194003150019") {
		t.Errorf("the log shows an ID number:\n%s", out)
	}
	var taken, refusedLine string
	for line := range strings.Lines(out) {
		switch {
		case strings.Contains(line, "drop folder: file taken"):
			taken = line
		case strings.Contains(line, "drop folder: file refused"):
			refusedLine = line
		}
	}
	for _, want := range []string{"level=INFO", "source=HEA", "file=HEA/a-", "batch_id=", "read=2", "applied=1", "quarantined=1", "held=0"} {
		if !strings.Contains(taken, want) {
			t.Errorf("the file taken: no %q in its log line %q\n%s", want, taken, out)
		}
	}
	for _, want := range []string{"level=WARN", "source=HEA", "file=HEA/b-", "batch_id=", "reason=", "UTF-16"} {
		if !strings.Contains(refusedLine, want) {
			t.Errorf("the file refused: no %q in its log line %q\n%s", want, refusedLine, out)
		}
	}
	if n := s.Metrics().Batches.Load() - applied; n != 1 {
		t.Errorf("%d batches applied counted, want 1", n)
	}
	if n := s.Metrics().BatchesRefused.Load() - refused; n != 1 {
		t.Errorf("%d batches refused counted, want 1", n)
	}
}

// TestDropFolderEncoding: a department's GBK export whose first 64 KiB are ASCII rows is
// read as UTF-8 (spec §1), its later rows with a Chinese name quarantined; serve's
// --drop-encoding names the source's encoding and they apply.
func TestDropFolderEncoding(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; b.Len() < 70<<10; i++ {
		fmt.Fprintf(&b, "a%05d,HEA,HEA.CHECKUP,371002194003150019,,1940-03-15,2024-02-01,2024-02-02,,\n", i)
	}
	head := b.String()
	tail, err := simplifiedchinese.GBK.NewEncoder().String(checkupRow(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		enc         map[string]string
		quarantined string
	}{{nil, "quarantined=1"}, {map[string]string{"HEA": "gbk"}, "quarantined=0"}} {
		s, _, log := newLoggedCity(t)
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "HEA"), 0o755)
		os.WriteFile(filepath.Join(dir, "HEA", "late-gbk.csv"), []byte(head+tail), 0o644)
		drop := dropFolder(dir, s)
		drop.Encodings = c.enc
		scanTwice(t, drop, 1)
		if out := log.String(); !strings.Contains(out, c.quarantined) {
			t.Errorf("encodings %v: the file's log line says no %s:\n%s", c.enc, c.quarantined, out)
		}
		if c.enc != nil {
			continue
		}
		// The operator names the source's encoding and drops the same file again under
		// its name: it is read again, not found "taken before", and its rows apply.
		os.WriteFile(filepath.Join(dir, "HEA", "late-gbk.csv"), []byte(head+tail), 0o644)
		drop.Encodings = map[string]string{"HEA": "gbk"}
		n := len(log.String())
		scanTwice(t, drop, 1)
		if out := log.String()[n:]; !strings.Contains(out, "drop folder: file taken") || !strings.Contains(out, "applied=1") {
			t.Errorf("the same file dropped again under --drop-encoding: not read again, or its GBK row not applied:\n%s", out)
		}
	}
}
