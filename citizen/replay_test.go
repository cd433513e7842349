package citizen

import (
	"bytes"
	"context"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/silentcert/silentcert/store/storetest"
)

// reencode is a frame saved again by a photo editor: decoded and encoded at quality 75.
// Other bytes, the same picture.
func reencode(t testing.TB, b []byte) []byte {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReplayGoesToReview: the frames of an accepted attempt sent again with a fresh nonce
// (once accepted again, at a distance of 0.0000 to the selfie the first accept stored) go
// to staff as a replay, audited; so do the same frames re-encoded (other bytes, the same
// face within ReplayDistance of the accepted burst). Neither certifies anyone.
func TestReplayGoesToReview(t *testing.T) {
	m := testModels(t)
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			_, photo := demo(t, "sample2.jpg")
			if err := importPhoto(ctx, c.db, zhang, photo, c.clock.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			cl := c.browser(t)
			c.loginByLink(t, cl, zhang, false)
			burst := blinkBurst(t, m)
			nonce, csrf := c.capture(t, cl)
			if st, a := c.upload(t, cl, nonce, csrf, burst); st != 200 || a.Outcome != "accept" {
				t.Fatalf("the live burst: %d %+v", st, a)
			}
			review := func(name string, frames [][]byte, detail string) {
				t.Helper()
				c.clock.Add(10 * time.Minute)
				before := len(faceRecords(t, c.db))
				nonce, _ := c.capture(t, cl)
				st, a := c.upload(t, cl, nonce, csrf, frames)
				if st != 200 || a.Outcome != "review" || a.Reason != "" { // the answer names no check (the queue does)
					t.Fatalf("%s: %d %+v", name, st, a)
				}
				if n := len(faceRecords(t, c.db)); n != before {
					t.Fatalf("%s: %d HRSS.FACE records, want %d: the replay certified the person", name, n, before)
				}
				var got string
				if err := c.db.SQL().QueryRow(`SELECT detail FROM audit WHERE kind = 'citizen_face' AND action = 'replay' ORDER BY seq DESC LIMIT 1`).Scan(&got); err != nil ||
					!strings.Contains(got, detail) {
					t.Fatalf("%s: the replay's audit row %q (%v), want %q in it", name, got, err, detail)
				}
				t.Logf("%s: %s", name, got)
				pg, err := Reviews(ctx, c.db, ReviewQuery{})
				if err != nil || len(pg.Reviews) != 1 || pg.Reviews[0].Reason != reasonReplay {
					t.Fatalf("%s: the queue %+v %v", name, pg.Reviews, err)
				}
				// Staff settle it (here: accept), so that the next attempt finds no review open.
				if err := Decide(ctx, c.db, c.svc, pg.Reviews[0].ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			review("the same frames, a fresh nonce", burst, "frames_seen=5")
			var again [][]byte
			for _, f := range burst {
				again = append(again, reencode(t, f))
			}
			review("the same frames re-encoded", again, "accepted_distance=0.0")
		})
	}
}
