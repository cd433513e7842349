package face

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"sort"
	"testing"
)

// The demo photos are group photos of different people (20 detections on six photos; one,
// in sample6, is a second box on half a face and is left out). No person appears, as far as
// we can see, in two of them, so the same-person pairs are the same face taken again from a changed photo:
// mirrored, at half size, darker and recompressed.

type faceRef struct {
	name string
	f    *Face
}

// variants are the changed photos, each with the way to map a box of the original into it.
var variants = []struct {
	name string
	make func(*Image) *Image
	box  func(r Rect, w int) Rect
}{
	{"mirrored", mirror, func(r Rect, w int) Rect { return Rect{float64(w) - r.X - r.W, r.Y, r.W, r.H} }},
	{"half size", half, func(r Rect, _ int) Rect { return Rect{r.X / 2, r.Y / 2, r.W / 2, r.H / 2} }},
	{"darker, JPEG 60", darkerJPEG, func(r Rect, _ int) Rect { return r }},
}

func TestVerificationOnDemoPhotos(t *testing.T) {
	m := models(t)
	var faces []faceRef
	var genuine []float64
	for _, s := range samples {
		img := readSample(t, s)
		all, err := m.AnalyseAll(img)
		if err != nil {
			t.Fatal(err)
		}
		var kept []faceRef
		for i, f := range all {
			if s == "sample6.jpg" && i == 4 { // the half face
				continue
			}
			kept = append(kept, faceRef{fmt.Sprintf("%s#%d", s, i), f})
		}
		faces = append(faces, kept...)
		for _, v := range variants {
			vimg := v.make(img)
			vfaces, err := m.AnalyseAll(vimg)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kept {
				f := k.f
				want := v.box(f.Detection.Box, img.W)
				var best *Face
				bestIoU := 0.0
				for _, g := range vfaces {
					if o := iou(want, g.Detection.Box); o > bestIoU {
						best, bestIoU = g, o
					}
				}
				if best == nil || bestIoU < 0.5 {
					t.Errorf("%s %s: the face is not found again", k.name, v.name)
					continue
				}
				d := Distance(f.Descriptor, best.Descriptor)
				genuine = append(genuine, d)
				if d >= Threshold {
					t.Logf("same person rejected: %s %s, distance %.3f", k.name, v.name, d)
				}
			}
		}
	}
	if len(faces) != 19 {
		t.Fatalf("%d faces on the demo photos, want 19", len(faces))
	}
	var impostor []float64
	for i := range faces {
		for j := i + 1; j < len(faces); j++ {
			d := Distance(faces[i].f.Descriptor, faces[j].f.Descriptor)
			if d < FaceAPIThreshold {
				t.Logf("different people under %.2f: %s and %s, distance %.3f", FaceAPIThreshold, faces[i].name, faces[j].name, d)
			}
			impostor = append(impostor, d)
		}
	}
	sort.Float64s(genuine)
	sort.Float64s(impostor)
	rates := func(th float64) (fa, fr int) {
		for _, d := range impostor {
			if d < th {
				fa++
			}
		}
		for _, d := range genuine {
			if d >= th {
				fr++
			}
		}
		return
	}
	for _, th := range []float64{0.4, 0.45, Threshold, 0.55, FaceAPIThreshold} {
		fa, fr := rates(th)
		t.Logf("threshold %.2f: false accepts %d/%d (%.1f%%), false rejects %d/%d (%.1f%%)",
			th, fa, len(impostor), 100*float64(fa)/float64(len(impostor)), fr, len(genuine), 100*float64(fr)/float64(len(genuine)))
	}
	t.Logf("same person: distances %.3f…%.3f; different people: %.3f…%.3f",
		genuine[0], genuine[len(genuine)-1], impostor[0], impostor[len(impostor)-1])
	// No threshold separates these pairs perfectly (the laughing, tilted face of sample1,
	// mirrored, is farther than the two closest different people); at 0.5 none of the
	// different people is accepted and that one mirrored face is rejected, which a
	// borderline review would catch.
	if fa, fr := rates(Threshold); fa != 0 || fr > 1 {
		t.Errorf("at %.2f: %d false accepts (want 0), %d false rejects (want at most 1)", Threshold, fa, fr)
	}
	if len(genuine) != 3*19 || len(impostor) != 19*18/2 {
		t.Errorf("%d same-person and %d different-people pairs, want %d and %d", len(genuine), len(impostor), 3*19, 19*18/2)
	}
}

func mirror(m *Image) *Image {
	out := &Image{W: m.W, H: m.H, Pix: make([]float32, len(m.Pix))}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			copy(out.Pix[(y*m.W+x)*3:(y*m.W+x)*3+3], m.Pix[(y*m.W+m.W-1-x)*3:])
		}
	}
	return out
}

// half averages each 2×2 block.
func half(m *Image) *Image {
	out := &Image{W: m.W / 2, H: m.H / 2, Pix: make([]float32, 3*(m.W/2)*(m.H/2))}
	for y := 0; y < out.H; y++ {
		for x := 0; x < out.W; x++ {
			for c := 0; c < 3; c++ {
				at := func(dx, dy int) float32 { return m.Pix[((2*y+dy)*m.W+2*x+dx)*3+c] }
				out.Pix[(y*out.W+x)*3+c] = float32(math.Round(float64(at(0, 0)+at(1, 0)+at(0, 1)+at(1, 1)) / 4))
			}
		}
	}
	return out
}

// darkerJPEG scales the light by 0.6 and encodes the photo again as a JPEG of quality 60.
func darkerJPEG(m *Image) *Image {
	rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		p := m.Pix[3*i:]
		rgba.Set(i%m.W, i/m.W, color.RGBA{uint8(p[0] * 0.6), uint8(p[1] * 0.6), uint8(p[2] * 0.6), 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 60}); err != nil {
		panic(err)
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		panic(err)
	}
	return FromImage(img)
}
