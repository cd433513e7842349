package face

import (
	"math"
	"sort"
)

// Rect is a box in pixels of the picture it was found in, in floating point as face-api
// keeps it, so that boxes can be compared with the JavaScript's.
type Rect struct {
	X, Y, W, H float64
}

// Detection is a face found by the detector: its box and the detector's confidence (0..1).
type Detection struct {
	Score float64
	Box   Rect
}

// detector is face-api's TinyFaceDetector: a Tiny-YOLOv2 with depthwise separable
// convolutions, one class, five anchors.
type detector struct {
	conv0, conv8 param
	bias0, bias8 []float32
	sep          [5]struct {
		dw, pw param
		bias   []float32
	}
}

const detectorModel = "tiny_face_detector_model"

// anchors are the detector's box priors, in cells (BOX_ANCHORS of face-api).
var anchors = [5][2]float64{
	{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061}, {4.266906, 5.178857}, {9.041765, 10.66308},
}

func loadDetector(dir string) (*detector, error) {
	w, err := loadWeights(dir, detectorModel)
	if err != nil {
		return nil, err
	}
	var firstErr error
	get := func(name string, rank int) param {
		p, err := w.get(detectorModel, name, rank)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return p
	}
	d := &detector{
		conv0: get("conv0/filters", 4), bias0: get("conv0/bias", 1).d,
		conv8: get("conv8/filters", 4), bias8: get("conv8/bias", 1).d,
	}
	for i := range d.sep {
		pre := "conv" + string(rune('1'+i))
		d.sep[i].dw = get(pre+"/depthwise_filter", 4)
		d.sep[i].pw = get(pre+"/pointwise_filter", 4)
		d.sep[i].bias = get(pre+"/bias", 1).d
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return d, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// detect returns the faces scoring above minScore, after non-maximum suppression (IoU 0.4),
// in the order face-api gives them (best first).
func (d *detector) detect(img *Image, inputSize int, minScore float64) []Detection {
	x := toInput(img.tensor(), inputSize, false)
	normalise(x, [3]float32{117.001, 114.697, 97.404})
	x = conv2d(x, d.conv0, d.bias0, 1, false)
	leaky(x)
	for _, s := range d.sep {
		x = maxPool(x, 2, 2, true)
		x = separable(x, s.dw, s.pw, s.bias, 1, true)
		leaky(x)
	}
	x = maxPool(x, 2, 1, true)
	x = conv2d(x, d.conv8, d.bias8, 1, false)
	return d.boxes(x, img, inputSize, minScore)
}

func (d *detector) boxes(out *tensor, img *Image, inputSize int, minScore float64) []Detection {
	scale := float64(inputSize) / float64(max(img.W, img.H))
	rw, rh := math.Round(float64(img.W)*scale), math.Round(float64(img.H)*scale)
	side := math.Max(rw, rh)
	cfX, cfY := side/rw, side/rh
	cells := float64(out.h)
	type cand struct {
		score float64
		box   Rect // relative to the image
	}
	var cands []cand
	for row := 0; row < out.h; row++ {
		for col := 0; col < out.w; col++ {
			v := out.d[(row*out.w+col)*out.c:]
			for a, an := range anchors {
				e := v[a*5 : a*5+5]
				score := sigmoid(float64(e[4]))
				if score <= minScore {
					continue
				}
				ctX := (float64(col) + sigmoid(float64(e[0]))) / cells * cfX
				ctY := (float64(row) + sigmoid(float64(e[1]))) / cells * cfY
				w := math.Exp(float64(e[2])) * an[0] / cells * cfX
				h := math.Exp(float64(e[3])) * an[1] / cells * cfY
				cands = append(cands, cand{score, Rect{ctX - w/2, ctY - h/2, w, h}})
			}
		}
	}
	// non-maximum suppression, as face-api's: best first, drop boxes overlapping it by
	// more than 0.4 (IoU computed on boxes scaled to the input size).
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return cands[order[i]].score < cands[order[j]].score })
	var dets []Detection
	for len(order) > 0 {
		cur := order[len(order)-1]
		order = order[:len(order)-1]
		c := cands[cur]
		dets = append(dets, Detection{Score: c.score, Box: Rect{
			X: c.box.X * float64(img.W), Y: c.box.Y * float64(img.H),
			W: c.box.W * float64(img.W), H: c.box.H * float64(img.H),
		}})
		kept := order[:0]
		for _, o := range order {
			if iou(scaleRect(c.box, float64(inputSize)), scaleRect(cands[o].box, float64(inputSize))) <= 0.4 {
				kept = append(kept, o)
			}
		}
		order = kept
	}
	return dets
}

func scaleRect(r Rect, s float64) Rect { return Rect{r.X * s, r.Y * s, r.W * s, r.H * s} }

func iou(a, b Rect) float64 {
	w := math.Max(0, math.Min(a.X+a.W, b.X+b.W)-math.Max(a.X, b.X))
	h := math.Max(0, math.Min(a.Y+a.H, b.Y+b.H)-math.Max(a.Y, b.Y))
	in := w * h
	return in / (a.W*a.H + b.W*b.H - in)
}
