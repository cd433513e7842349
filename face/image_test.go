package face

import (
	"image"
	"image/color"
	"testing"
)

// TestFromImageYCbCr checks that the fast path for JPEG's YCbCr pictures gives exactly the
// colours of the general path (image.At and the NRGBA model).
func TestFromImageYCbCr(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444} {
		img := image.NewYCbCr(image.Rect(3, 5, 40, 30), ratio)
		for i := range img.Y {
			img.Y[i] = uint8(i * 7)
		}
		for i := range img.Cb {
			img.Cb[i], img.Cr[i] = uint8(i*13), uint8(255-i*5)
		}
		got := FromImage(img)
		if got.W != 37 || got.H != 25 {
			t.Fatalf("size %d×%d, want 37×25", got.W, got.H)
		}
		i := 0
		for y := 5; y < 30; y++ {
			for x := 3; x < 40; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if got.Pix[i] != float32(c.R) || got.Pix[i+1] != float32(c.G) || got.Pix[i+2] != float32(c.B) {
					t.Fatalf("%v: pixel (%d,%d) is %v, want %v", ratio, x, y, got.Pix[i:i+3], c)
				}
				i += 3
			}
		}
	}
}
