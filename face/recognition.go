package face

import (
	"fmt"
	"math"
)

// DescriptorSize is the length of a face descriptor, the recogniser's output.
const DescriptorSize = 128

// Descriptor is a face's 128-number summary: two photos of one person give descriptors close
// in Euclidean distance, which is what verification compares.
type Descriptor [DescriptorSize]float32

// Threshold is the Euclidean distance under which two descriptors count as the same
// person here: lower than face-api's, because at 0.6 ten of the 171 pairs of different
// people on the package's demo photos match and at 0.5 none does (README.md); a false
// accept certifies someone for another, a false reject only goes to review.
const Threshold = 0.5

// FaceAPIThreshold is face-api's (and dlib's) usual same-person distance, kept to report
// results on the scale others use; distances between Threshold and it are borderline.
const FaceAPIThreshold = 0.6

// Distance is the Euclidean distance between two descriptors, face-api's
// euclideanDistance: the number compared with Threshold.
func Distance(a, b Descriptor) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// Cosine is the cosine similarity of two descriptors (1 = same direction), used to check
// that two implementations compute the same descriptor.
func Cosine(a, b Descriptor) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// convLayer is a convolution with bias followed by face-api's scale layer.
type convLayer struct {
	filters              param
	bias, scale, biasOut []float32
}

// residualLayer is two convLayers and a shortcut.
type residualLayer struct{ conv1, conv2 convLayer }

// recogniser is face-api's FaceRecognitionNet (dlib's ResNet-34-like net): 150×150 RGB in,
// 128 numbers out.
type recogniser struct {
	down    convLayer
	r32     [3]residualLayer
	d64     residualLayer
	r64     [3]residualLayer
	d128    residualLayer
	r128    [2]residualLayer
	d256    residualLayer
	r256    [2]residualLayer
	d256out residualLayer
	fc      param
}

const recogniserModel = "face_recognition_model"

func loadRecogniser(dir string) (*recogniser, error) {
	w, err := loadWeights(dir, recogniserModel)
	if err != nil {
		return nil, err
	}
	var firstErr error
	get := func(name string, rank int) param {
		p, err := w.get(recogniserModel, name, rank)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return p
	}
	conv := func(prefix string) convLayer {
		return convLayer{
			filters: get(prefix+"/conv/filters", 4),
			bias:    get(prefix+"/conv/bias", 1).d,
			scale:   get(prefix+"/scale/weights", 1).d,
			biasOut: get(prefix+"/scale/biases", 1).d,
		}
	}
	res := func(prefix string) residualLayer {
		return residualLayer{conv(prefix + "/conv1"), conv(prefix + "/conv2")}
	}
	r := &recogniser{
		down:    conv("conv32_down"),
		r32:     [3]residualLayer{res("conv32_1"), res("conv32_2"), res("conv32_3")},
		d64:     res("conv64_down"),
		r64:     [3]residualLayer{res("conv64_1"), res("conv64_2"), res("conv64_3")},
		d128:    res("conv128_down"),
		r128:    [2]residualLayer{res("conv128_1"), res("conv128_2")},
		d256:    res("conv256_down"),
		r256:    [2]residualLayer{res("conv256_1"), res("conv256_2")},
		d256out: res("conv256_down_out"),
		fc:      get("fc", 2),
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if r.fc.shape[1] != DescriptorSize {
		return nil, fmt.Errorf("face: model %s: fc has shape %v, want [256 %d]", recogniserModel, r.fc.shape, DescriptorSize)
	}
	return r, nil
}

func (l convLayer) run(x *tensor, stride int, same, withRelu bool) *tensor {
	y := conv2d(x, l.filters, l.bias, stride, same)
	scaleChannels(y, l.scale, l.biasOut)
	if withRelu {
		relu(y)
	}
	return y
}

func (l residualLayer) residual(x *tensor) *tensor {
	y := l.conv1.run(x, 1, true, true)
	y = l.conv2.run(y, 1, true, false)
	addInto(y, x)
	relu(y)
	return y
}

// residualDown halves the size: the shortcut is a 2×2 average, zero-padded in channels, and
// the convolution's output is zero-padded by a row and a column when the sizes differ.
func (l residualLayer) residualDown(x *tensor) *tensor {
	y := l.conv1.run(x, 2, false, true)
	y = l.conv2.run(y, 1, true, false)
	pooled := avgPool(x, 2, 2)
	if pooled.h != y.h || pooled.w != y.w {
		y = pad(y, 0, 1, 0, 1)
	}
	out := newTensor(y.h, y.w, y.c)
	for p := 0; p < y.h*y.w; p++ {
		o := out.d[p*y.c : (p+1)*y.c]
		copy(o, y.d[p*y.c:(p+1)*y.c])
		for i, v := range pooled.d[p*pooled.c : (p+1)*pooled.c] {
			o[i] += v
		}
	}
	relu(out)
	return out
}

// describe runs the net on a face crop of any size: padded to a square (centred), resized
// to 150×150, normalised by dlib's mean colour.
func (r *recogniser) describe(face *tensor) Descriptor {
	x := toInput(face, 150, true)
	normalise(x, [3]float32{122.782, 117.001, 104.298})
	x = r.down.run(x, 2, false, true)
	x = maxPool(x, 3, 2, false)
	for _, l := range r.r32 {
		x = l.residual(x)
	}
	x = r.d64.residualDown(x)
	for _, l := range r.r64 {
		x = l.residual(x)
	}
	x = r.d128.residualDown(x)
	for _, l := range r.r128 {
		x = l.residual(x)
	}
	x = r.d256.residualDown(x)
	for _, l := range r.r256 {
		x = l.residual(x)
	}
	x = r.d256out.residualDown(x)
	mean := make([]float32, x.c)
	for p := 0; p < x.h*x.w; p++ {
		for i := range mean {
			mean[i] += x.d[p*x.c+i]
		}
	}
	for i := range mean {
		mean[i] /= float32(x.h * x.w)
	}
	var d Descriptor
	for i, v := range mean {
		row := r.fc.d[i*DescriptorSize : (i+1)*DescriptorSize]
		for j := range d {
			d[j] += v * row[j]
		}
	}
	return d
}
