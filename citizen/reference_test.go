package citizen

import (
	"context"
	"image"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/store/storetest"
)

// otherFace is the descriptor of one face of sample3: someone else than sample2's 张三.
func otherFace(t testing.TB, m *face.Models) face.Descriptor {
	t.Helper()
	img, _ := demo(t, "sample3.jpg")
	dets, err := m.Detect(face.FromImage(img))
	if err != nil || len(dets) == 0 {
		t.Fatalf("sample3: %d faces, %v", len(dets), err)
	}
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	for _, d := range dets {
		r := d.Box
		mx, my := r.W*0.6, r.H*0.6
		crop := sub.SubImage(image.Rect(int(r.X-mx), int(r.Y-my), int(r.X+r.W+mx), int(r.Y+r.H+my)))
		if f, err := m.Analyse(face.FromImage(crop)); err == nil && f.Faces == 1 && f.Aligned.W > 200 {
			return f.Descriptor
		}
	}
	t.Fatal("no usable single face in sample3")
	return face.Descriptor{}
}

// liveFrames is a burst of five good frames of the face d whose eyes move (the eye
// patches of TestJudge's moving bursts), for judging a face without a camera.
func liveFrames(d face.Descriptor) []*frame {
	var fs []*frame
	for i := range 5 {
		g := d
		g[0] += float32(0.01 * float64(i))
		f := &frame{face: &face.Face{Descriptor: g}, blur: 100}
		for e := range 2 {
			for k := range f.patch[e] {
				f.patch[e][k] = float64((k*(i+3) + i*i) % 11)
			}
		}
		fs = append(fs, f)
	}
	return fs
}

// TestReferenceDrift: the review's case. 张三 has no ID-card photo; someone else's face
// goes to review. The reviewer, with no photo to compare, cannot accept it with a click
// alone: the accept needs the other check they made, audited; and it does not make that
// face his reference. The agency then imports his ID-card photo: it clears his selfie
// reference (one an accept stored before this fix), and decides alone from then on: the
// other face is rejected however close it is to a selfie. With photos kept, a review shows
// the ID photo and takes an accept without more.
func TestReferenceDrift(t *testing.T) {
	m := testModels(t)
	other := otherFace(t, m)
	_, photo := demo(t, "sample2.jpg")
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			c := newCity(t, dsn.Open(t), m)
			zp, _ := personBy(dbq{ctx, c.db}, "person_id", zhang)
			if refs, _ := refsOf(ctx, c.db, zp.PID); len(refs) != 0 {
				t.Fatalf("张三 has references %v", refs)
			}
			v := judge(liveFrames(other), nil, c.h.pol, true)
			if v.Outcome != "review" || v.Reason != reasonNoRef {
				t.Fatalf("another face with no reference: %s %s", v.Outcome, v.Reason)
			}
			v.best = &frame{jpeg: []byte{0xff, 0xd8, 0xff, 0xe0}}
			if _, err := c.h.settle(ctx, zp, false, "citizen", v); err != nil {
				t.Fatal(err)
			}
			pg, _ := Reviews(ctx, c.db, ReviewQuery{})
			if len(pg.Reviews) != 1 || pg.Reviews[0].IDCard || len(pg.Reviews[0].IDPhoto) != 0 {
				t.Fatalf("the queue: %+v", pg.Reviews)
			}
			id := pg.Reviews[0].ID
			for _, d := range []ReviewDecision{{Accept: true}, {Accept: true, Check: "looked"}} {
				if err := Decide(ctx, c.db, c.svc, id, "reviewer", d, c.clock.Now()); sc.ErrorCode(err) != sc.EInvalid {
					t.Fatalf("accept %+v with no photo to compare: %v", d, err)
				}
			}
			if st := c.reviewStatus(t, id); st != "open" || c.faces(t, zp.PID) != 0 {
				t.Fatalf("a refused accept left the review %q", st)
			}
			if err := Decide(ctx, c.db, c.svc, id, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if c.faces(t, zp.PID) != 1 || c.hasSelfieRef(t, zp.PID) {
				t.Fatalf("the staff accept: %d records, selfie reference %v (want 1, none)", c.faces(t, zp.PID), c.hasSelfieRef(t, zp.PID))
			}
			if n := c.countAudit(t, zp.PID, "citizen_review", "review_check", "check=video;photo=0"); n != 1 {
				t.Fatalf("%d review_check rows", n)
			}

			// What an accept stored before: that face as 张三's selfie.
			legacy := func() {
				tx, err := c.db.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if err := putRef(tx, zp.PID, RefSelfie, other, c.clock.Now(), nil, 0); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			legacy()
			if err := importPhoto(ctx, c.db, zhang, photo, c.clock.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			if c.hasSelfieRef(t, zp.PID) || c.countAudit(t, zp.PID, "citizen_reference", "import_idcard_photo", "selfie_cleared=1") != 1 {
				t.Fatal("the ID-card photo's import left the selfie reference, or did not say it cleared it")
			}
			legacy()
			all, _ := allRefs(ctx, c.db, zp.PID)
			if v := judge(liveFrames(other), all, c.h.pol, true); len(all) != 2 || v.Outcome != "accept" {
				t.Fatalf("the test's selfie would not accept the other face by itself: %d references, %s", len(all), v.Outcome)
			}
			refs, err := refsOf(ctx, c.db, zp.PID)
			if err != nil || len(refs) != 1 || refs[0].kind != RefIDCard {
				t.Fatalf("judged by %v %v, want the ID card alone", refs, err)
			}
			if v := judge(liveFrames(other), refs, c.h.pol, true); v.Outcome != "reject" || v.Reason != reasonMismatch || v.RefKind != RefIDCard {
				t.Fatalf("the other face against 张三's ID card: %s %s (distance %.3f to %s)", v.Outcome, v.Reason, v.Distance, v.RefKind)
			}

			// Photos kept: 李秀英's review shows her ID photo, and an accept needs nothing more.
			SetFaceModels(m, time.Hour)
			t.Cleanup(func() { SetFaceModels(m, 0) })
			if err := importPhoto(ctx, c.db, li, photo, c.clock.Now(), "test"); err != nil {
				t.Fatal(err)
			}
			q, _ := personBy(dbq{ctx, c.db}, "person_id", li)
			if _, err := c.h.settle(ctx, q, false, "citizen", verdict{Outcome: "review", Reason: reasonBorderline, Distance: 0.55}); err != nil {
				t.Fatal(err)
			}
			pg, _ = Reviews(ctx, c.db, ReviewQuery{})
			if len(pg.Reviews) != 1 || !pg.Reviews[0].IDCard || len(pg.Reviews[0].IDPhoto) == 0 {
				t.Fatalf("the queue with photos kept: %+v", pg.Reviews)
			}
			if err := Decide(ctx, c.db, c.svc, pg.Reviews[0].ID, "reviewer", ReviewDecision{Accept: true}, c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if c.faces(t, q.PID) != 1 || len(c.audited(t, q.PID, "citizen_review", "review_check")) != 0 {
				t.Fatal("the accept with the ID photo on the page")
			}
			if _, err := c.db.VerifyAudit(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}
