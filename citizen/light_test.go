package citizen

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"testing"

	"github.com/silentcert/silentcert/store/storetest"
)

// relit re-encodes a JPEG with every channel mapped by f: a picture taken in other light.
func relit(t testing.TB, b []byte, f func(uint8) uint8) []byte {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := img.Bounds()
	out := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			out.SetRGBA(x, y, color.RGBA{f(c.R), f(c.G), f(c.B), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNoFaceInPoorLight: a burst in a dim room, where the detector finds no face, is
// answered "too dark: find more light", as the page's own hint said while it was taken
// (once "no face seen: face the phone", though the person was); glare, "too bright"; a
// picture in good light without a face is still "no face".
func TestNoFaceInPoorLight(t *testing.T) {
	m := testModels(t)
	pol := DefaultPolicy()
	burst := blinkBurst(t, m)
	dark := func(v uint8) uint8 { return v / 6 }
	glare := func(v uint8) uint8 { return 255 - (255-v)/10 }
	empty := relit(t, burst[0], func(uint8) uint8 { return 128 })
	for _, k := range []struct {
		name, want string
		frame      []byte
	}{
		{"a dim room", reasonDark, relit(t, burst[0], dark)},
		{"glare", reasonBright, relit(t, burst[0], glare)},
		{"no face in good light", reasonNoFace, empty},
	} {
		if fr := analyse(m, k.frame, pol); fr.reason != k.want {
			t.Errorf("%s: %q (light %.0f), want %q", k.name, fr.reason, fr.light, k.want)
		}
	}

	c := newCity(t, storetest.DSNs(t)[0].Open(t), m)
	cl := c.browser(t)
	c.loginByLink(t, cl, zhang, false)
	nonce, csrf := c.capture(t, cl)
	var frames [][]byte
	for _, b := range burst {
		frames = append(frames, relit(t, b, dark))
	}
	st, a := c.upload(t, cl, nonce, csrf, frames)
	if want := msg(langZH, "r_retry") + " " + msg(langZH, "why_too_dark"); st != http.StatusOK || a.Outcome != "retry" || a.Reason != reasonDark || a.Message != want {
		t.Fatalf("a burst in a dim room: %d %+v, want %q", st, a, want)
	}
}
