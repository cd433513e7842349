package face

import (
	"math"
	"runtime"
	"sync"
)

// tensor is one image's activations, height × width × channels, channels fastest (NHWC
// without the batch), as TF.js lays them out.
type tensor struct {
	h, w, c int
	d       []float32
}

func newTensor(h, w, c int) *tensor {
	return &tensor{h: h, w: w, c: c, d: make([]float32, h*w*c)}
}

// outSize gives TensorFlow's output size and leading padding for a window of k with stride s:
// "valid" uses no padding, "same" pads so that out = ceil(in/s), the odd pixel at the end.
func outSize(in, k, s int, same bool) (out, pad int) {
	if !same {
		return (in-k)/s + 1, 0
	}
	out = (in + s - 1) / s
	total := (out-1)*s + k - in
	if total < 0 {
		total = 0
	}
	return out, total / 2
}

// parallel runs f(i) for i in [0, n), split over the processors in contiguous blocks; every
// i is computed the same way whatever the split, so results do not depend on it.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		hi := min(lo+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// conv2d is tf.conv2d with filters [kh, kw, in, out], plus bias when given.
func conv2d(x *tensor, f param, bias []float32, stride int, same bool) *tensor {
	kh, kw, ic, oc := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	outH, padT := outSize(x.h, kh, stride, same)
	outW, padL := outSize(x.w, kw, stride, same)
	y := newTensor(outH, outW, oc)
	parallel(outH, func(oy int) {
		for ox := 0; ox < outW; ox++ {
			acc := y.d[(oy*outW+ox)*oc : (oy*outW+ox+1)*oc]
			for ky := 0; ky < kh; ky++ {
				iy := oy*stride - padT + ky
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < kw; kx++ {
					ix := ox*stride - padL + kx
					if ix < 0 || ix >= x.w {
						continue
					}
					xin := x.d[(iy*x.w+ix)*ic : (iy*x.w+ix+1)*ic]
					fw := f.d[(ky*kw+kx)*ic*oc : (ky*kw+kx+1)*ic*oc]
					for i, v := range xin {
						if v == 0 {
							continue
						}
						w := fw[i*oc : (i+1)*oc]
						w = w[:len(acc)]
						for o := range acc {
							acc[o] += v * w[o]
						}
					}
				}
			}
			if bias != nil {
				for o := range acc {
					acc[o] += bias[o]
				}
			}
		}
	})
	return y
}

// depthwise is tf.depthwiseConv2d with filters [kh, kw, c, 1].
func depthwise(x *tensor, f param, stride int, same bool) *tensor {
	kh, kw, c := f.shape[0], f.shape[1], f.shape[2]
	outH, padT := outSize(x.h, kh, stride, same)
	outW, padL := outSize(x.w, kw, stride, same)
	y := newTensor(outH, outW, c)
	parallel(outH, func(oy int) {
		for ox := 0; ox < outW; ox++ {
			acc := y.d[(oy*outW+ox)*c : (oy*outW+ox+1)*c]
			for ky := 0; ky < kh; ky++ {
				iy := oy*stride - padT + ky
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < kw; kx++ {
					ix := ox*stride - padL + kx
					if ix < 0 || ix >= x.w {
						continue
					}
					xin := x.d[(iy*x.w+ix)*c : (iy*x.w+ix+1)*c]
					w := f.d[(ky*kw+kx)*c : (ky*kw+kx+1)*c]
					for i := range acc {
						acc[i] += xin[i] * w[i]
					}
				}
			}
		}
	})
	return y
}

// separable is tf.separableConv2d (depthwise with stride and padding, then a 1×1
// convolution) plus bias.
func separable(x *tensor, dw, pw param, bias []float32, stride int, same bool) *tensor {
	return conv2d(depthwise(x, dw, stride, same), pw, bias, 1, false)
}

// pad adds zero rows and columns around x, as tf.pad.
func pad(x *tensor, top, bottom, left, right int) *tensor {
	y := newTensor(x.h+top+bottom, x.w+left+right, x.c)
	for r := 0; r < x.h; r++ {
		copy(y.d[((r+top)*y.w+left)*x.c:], x.d[r*x.w*x.c:(r+1)*x.w*x.c])
	}
	return y
}

// maxPool is tf.maxPool; "same" padding never wins the maximum.
func maxPool(x *tensor, k, stride int, same bool) *tensor {
	outH, padT := outSize(x.h, k, stride, same)
	outW, padL := outSize(x.w, k, stride, same)
	y := newTensor(outH, outW, x.c)
	for oy := 0; oy < outH; oy++ {
		for ox := 0; ox < outW; ox++ {
			acc := y.d[(oy*outW+ox)*x.c : (oy*outW+ox+1)*x.c]
			for i := range acc {
				acc[i] = float32(math.Inf(-1))
			}
			for ky := 0; ky < k; ky++ {
				iy := oy*stride - padT + ky
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ox*stride - padL + kx
					if ix < 0 || ix >= x.w {
						continue
					}
					xin := x.d[(iy*x.w+ix)*x.c : (iy*x.w+ix+1)*x.c]
					for i, v := range xin {
						if v > acc[i] {
							acc[i] = v
						}
					}
				}
			}
		}
	}
	return y
}

// avgPool is tf.avgPool with "valid" padding.
func avgPool(x *tensor, k, stride int) *tensor {
	outH, _ := outSize(x.h, k, stride, false)
	outW, _ := outSize(x.w, k, stride, false)
	y := newTensor(outH, outW, x.c)
	n := float32(k * k)
	for oy := 0; oy < outH; oy++ {
		for ox := 0; ox < outW; ox++ {
			acc := y.d[(oy*outW+ox)*x.c : (oy*outW+ox+1)*x.c]
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					iy, ix := oy*stride+ky, ox*stride+kx
					xin := x.d[(iy*x.w+ix)*x.c : (iy*x.w+ix+1)*x.c]
					for i, v := range xin {
						acc[i] += v
					}
				}
			}
			for i := range acc {
				acc[i] /= n
			}
		}
	}
	return y
}

// scaleChannels is face-api's scale layer: x*weights + biases per channel.
func scaleChannels(x *tensor, w, b []float32) {
	for i := 0; i < len(x.d); i += x.c {
		px := x.d[i : i+x.c]
		for j := range px {
			px[j] = px[j]*w[j] + b[j]
		}
	}
}

func relu(x *tensor) {
	for i, v := range x.d {
		if v < 0 {
			x.d[i] = 0
		}
	}
}

// leaky is face-api's leaky ReLU, written its way: relu(x - 0.1x) + 0.1x.
func leaky(x *tensor) {
	for i, v := range x.d {
		m := v * 0.10000000149011612
		r := v - m
		if r < 0 {
			r = 0
		}
		x.d[i] = r + m
	}
}

// addInto adds y to x element-wise (same shapes).
func addInto(x, y *tensor) {
	for i := range x.d {
		x.d[i] += y.d[i]
	}
}

// resizeBilinear is tf.image.resizeBilinear with alignCorners and halfPixelCenters false.
func resizeBilinear(x *tensor, outH, outW int) *tensor {
	y := newTensor(outH, outW, x.c)
	rs := float64(x.h) / float64(outH)
	cs := float64(x.w) / float64(outW)
	for r := 0; r < outH; r++ {
		fr := rs * float64(r)
		r0 := max(0, int(math.Floor(fr)))
		rf := fr - float64(r0)
		r1 := min(x.h-1, int(math.Ceil(fr)))
		for c := 0; c < outW; c++ {
			fc := cs * float64(c)
			c0 := max(0, int(math.Floor(fc)))
			cf := fc - float64(c0)
			c1 := min(x.w-1, int(math.Ceil(fc)))
			tl := x.d[(r0*x.w+c0)*x.c:]
			tr := x.d[(r0*x.w+c1)*x.c:]
			bl := x.d[(r1*x.w+c0)*x.c:]
			br := x.d[(r1*x.w+c1)*x.c:]
			out := y.d[(r*outW+c)*x.c : (r*outW+c+1)*x.c]
			for i := range out {
				top := float64(tl[i]) + (float64(tr[i])-float64(tl[i]))*cf
				bottom := float64(bl[i]) + (float64(br[i])-float64(bl[i]))*cf
				out[i] = float32(top + (bottom-top)*rf)
			}
		}
	}
	return y
}

// padToSquare is face-api's padToSquare: zeros on the short side; centred puts
// round(diff/2) after the image and the rest before, otherwise all of it after.
func padToSquare(x *tensor, centred bool) *tensor {
	if x.h == x.w {
		return x
	}
	diff := x.h - x.w
	if diff < 0 {
		diff = -diff
	}
	after := diff
	if centred {
		after = int(math.Round(float64(diff) * 0.5))
	}
	before := diff - after
	if x.h > x.w {
		return pad(x, 0, 0, before, after)
	}
	return pad(x, before, after, 0, 0)
}

// toInput is NetInput.toBatchTensor for one tensor: padded to a square, resized to size;
// always a new tensor, which the caller may change.
func toInput(x *tensor, size int, centred bool) *tensor {
	y := padToSquare(x, centred)
	if y.h != size || y.w != size {
		return resizeBilinear(y, size, size)
	}
	if y == x {
		y = &tensor{h: x.h, w: x.w, c: x.c, d: append([]float32(nil), x.d...)}
	}
	return y
}

// normalise subtracts the mean colour and divides by 255, in place, as face-api's nets do
// first.
func normalise(x *tensor, mean [3]float32) {
	for i := 0; i < len(x.d); i += 3 {
		x.d[i] = (x.d[i] - mean[0]) / 255
		x.d[i+1] = (x.d[i+1] - mean[1]) / 255
		x.d[i+2] = (x.d[i+2] - mean[2]) / 255
	}
}
