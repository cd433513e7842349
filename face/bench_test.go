package face

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// frame640 is sample2 (one face) scaled to 640 pixels wide, as a phone frame would be, and
// encoded as a JPEG.
func frame640(b *testing.B) []byte {
	img := readSample(b, "sample2.jpg")
	h := img.H * 640 / img.W
	t := resizeBilinear(img.tensor(), h, 640)
	rgba := image.NewRGBA(image.Rect(0, 0, 640, h))
	for i := 0; i < 640*h; i++ {
		p := t.d[3*i:]
		rgba.Set(i%640, i/640, color.RGBA{uint8(p[0]), uint8(p[1]), uint8(p[2]), 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDescribe is one descriptor of a 150×150 crop.
func BenchmarkDescribe(b *testing.B) {
	m := models(b)
	img := readSample(b, "sample1.jpg")
	crop := &Image{W: 150, H: 150, Pix: img.crop(814, 467, 150, 150).d}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Describe(crop); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalysePhoto is the whole pipeline on a 1920×1367 demo photo with one face.
func BenchmarkAnalysePhoto(b *testing.B) {
	m := models(b)
	img := readSample(b, "sample2.jpg")
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Analyse(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAttempt is a verification attempt of five 640-wide JPEG frames: decode, detect,
// landmarks, align, describe, and the distance to a reference, for each frame.
func BenchmarkAttempt(b *testing.B) {
	m := models(b)
	jpg := frame640(b)
	ref, err := m.Analyse(readSample(b, "sample2.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		for range 5 {
			img, err := jpeg.Decode(bytes.NewReader(jpg))
			if err != nil {
				b.Fatal(err)
			}
			f, err := m.Analyse(FromImage(img))
			if err != nil {
				b.Fatal(err)
			}
			if Distance(f.Descriptor, ref.Descriptor) >= Threshold {
				b.Fatal("the frame does not match its own photo")
			}
		}
	}
}

// BenchmarkDetect is the detector alone (416×416) on a 640-wide frame.
func BenchmarkDetect(b *testing.B) {
	m := models(b)
	img, err := jpeg.Decode(bytes.NewReader(frame640(b)))
	if err != nil {
		b.Fatal(err)
	}
	frame := FromImage(img)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Detect(frame); err != nil {
			b.Fatal(err)
		}
	}
}
