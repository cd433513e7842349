package citizen

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// The golden scenario's 张三: phone 13800000001, agent 13900000001.
const (
	zhang      = "371002194003150019"
	zhangPhone = "13800000001"
	zhangAgent = "13900000001"
	li         = "371002193802100021"
	// unknownID is a valid ID number that is not on the roster.
	unknownID = "11010519491231002X"
)

// pkgDir is where face/fetch.sh puts the npm package (its model/ and demo/ photos).
var pkgDir = filepath.Join("..", "face", "testdata", "npm", "package")

var (
	modelsOnce sync.Once
	modelsVal  *face.Models
	modelsErr  error
)

// testModels loads the face models once; without the package the test skips, except under
// CI=true where it fails.
func testModels(t testing.TB) *face.Models {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pkgDir, "model")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the face-api package is missing (%v): run face/fetch.sh", err)
		}
		t.Skipf("the face-api package is missing (%v): run face/fetch.sh", err)
	}
	modelsOnce.Do(func() { modelsVal, modelsErr = face.Load(filepath.Join(pkgDir, "model")) })
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return modelsVal
}

// demo reads a demo photo of the package.
func demo(t testing.TB, name string) (image.Image, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkgDir, "demo", name))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img, b
}

// warp renders src into a 640-wide frame through an affine map (scale, shear, shift; in
// output pixels) and encodes it as a JPEG: a phone frame of the same face, the face's
// shape changed a little by shear (what a head and eyes moving do to landmarks) or not at
// all (a photo held still).
func warp(t testing.TB, src image.Image, shear, dx, dy float64, quality int) []byte {
	t.Helper()
	b := src.Bounds()
	const w = 640
	h := b.Dy() * w / b.Dx()
	s := float64(b.Dx()) / w
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx := (float64(x)+shear*(float64(y)-float64(h)/2)+dx)*s + float64(b.Min.X)
			fy := (float64(y)+dy)*s + float64(b.Min.Y)
			ix, iy := int(math.Floor(fx)), int(math.Floor(fy))
			if ix < b.Min.X || iy < b.Min.Y || ix >= b.Max.X || iy >= b.Max.Y {
				out.Set(x, y, color.RGBA{0, 0, 0, 255})
				continue
			}
			out.Set(x, y, src.At(ix, iy))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// selfie is the one face of sample2 cut out as a phone's front camera would frame it.
func selfie(t testing.TB) image.Image {
	img, _ := demo(t, "sample2.jpg")
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(1140, 40, 1920, 900))
}

// tiltBurst is five frames of sample2 (one face) sheared a little more each time: a photo
// tilted before the camera, the whole face changing shape together and the eyes not moving.
func tiltBurst(t testing.TB) [][]byte {
	img := selfie(t)
	var out [][]byte
	for _, sh := range []float64{0, 0.02, -0.02, 0.04, -0.04} {
		out = append(out, warp(t, img, sh, 0, 0, 90))
	}
	return out
}

// frozenBurst is five frames of the same still picture, shifted and recompressed only.
func frozenBurst(t testing.TB) [][]byte {
	img := selfie(t)
	var out [][]byte
	for i := range 5 {
		out = append(out, warp(t, img, 0, float64(2*i), float64(i), 80+3*i))
	}
	return out
}

// fakeSMS records the codes sent.
type fakeSMS struct {
	mu   sync.Mutex
	sent []sms
	ch   chan sms
}

type sms struct{ phone, text string }

func newFakeSMS() *fakeSMS { return &fakeSMS{ch: make(chan sms, 100)} }

func (f *fakeSMS) SendSMS(_ context.Context, phone, text string) error {
	f.mu.Lock()
	f.sent = append(f.sent, sms{phone, text})
	f.mu.Unlock()
	f.ch <- sms{phone, text}
	return nil
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// city is the golden scenario's roster in a real service, days run to 2024-05-10, and the
// citizen site over it.
type city struct {
	db    *store.DB
	svc   *service.Service
	h     *handler
	srv   *httptest.Server
	sms   *fakeSMS
	clock *clock
}

var today = sc.MustDate("2024-05-10")

func newCity(t testing.TB, db *store.DB, m *face.Models) *city {
	t.Helper()
	c := &clock{t: time.Date(2024, 5, 10, 9, 0, 0, 0, time.UTC)}
	s := scenarioService(t, db, service.Options{Now: c.Now})
	f := newFakeSMS()
	hh, err := New(Options{DB: db, Service: s, Sender: f, Now: c.Now, Face: m,
		Log: slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hh)
	t.Cleanup(srv.Close)
	return &city{db: db, svc: s, h: hh.(*handler), srv: srv, sms: f, clock: c}
}

// scenarioService opens a service on db with opt, imports the golden scenario's roster and
// runs its days from 2024-03-01 to today.
func scenarioService(t testing.TB, db *store.DB, opt service.Options) *service.Service {
	t.Helper()
	ctx := context.Background()
	s, err := service.Open(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportRoster(ctx, "../backtest/testdata/scenario/roster.csv", "", "test"); err != nil {
		t.Fatal(err)
	}
	for d := sc.MustDate("2024-03-01"); d <= today; d++ {
		if err := s.RunDay(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// logWriter shows the handler's errors in the test's log.
type logWriter struct{ t testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// browser is one phone: a cookie jar, redirects not followed.
func (c *city) browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// blinkBurst is five frames of the selfie in which the eyes close and open a little (the
// eye regions squashed vertically by factors): what a living person's eyes do in 2–3 s.
func blinkBurst(t testing.TB, m *face.Models) [][]byte {
	t.Helper()
	base := warp(t, selfie(t), 0, 0, 0, 95)
	img, err := jpeg.Decode(bytes.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Analyse(face.FromImage(img))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, k := range []float64{1, 0.6, 0.9, 0.45, 0.75} {
		dst := image.NewRGBA(img.Bounds())
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				sx, sy := float64(x), float64(y)
				for e := 0; e < 2; e++ {
					var cx, cy, x0, x1 float64
					x0, x1 = math.Inf(1), math.Inf(-1)
					for i := 36 + 6*e; i < 42+6*e; i++ {
						cx += f.Landmarks[i].X / 6
						cy += f.Landmarks[i].Y / 6
						x0, x1 = math.Min(x0, f.Landmarks[i].X), math.Max(x1, f.Landmarks[i].X)
					}
					w := x1 - x0
					hw, hh := w*0.8, w*0.5
					if math.Abs(float64(x)-cx) < hw && math.Abs(float64(y)-cy) < hh {
						// Squash towards the eye's line, fading out at the box's edge.
						fade := 1 - math.Abs(float64(x)-cx)/hw
						kk := 1 - (1-k)*fade
						sy = cy + (float64(y)-cy)/kk
					}
				}
				dst.Set(x, y, img.At(int(sx), int(math.Min(sy, float64(img.Bounds().Max.Y-1)))))
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// turn renders src rotated by deg degrees about its centre (a photo tilted in the hand
// before the camera, or turned in a photo editor), 640 wide, as a JPEG of quality q.
func turn(t testing.TB, src image.Image, deg float64, quality int) []byte {
	t.Helper()
	b := src.Bounds()
	const w = 640
	h := b.Dy() * w / b.Dx()
	s := float64(b.Dx()) / w
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	c, sn := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	for y := range h {
		for x := range w {
			xx, yy := float64(x)-float64(w)/2, float64(y)-float64(h)/2
			fx := (c*xx+sn*yy+float64(w)/2)*s + float64(b.Min.X)
			fy := (-sn*xx+c*yy+float64(h)/2)*s + float64(b.Min.Y)
			ix, iy := int(math.Floor(fx)), int(math.Floor(fy))
			if ix < b.Min.X || iy < b.Min.Y || ix >= b.Max.X || iy >= b.Max.Y {
				out.Set(x, y, color.RGBA{0, 0, 0, 255})
				continue
			}
			out.Set(x, y, src.At(ix, iy))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mirrored is src flipped left to right (one tap in any photo editor).
func mirrored(src image.Image) image.Image {
	b := src.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, src.At(b.Max.X-1-x, b.Min.Y+y))
		}
	}
	return out
}

// turnBurst is five frames of one photo turned by the given angles in degrees.
func turnBurst(t testing.TB, degs ...float64) [][]byte {
	img := selfie(t)
	var out [][]byte
	for _, d := range degs {
		out = append(out, turn(t, img, d, 90))
	}
	return out
}

// mirrorBurst is one photo and its mirror image, alternately, shifted a little.
func mirrorBurst(t testing.TB) [][]byte {
	img := selfie(t)
	mir := mirrored(img)
	return [][]byte{warp(t, img, 0, 0, 0, 90), warp(t, mir, 0, 0, 0, 90), warp(t, img, 0, 4, 2, 85),
		warp(t, mir, 0, 4, 2, 85), warp(t, img, 0, -4, -2, 88)}
}

// fakeCamera writes frames (JPEGs of one size) as a Y4M video of 2 frames a second, for
// Chromium's fake camera (browsertest.Camera), which plays it in a loop: the capture
// page's burst then takes these frames. shift moves the picture left by that many pixels
// (another camera's frames of the same scene: other bytes, the same face).
func fakeCamera(t testing.TB, frames [][]byte, shift int) string {
	t.Helper()
	var out bytes.Buffer
	for i, b := range frames {
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r := img.Bounds()
		w, h := r.Dx()&^1, r.Dy()&^1
		if i == 0 {
			fmt.Fprintf(&out, "YUV4MPEG2 W%d H%d F2:1 Ip A1:1 C420jpeg\n", w, h)
		}
		out.WriteString("FRAME\n")
		ys := make([]byte, w*h)
		cb, cr := make([]byte, w*h/4), make([]byte, w*h/4)
		for y := range h {
			for x := range w {
				c := color.YCbCrModel.Convert(img.At(r.Min.X+min(x+shift, r.Dx()-1), r.Min.Y+y)).(color.YCbCr)
				ys[y*w+x] = c.Y
				if x%2 == 0 && y%2 == 0 {
					cb[(y/2)*(w/2)+x/2], cr[(y/2)*(w/2)+x/2] = c.Cb, c.Cr
				}
			}
		}
		out.Write(ys)
		out.Write(cb)
		out.Write(cr)
	}
	p := filepath.Join(t.TempDir(), "camera.y4m")
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// blinkCamera is a fake camera (fakeCamera) whose video blinks: the eyes open for half a
// second, then half closed for a second, over and over. The capture page's grabs, about
// 0.5 s apart, see both however long each takes (a cycle of three frames: two grabs land
// on the same state only when they are a multiple of 1.5 s apart).
func blinkCamera(t testing.TB, m *face.Models, shift int) string {
	b := blinkBurst(t, m)
	return fakeCamera(t, [][]byte{b[0], b[3], b[3]}, shift)
}
