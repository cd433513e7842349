package face

import (
	"fmt"
	"image"
	"image/color"
)

// Image is an RGB picture as the networks read it: W×H pixels, row by row, R, G, B in
// 0..255; the one input type, so that every caller feeds the nets the same numbers.
type Image struct {
	W, H int
	Pix  []float32
}

// FromImage converts a decoded picture (JPEG, PNG…) to an Image, dropping alpha.
func FromImage(img image.Image) *Image {
	b := img.Bounds()
	out := &Image{W: b.Dx(), H: b.Dy(), Pix: make([]float32, 3*b.Dx()*b.Dy())}
	i := 0
	if yc, ok := img.(*image.YCbCr); ok { // JPEG's own form: the same colours, without At's allocations
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := yc.YOffset(x, y), yc.COffset(x, y)
				r, g, bl, _ := color.YCbCr{Y: yc.Y[yi], Cb: yc.Cb[ci], Cr: yc.Cr[ci]}.RGBA()
				out.Pix[i], out.Pix[i+1], out.Pix[i+2] = float32(r>>8), float32(g>>8), float32(bl>>8)
				i += 3
			}
		}
		return out
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = float32(c.R), float32(c.G), float32(c.B)
			i += 3
		}
	}
	return out
}

// RGB returns the picture as bytes R, G, B per pixel, row by row (values rounded and
// clamped), the form the JavaScript reference reads.
func (m *Image) RGB() []byte {
	out := make([]byte, len(m.Pix))
	for i, v := range m.Pix {
		switch {
		case v <= 0:
			out[i] = 0
		case v >= 255:
			out[i] = 255
		default:
			out[i] = byte(v + 0.5)
		}
	}
	return out
}

func (m *Image) check() error {
	if m == nil || m.W <= 0 || m.H <= 0 || len(m.Pix) != 3*m.W*m.H {
		return fmt.Errorf("face: image is empty or its pixels do not match its size")
	}
	return nil
}

func (m *Image) tensor() *tensor {
	return &tensor{h: m.H, w: m.W, c: 3, d: m.Pix}
}

// crop returns the pixels of the integer rectangle (x, y, w, h), which must lie inside.
func (m *Image) crop(x, y, w, h int) *tensor {
	t := newTensor(h, w, 3)
	for r := 0; r < h; r++ {
		copy(t.d[r*w*3:(r+1)*w*3], m.Pix[((y+r)*m.W+x)*3:((y+r)*m.W+x+w)*3])
	}
	return t
}
