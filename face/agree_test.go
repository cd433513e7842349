package face

import (
	"math"
	"testing"
)

// TestAgreesWithJavaScript runs face-api's own JavaScript (Node, TF.js CPU backend) and this
// package on the same pixels — every demo photo through the whole pipeline, and two crops
// given straight to the recogniser — and requires the same faces, boxes, landmarks and
// descriptors (cosine ≥ 0.999).
func TestAgreesWithJavaScript(t *testing.T) {
	m := models(t)
	imgs := map[string]*Image{}
	modes := map[string]string{}
	var order []string
	for _, s := range samples {
		imgs[s] = readSample(t, s)
		modes[s] = "analyse"
		order = append(order, s)
	}
	s1 := imgs["sample1.jpg"]
	// a 150×150 crop (no resize) and a tall one (padded to a square, then resized).
	imgs["crop150"] = &Image{W: 150, H: 150, Pix: s1.crop(814, 467, 150, 150).d}
	imgs["crop120x170"] = &Image{W: 120, H: 170, Pix: s1.crop(840, 460, 120, 170).d}
	for _, c := range []string{"crop150", "crop120x170"} {
		modes[c] = "describe"
		order = append(order, c)
	}
	js := runJS(t, imgs, modes, order)
	for _, name := range order {
		j, ok := js[name]
		if !ok || j.Descriptor == nil {
			t.Fatalf("%s: JavaScript gave no descriptor", name)
		}
		want := toDescriptor(t, j.Descriptor)
		var got Descriptor
		if modes[name] == "describe" {
			var err error
			if got, err = m.Describe(imgs[name]); err != nil {
				t.Fatal(err)
			}
		} else {
			f, err := m.Analyse(imgs[name])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if f.Faces != j.Faces {
				t.Errorf("%s: %d faces, JavaScript %d", name, f.Faces, j.Faces)
			}
			if math.Abs(f.Detection.Score-j.Score) > 1e-4 {
				t.Errorf("%s: score %.6f, JavaScript %.6f", name, f.Detection.Score, j.Score)
			}
			for _, p := range []struct {
				what      string
				got, want Rect
			}{
				{"box", f.Detection.Box, Rect(*j.Box)},
				{"aligned box", f.Aligned, Rect(*j.Aligned)},
			} {
				if d := rectDiff(p.got, p.want); d > 0.01 {
					t.Errorf("%s: %s %+v, JavaScript %+v", name, p.what, p.got, p.want)
				}
			}
			worst := 0.0
			for i, p := range f.Landmarks {
				worst = math.Max(worst, math.Hypot(p.X-j.Landmarks[i][0], p.Y-j.Landmarks[i][1]))
			}
			if worst > 0.01 {
				t.Errorf("%s: landmarks up to %.4f px from JavaScript's", name, worst)
			}
			t.Logf("%s: %d faces; score %.1e, box %.1e px, aligned box %.1e px, landmarks %.1e px from JavaScript's", name, f.Faces,
				math.Abs(f.Detection.Score-j.Score), rectDiff(f.Detection.Box, Rect(*j.Box)), rectDiff(f.Aligned, Rect(*j.Aligned)), worst)
			got = f.Descriptor
		}
		c := Cosine(got, want)
		t.Logf("%s: cosine %.9f, distance %.1e to JavaScript's descriptor", name, c, Distance(got, want))
		if c < 0.999 {
			t.Errorf("%s: cosine %.6f to JavaScript's descriptor, want ≥ 0.999", name, c)
		}
	}
}

func rectDiff(a, b Rect) float64 {
	return math.Max(math.Max(math.Abs(a.X-b.X), math.Abs(a.Y-b.Y)), math.Max(math.Abs(a.W-b.W), math.Abs(a.H-b.H)))
}
