package face

import "math"

// Point is a landmark's position in pixels of the picture, for alignment and for the
// capture checks (eyes, mouth).
type Point struct {
	X, Y float64
}

// landmarker is face-api's FaceLandmark68TinyNet: three dense blocks of separable
// convolutions and a fully connected layer giving 68 points on a 112×112 crop.
type landmarker struct {
	dense [3]struct {
		conv0              param // a plain convolution in the first block
		conv0dw            param // else separable
		bias0              []float32
		dw1, pw1, dw2, pw2 param
		bias1, bias2       []float32
	}
	fc     param
	fcBias []float32
}

const landmarkModel = "face_landmark_68_tiny_model"

func loadLandmarker(dir string) (*landmarker, error) {
	w, err := loadWeights(dir, landmarkModel)
	if err != nil {
		return nil, err
	}
	var firstErr error
	get := func(name string, rank int) param {
		p, err := w.get(landmarkModel, name, rank)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return p
	}
	l := &landmarker{fc: get("fc/weights", 2), fcBias: get("fc/bias", 1).d}
	for i := range l.dense {
		pre := "dense" + string(rune('0'+i))
		b := &l.dense[i]
		if i == 0 {
			b.conv0 = get(pre+"/conv0/filters", 4)
		} else {
			b.conv0dw = get(pre+"/conv0/depthwise_filter", 4)
			b.conv0 = get(pre+"/conv0/pointwise_filter", 4)
		}
		b.bias0 = get(pre+"/conv0/bias", 1).d
		b.dw1, b.pw1, b.bias1 = get(pre+"/conv1/depthwise_filter", 4), get(pre+"/conv1/pointwise_filter", 4), get(pre+"/conv1/bias", 1).d
		b.dw2, b.pw2, b.bias2 = get(pre+"/conv2/depthwise_filter", 4), get(pre+"/conv2/pointwise_filter", 4), get(pre+"/conv2/bias", 1).d
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return l, nil
}

// landmarks returns the 68 points of the face in crop, relative to the crop (0..1 across
// its width and height), as face-api's detectLandmarks before it shifts them.
func (l *landmarker) landmarks(crop *tensor) [68]Point {
	x := toInput(crop, 112, true)
	normalise(x, [3]float32{122.782, 117.001, 104.298})
	for i, b := range l.dense {
		var out1 *tensor
		if i == 0 {
			out1 = conv2d(x, b.conv0, b.bias0, 2, true)
		} else {
			out1 = separable(x, b.conv0dw, b.conv0, b.bias0, 2, true)
		}
		relu(out1)
		out2 := separable(out1, b.dw1, b.pw1, b.bias1, 1, true)
		in3 := newTensor(out1.h, out1.w, out1.c)
		copy(in3.d, out1.d)
		addInto(in3, out2)
		relu(in3)
		out3 := separable(in3, b.dw2, b.pw2, b.bias2, 1, true)
		addInto(out2, out3)
		addInto(out2, out1)
		relu(out2)
		x = out2
	}
	x = avgPool(x, 14, 2)
	out := make([]float32, len(l.fcBias))
	copy(out, l.fcBias)
	for i, v := range x.d {
		row := l.fc.d[i*len(out) : (i+1)*len(out)]
		for j := range out {
			out[j] += v * row[j]
		}
	}
	// postProcess: undo the centred padding to a square.
	w, h := float64(crop.w), float64(crop.h)
	s := 112 / math.Max(w, h)
	sw, sh := w*s, h*s
	var padX, padY float64
	if sw < sh {
		padX = math.Abs(sw-sh) / 2
	}
	if sh < sw {
		padY = math.Abs(sw-sh) / 2
	}
	var pts [68]Point
	for i := range pts {
		pts[i] = Point{
			X: (float64(out[2*i])*112 - padX) / sw,
			Y: (float64(out[2*i+1])*112 - padY) / sh,
		}
	}
	return pts
}
