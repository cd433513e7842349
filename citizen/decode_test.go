package citizen

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// withOrientation inserts after the SOI marker an EXIF segment (big-endian TIFF) whose
// only tag is Orientation o, as a phone's camera writes it.
func withOrientation(j []byte, o uint16) []byte {
	tiff := []byte{'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o >> 8), byte(o), 0, 0, 0, 0, 0, 0}
	body := append([]byte("Exif\x00\x00"), tiff...)
	seg := append([]byte{0xFF, 0xE1, byte((len(body) + 2) >> 8), byte(len(body) + 2)}, body...)
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// stored is upright (w×h) as a camera stores it with EXIF Orientation o: the pixel a
// viewer shows at (x, y) stored where upright's table (checks.go) reads it.
func stored(up image.Image, o int) image.Image {
	b := up.Bounds()
	w, h := b.Dx(), b.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := range h {
		for x := range w {
			sx, sy := x, y
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, w-1-x
			case 7:
				sx, sy = h-1-y, w-1-x
			case 8:
				sx, sy = h-1-y, x
			}
			out.Set(sx, sy, up.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeOrientation: a picture stored in each of EXIF's eight orientations (the
// transforms written out here independently: 6 is "turn 90° clockwise to view") is read
// upright, as the phone's gallery shows it; a picture whose EXIF cannot be read, upright.
func TestDecodeOrientation(t *testing.T) {
	// 96×64, four quadrants of four colours: any turn or flip moves them.
	up := image.NewRGBA(image.Rect(0, 0, 96, 64))
	quad := []color.RGBA{{220, 30, 30, 255}, {30, 220, 30, 255}, {30, 30, 220, 255}, {230, 230, 30, 255}}
	for y := range 64 {
		for x := range 96 {
			up.Set(x, y, quad[2*(y/32)+x/48])
		}
	}
	// The six-o'clock check of orientation 6, by hand: the upright top-left corner is
	// stored at the bottom-left.
	if c := stored(up, 6).At(0, 95).(color.RGBA); c != quad[0] {
		t.Fatalf("the test's own orientation 6 is wrong: %v", c)
	}
	pol := DefaultPolicy()
	for o := 1; o <= 8; o++ {
		b := withOrientation(encodeJPEG(t, stored(up, o), 95), uint16(o))
		if got := orientation(b); got != o {
			t.Fatalf("orientation %d read as %d", o, got)
		}
		m, err := decodeFrame(b, pol)
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		if m.W != 96 || m.H != 64 {
			t.Fatalf("orientation %d: %d×%d, want 96×64", o, m.W, m.H)
		}
		for q, at := range []image.Point{{24, 16}, {72, 16}, {24, 48}, {72, 48}} {
			p := m.Pix[3*(at.Y*m.W+at.X):]
			if d := abs(p[0]-float32(quad[q].R)) + abs(p[1]-float32(quad[q].G)) + abs(p[2]-float32(quad[q].B)); d > 30 {
				t.Errorf("orientation %d: quadrant %d is %v, want %v", o, q, p[:3], quad[q])
			}
		}
	}
	plain := encodeJPEG(t, up, 90)
	for _, b := range [][]byte{plain, withOrientation(plain, 9), withOrientation(plain, 0)} {
		if o := orientation(b); o != 1 {
			t.Errorf("orientation %d where there is none to read", o)
		}
	}
	cut := withOrientation(plain, 6)
	cut[4] = 0xFF // the EXIF segment's length now runs past the file's end
	if o := orientation(cut); o != 1 {
		t.Errorf("orientation %d from a broken segment", o)
	}
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// TestDecodeLargeFrame: a 13 MP photo (4160×3120, more than the 4096 px a side once
// refused as "照片无法读取") is read and scaled to 1024 wide, with the same numbers as
// converting it whole and then scaling; a header claiming more than MaxFramePixels is
// refused before anything is decoded.
func TestDecodeLargeFrame(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4160, 3120))
	r := rand.New(rand.NewSource(1))
	for i := range img.Pix {
		img.Pix[i] = uint8(128 + r.Intn(32) + (i/4%4160)/64)
	}
	b := encodeJPEG(t, img, 85)
	pol := DefaultPolicy()
	m, err := decodeFrame(b, pol)
	if err != nil || m.W != 1024 || m.H != 768 {
		t.Fatalf("13 MP: %v", err)
	}
	pol.MaxFramePixels = 4160*3120 - 1
	if _, err := decodeFrame(b, pol); err == nil {
		t.Fatal("a frame over MaxFramePixels was decoded")
	}
}

// TestPhonePhotos: what a phone's own camera app saves, through the file input: a
// portrait stored sideways with EXIF Orientation 6 (once "没有看到人脸") has its face found;
// a 13 MP photo is judged (once "照片无法读取"); a file over MaxFrameBytes is answered in
// words of its own, as a try again, and spends neither the nonce nor one of the day's
// attempts.
func TestPhonePhotos(t *testing.T) {
	m := testModels(t)
	pol := DefaultPolicy()
	src := selfie(t)
	sb := src.Bounds()
	sideways := stored(src, 6)
	if f := analyse(m, withOrientation(encodeJPEG(t, sideways, 90), 6), pol); f.reason != "" {
		t.Fatalf("a portrait stored sideways with EXIF orientation 6: %q", f.reason)
	}

	c := newCity(t, storetest.DSNs(t)[0].Open(t), m)
	cl := c.browser(t)
	c.loginByLink(t, cl, zhang, false)
	// The selfie scaled to the photo's height, in the middle of a grey 4160×3120.
	big := image.NewRGBA(image.Rect(0, 0, 4160, 3120))
	w := sb.Dx() * 3120 / sb.Dy()
	for y := range 3120 {
		for x := range 4160 {
			if sx := (x - (4160-w)/2) * sb.Dy() / 3120; sx >= 0 && sx < sb.Dx() {
				big.Set(x, y, src.At(sb.Min.X+sx, sb.Min.Y+y*sb.Dy()/3120))
			} else {
				big.Set(x, y, color.Gray{Y: 120})
			}
		}
	}
	nonce, csrf := c.capture(t, cl)
	st, page := c.send(t, cl, nonce, csrf, [][]byte{encodeJPEG(t, big, 85)}, false)
	if st != 200 || strings.Contains(page, msg(langZH, "why_bad_image")) || !strings.Contains(page, `data-outcome="review"`) {
		t.Fatalf("a 13 MP photo: %d\n%s", st, page)
	}
	// Staff accept it (checked by a video call), which opens the capture page again.
	if pg, err := Reviews(context.Background(), c.db, ReviewQuery{}); err != nil || len(pg.Reviews) != 1 {
		t.Fatalf("the queue: %+v %v", pg.Reviews, err)
	} else if err := Decide(context.Background(), c.db, c.svc, pg.Reviews[0].ID, "reviewer", ReviewDecision{Accept: true, Check: "video"}, c.clock.Now()); err != nil {
		t.Fatal(err)
	}

	nonce, csrf = c.capture(t, cl)
	var attempts int
	count := func() int {
		c.db.SQL().QueryRow(c.db.Rebind(`SELECT count FROM citizen_throttle WHERE key = ?`), fmt.Sprintf("attempt:%d", c.pid(t, zhang))).Scan(&attempts)
		return attempts
	}
	before := count()
	st, page = c.send(t, cl, nonce, csrf, [][]byte{make([]byte, pol.MaxFrameBytes+1)}, false)
	if st != http.StatusRequestEntityTooLarge || !strings.Contains(page, msg(langZH, "why_too_large")) || !strings.Contains(page, `href="/c/capture"`) {
		t.Fatalf("a file too large: %d\n%s", st, page)
	}
	if count() != before {
		t.Fatalf("a file too large spent one of the day's attempts (%d, was %d)", attempts, before)
	}
	// The nonce is still good: the same page can send again.
	if st, a := c.upload(t, cl, nonce, csrf, [][]byte{[]byte("x")}); st != 200 || a.Outcome != "retry" || a.Reason != reasonBadImage {
		t.Fatalf("after a file too large, the page's nonce: %d %+v", st, a)
	}
}

// TestFromCamera: only a burst the capture script marks as its camera's, with no frame
// that carries EXIF (which a camera app writes and the page's canvas does not), can be
// accepted on the spot.
func TestFromCamera(t *testing.T) {
	plain := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 64, 64)), 90)
	for _, k := range []struct {
		source string
		frames [][]byte
		want   bool
	}{
		{"camera", [][]byte{plain, plain}, true},
		{"", [][]byte{plain, plain}, false},
		{"file", [][]byte{plain, plain}, false},
		{"camera", [][]byte{plain, withOrientation(plain, 1)}, false},
	} {
		if got := fromCamera(k.source, k.frames); got != k.want {
			t.Errorf("source %q: %v, want %v", k.source, got, k.want)
		}
	}
}
