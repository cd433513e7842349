package service_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// filesBatch is one batch of the named files, as the command line gives them.
func filesBatch(files ...string) service.Batch {
	b := service.Batch{Origin: "file", Actor: "test", Day: sc.MustDate("2024-03-01")}
	for i := 0; i < len(files); i += 2 {
		b.Files = append(b.Files, service.File{Name: files[i], Body: strings.NewReader(files[i+1])})
	}
	return b
}

// TestIngestFilesAreOneBatch: the files of one ingestion are one batch, applied in spec
// §7's order across them, which a department's delivery of several files needs: a
// release (RESTORE) in a file read before the sentence (LOSS) it ends still ends it. Were
// the files separate batches, the release would come first, find no LOSS open and change
// nothing (spec §6), and the person would stay in LOSS, unpaid, for good: sent again, the
// release is a duplicate. This is why one refused file refuses the whole batch rather
// than letting the others in without it.
func TestIngestFilesAreOneBatch(t *testing.T) {
	const release = header + "out1,JUS,JUS.PRISON_OUT,371002194003150019,张三,1940-03-15,2024-02-20,2024-02-21,,\n"
	const sentence = header + "in1,JUS,JUS.PRISON_IN,371002194003150019,张三,1940-03-15,2024-02-05,2024-02-06,,\n"
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			res, err := s.Ingest(ctx, filesBatch("a-release.csv", release, "b-sentence.csv", sentence))
			if err != nil || res.Rejected != "" || res.Report.Applied != 2 {
				t.Fatalf("%+v %v", res, err)
			}
			if p, _ := s.DB().PersonByID(ctx, "371002194003150019"); p.Status == sc.StatusLoss {
				t.Errorf("one batch of two files: the release read first does not end the sentence: %s", p.Status)
			}
			// The same files as two batches, for the contrast the comment above draws.
			s = newCity(t, dsn.Open(t))
			for _, f := range [][2]string{{"a-release.csv", release}, {"b-sentence.csv", sentence}} {
				if _, err := s.Ingest(ctx, filesBatch(f[0], f[1])); err != nil {
					t.Fatal(err)
				}
			}
			if p, _ := s.DB().PersonByID(ctx, "371002194003150019"); p.Status != sc.StatusLoss {
				t.Logf("as separate batches the release no longer falls before its sentence (%s): the engine now keeps an early RESTORE, and the files could be batches of their own", p.Status)
			}
		})
	}
}

// TestIngestNamesEveryRefusedFile: a batch of several files, three of them refused whole
// (lines ended by CR alone, UTF-16, a truncated gzip), is refused naming each of the three
// with its line, each name once, and nothing of the good file is applied; the refusal is
// stored. Before, only the first refused file was named (the operator fixed it, ran the
// command again and learnt of the next), and a truncated gzip's name came twice.
func TestIngestNamesEveryRefusedFile(t *testing.T) {
	good := header + "g1,HEA,HEA.CHECKUP,371002194003150019,张三,1940-03-15,2024-02-10,2024-02-11,,\n"
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			s := newCity(t, dsn.Open(t))
			before, _ := s.DB().PersonByID(ctx, "371002194003150019")
			res, err := s.Ingest(ctx, filesBatch(
				"a-good.csv", good,
				"b-cr.csv", strings.ReplaceAll(good, "\n", "\r"),
				"c-utf16.csv", "\xff\xfer\x00e\x00c\x00\n\x00",
				"d-good.csv", good,
				"e-cut.csv.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffabc"))
			if err != nil {
				t.Fatal(err)
			}
			// Each refused file named once, with its line where there is one, in file order.
			want := []string{"b-cr.csv: line 1: ", "c-utf16.csv: line 1: ", "e-cut.csv.gz: truncated"}
			at := 0
			for _, w := range want {
				name := w[:strings.Index(w, ": ")]
				i := strings.Index(res.Rejected, w)
				if i < at || strings.Count(res.Rejected, name) != 1 {
					t.Errorf("the refusal does not name %s once, as %q, after the files before it: %s", name, w, res.Rejected)
				}
				at = max(at, i)
			}
			if strings.Contains(res.Rejected, "good") {
				t.Errorf("the refusal names a good file: %s", res.Rejected)
			}
			if res.Report.Applied != 0 {
				t.Errorf("a refused batch reports rows applied: %+v", res.Report)
			}
			b, err := s.DB().Batch(ctx, res.BatchID)
			if err != nil || b.Status != "rejected" {
				t.Fatalf("stored %+v %v", b, err)
			}
			for _, w := range want {
				if name := w[:strings.Index(w, ": ")]; !strings.Contains(b.Report, name) {
					t.Errorf("the stored refusal does not name %s: %s", name, b.Report)
				}
			}
			if after, _ := s.DB().PersonByID(ctx, "371002194003150019"); after.Until != before.Until {
				t.Errorf("the good files' checkup was applied: until %s, was %s", after.Until, before.Until)
			}
			// A gzip cut after its first rows, alone: its name once, not "f.csv.gz: f.csv.gz: …".
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write([]byte(good + strings.Repeat(good[len(header):], 200)))
			zw.Close()
			res, err = s.Ingest(ctx, filesBatch("f.csv.gz", z.String()[:z.Len()-8]))
			if err != nil || !strings.HasPrefix(res.Rejected, "f.csv.gz: truncated") || strings.Count(res.Rejected, "f.csv.gz") != 1 {
				t.Errorf("a gzip cut short: %q %v", res.Rejected, err)
			}
		})
	}
}
