package citizen

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// FuzzDecodeFrame: an uploaded frame of any bytes (EXIF segments too) is decoded or
// refused, never a panic, and what is decoded is within the policy's size.
func FuzzDecodeFrame(f *testing.F) {
	pol := DefaultPolicy()
	for _, wh := range [][2]int{{80, 80}, {1100, 64}, {10, 10}} { // small: the fuzzer instruments image/jpeg too
		img := image.NewRGBA(image.Rect(0, 0, wh[0], wh[1]))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		img.Set(0, 0, color.White)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		f.Add(withOrientation(b.Bytes(), 6))
	}
	f.Add([]byte("\xff\xd8\xff\xe0not really"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeFrame(b, pol)
		if err != nil {
			return
		}
		if m.W < 1 || m.H < 1 || m.W > pol.AnalyseMaxWidth || len(m.Pix) != 3*m.W*m.H {
			t.Fatalf("decoded %d×%d with %d values", m.W, m.H, len(m.Pix))
		}
	})
}
