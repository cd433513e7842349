package citizen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"

	"github.com/silentcert/silentcert/face"
)

// Why a frame or a burst was refused: the codes the result page and the audit trail show.
const (
	reasonNoFace     = "no_face"
	reasonManyFaces  = "many_faces"
	reasonSmall      = "face_small"
	reasonBlur       = "blurred"
	reasonDark       = "too_dark"
	reasonBright     = "too_bright"
	reasonBadImage   = "bad_image"
	reasonFrozen     = "frozen"
	reasonMirrored   = "mirrored"
	reasonMixed      = "not_one_person"
	reasonFewFrames  = "few_frames"
	reasonNoRef      = "no_reference"
	reasonMismatch   = "mismatch"
	reasonBorderline = "borderline"
	reasonFileInput  = "file_input"
)

// decodeFrame reads one JPEG (nothing else is accepted), refuses one of fewer than 64 or
// more than MaxFramePixels pixels (read from its header before any is decoded: a phone's
// 12–50 MP photo is fine, a picture claiming millions of pixels a side is not), turns it
// upright as its EXIF Orientation says (a phone's camera often stores a portrait photo
// sideways and says so there), and scales it down to at most AnalyseMaxWidth wide without
// ever holding the full-size picture as numbers.
func decodeFrame(b []byte, pol Policy) (*face.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || format != "jpeg" {
		return nil, errors.New("not a JPEG")
	}
	if cfg.Width < 64 || cfg.Height < 64 || int64(cfg.Width)*int64(cfg.Height) > int64(pol.MaxFramePixels) {
		return nil, fmt.Errorf("%d×%d pixels: want 64 a side to %d in all", cfg.Width, cfg.Height, pol.MaxFramePixels)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	o := orientation(b)
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	turned := o >= 5 // a quarter turn: the stored width is the upright height
	if turned {
		w, h = h, w
	}
	var m *face.Image
	if w <= pol.AnalyseMaxWidth {
		m = face.FromImage(img)
	} else {
		tw, th := pol.AnalyseMaxWidth, max(1, h*pol.AnalyseMaxWidth/w)
		if turned {
			tw, th = th, tw
		}
		m = shrinkImage(img, tw, th)
	}
	return upright(m, o), nil
}

// shrinkImage scales a decoded picture down to w×h by averaging the source pixels each
// target pixel covers (an area filter: no aliasing, and the same numbers on every
// machine), reading the source's pixels where they are: the full-size picture is never
// converted to numbers. Each pixel is converted as face.FromImage converts it, so that
// the result is the one FromImage then an area filter would give.
func shrinkImage(img image.Image, w, h int) *face.Image {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	rgb := func(x, y int) (r, g, bl float32) {
		c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
		return float32(c.R), float32(c.G), float32(c.B)
	}
	if yc, ok := img.(*image.YCbCr); ok {
		rgb = func(x, y int) (r, g, bl float32) {
			yi, ci := yc.YOffset(b.Min.X+x, b.Min.Y+y), yc.COffset(b.Min.X+x, b.Min.Y+y)
			cr, cg, cb, _ := color.YCbCr{Y: yc.Y[yi], Cb: yc.Cb[ci], Cr: yc.Cr[ci]}.RGBA()
			return float32(cr >> 8), float32(cg >> 8), float32(cb >> 8)
		}
	}
	out := &face.Image{W: w, H: h, Pix: make([]float32, 3*w*h)}
	for y := range h {
		y0, y1 := y*sh/h, max((y+1)*sh/h, y*sh/h+1)
		for x := range w {
			x0, x1 := x*sw/w, max((x+1)*sw/w, x*sw/w+1)
			var s [3]float32
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					r, g, bl := rgb(xx, yy)
					s[0] += r
					s[1] += g
					s[2] += bl
				}
			}
			n := float32((y1 - y0) * (x1 - x0))
			o := out.Pix[3*(y*w+x):]
			o[0], o[1], o[2] = s[0]/n, s[1]/n, s[2]/n
		}
	}
	return out
}

// upright turns a picture stored with EXIF Orientation o (1–8) the way a viewer shows it.
func upright(m *face.Image, o int) *face.Image {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.W, m.H
	if o >= 5 {
		w, h = h, w
	}
	out := &face.Image{W: w, H: h, Pix: make([]float32, len(m.Pix))}
	for y := range h {
		for x := range w {
			// (sx, sy): where the upright pixel (x, y) is stored.
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, w-1-x
			case 7:
				sx, sy = h-1-y, w-1-x
			case 8:
				sx, sy = h-1-y, x
			}
			copy(out.Pix[3*(y*w+x):3*(y*w+x)+3], m.Pix[3*(sy*m.W+sx):])
		}
	}
	return out
}

// fromCamera says whether a burst is the capture page's camera's: the capture script
// marks what its camera took (source "camera"); anything else — the page's file input,
// with or without the script — is photos from the phone's gallery, and so is a burst with
// a frame that carries EXIF data (a camera app's file: the page's canvas writes none).
func fromCamera(source string, frames [][]byte) bool {
	if source != "camera" {
		return false
	}
	for _, b := range frames {
		if exifOf(b) != nil {
			return false
		}
	}
	return true
}

// exifOf returns the TIFF data of a JPEG's EXIF segment (APP1 "Exif"), or nil when it has
// none before its picture data or its segments cannot be read.
func exifOf(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return nil
		}
		switch m := b[i+1]; {
		case m == 0xFF: // fill
			i++
			continue
		case m == 0xDA || m == 0xD9: // the picture's data, or its end: no EXIF came before
			return nil
		case m == 0x01 || m >= 0xD0 && m <= 0xD7: // markers without a length
			i += 2
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		if seg := b[i+4 : i+2+n]; b[i+1] == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// orientation is a JPEG's EXIF Orientation tag, 1 to 8 (1: stored upright), or 1 when it
// has none or it cannot be read.
func orientation(b []byte) int {
	t := exifOf(b)
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := bo.Uint32(t[4:]) // the first IFD, where Orientation is
	if off < 8 || uint64(off)+2 > uint64(len(t)) {
		return 1
	}
	ifd := t[off:]
	for k := range int(bo.Uint16(ifd)) {
		e := ifd[min(2+12*k, len(ifd)):]
		if len(e) < 12 {
			return 1
		}
		if bo.Uint16(e) == 0x0112 { // Orientation, a SHORT
			if v := int(bo.Uint16(e[8:])); bo.Uint16(e[2:]) == 3 && v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// frame is what the server measured on one uploaded picture.
type frame struct {
	reason string // "" when usable
	face   *face.Face
	blur   float64
	light  float64
	patch  [2]eyePatch
	whole  facePatch
	jpeg   []byte
}

// analyse runs the face pipeline and the quality checks on one frame.
func analyse(m *face.Models, b []byte, pol Policy) *frame {
	fr := &frame{jpeg: b}
	img, err := decodeFrame(b, pol)
	if err != nil {
		fr.reason = reasonBadImage
		return fr
	}
	f, err := m.Analyse(img)
	if errors.Is(err, face.ErrNoFace) {
		// In poor light the detector finds no face; the person is told what to change
		// (more light, less glare), judged by the whole picture against the face's limits.
		fr.light = meanLight(img)
		switch {
		case fr.light < pol.MinLight:
			fr.reason = reasonDark
		case fr.light > pol.MaxLight:
			fr.reason = reasonBright
		default:
			fr.reason = reasonNoFace
		}
		return fr
	}
	if err != nil {
		fr.reason = reasonBadImage
		return fr
	}
	fr.face = f
	if f.Faces > 1 {
		fr.reason = reasonManyFaces
		return fr
	}
	if math.Min(f.Aligned.W, f.Aligned.H) < pol.MinFaceSide {
		fr.reason = reasonSmall
		return fr
	}
	fr.blur, fr.light = quality(img, f.Aligned)
	switch {
	case fr.light < pol.MinLight:
		fr.reason = reasonDark
	case fr.light > pol.MaxLight:
		fr.reason = reasonBright
	case fr.blur < pol.MinBlur:
		fr.reason = reasonBlur
	}
	fr.patch = eyePatches(img, &f.Landmarks)
	fr.whole = facePatchOf(img, &f.Landmarks)
	return fr
}

// meanLight is the mean brightness of the whole picture, 0..255.
func meanLight(img *face.Image) float64 {
	var s float64
	for i := 0; i+2 < len(img.Pix); i += 3 {
		s += 0.299*float64(img.Pix[i]) + 0.587*float64(img.Pix[i+1]) + 0.114*float64(img.Pix[i+2])
	}
	return s / float64(max(1, len(img.Pix)/3))
}

// qualitySide is the side of the grey square the quality measures are taken on, so that
// they do not depend on the size of the face in the picture.
const qualitySide = 112

// quality returns the variance of the Laplacian (sharpness) and the mean brightness of the
// aligned face crop, resampled to a 112×112 grey square.
func quality(img *face.Image, box face.Rect) (blur, light float64) {
	const n = qualitySide
	g := make([]float64, n*n)
	for y := range n {
		sy := box.Y + (float64(y)+0.5)*box.H/n
		for x := range n {
			sx := box.X + (float64(x)+0.5)*box.W/n
			ix := min(max(int(sx), 0), img.W-1)
			iy := min(max(int(sy), 0), img.H-1)
			p := img.Pix[3*(iy*img.W+ix):]
			v := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			g[y*n+x] = v
			light += v
		}
	}
	light /= n * n
	var sum, sum2 float64
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			l := g[(y-1)*n+x] + g[(y+1)*n+x] + g[y*n+x-1] + g[y*n+x+1] - 4*g[y*n+x]
			sum += l
			sum2 += l * l
		}
	}
	k := float64((n - 2) * (n - 2))
	mean := sum / k
	return sum2/k - mean*mean, light
}

// The regions compared between the frames of a burst are sampled in the face's own frame:
// along the line through the outer corners of the eyes (landmarks 36 and 45) and across
// it, in units of the corners' distance. Turning, moving or scaling the whole picture (a
// photo tilted in the hand, or turned in a photo editor) changes none of them; what moves
// within the face does.
type faceAxes struct{ ox, oy, ux, uy float64 } // origin between the outer corners; u from corner 36 to 45

func axesOf(l *[68]face.Point) faceAxes {
	return faceAxes{(l[36].X + l[45].X) / 2, (l[36].Y + l[45].Y) / 2, l[45].X - l[36].X, l[45].Y - l[36].Y}
}

// at maps face coordinates (a along the eye line, b down across it) to the picture.
func (f faceAxes) at(a, b float64) (x, y float64) {
	return f.ox + a*f.ux - b*f.uy, f.oy + a*f.uy + b*f.ux
}

// of maps a point of the picture to face coordinates.
func (f faceAxes) of(p face.Point) (a, b float64) {
	dx, dy, n := p.X-f.ox, p.Y-f.oy, f.ux*f.ux+f.uy*f.uy
	return (dx*f.ux + dy*f.uy) / n, (dy*f.ux - dx*f.uy) / n
}

// unit is the corners' distance in pixels.
func (f faceAxes) unit() float64 { return math.Hypot(f.ux, f.uy) }

// greyAt is the picture's brightness at (x, y), interpolated between the four nearest
// pixels' centres.
func greyAt(img *face.Image, x, y float64) float64 {
	x = min(max(x-0.5, 0), float64(img.W-1))
	y = min(max(y-0.5, 0), float64(img.H-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, img.W-1), min(y0+1, img.H-1)
	fx, fy := x-float64(x0), y-float64(y0)
	g := func(x, y int) float64 {
		p := img.Pix[3*(y*img.W+x):]
		return 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return (g(x0, y0)*(1-fx)+g(x1, y0)*fx)*(1-fy) + (g(x0, y1)*(1-fx)+g(x1, y1)*fx)*fy
}

// grid samples a w×h grid of square cells of side cell (face units) centred on (a, b) in
// the face's frame: each cell the mean of 3×3 points within it, so that a cell of several
// pixels does not depend on which pixel falls at its centre.
func grid(img *face.Image, ax faceAxes, a, b, cell float64, w, h int, out []float64) {
	for y := range h {
		for x := range w {
			var s float64
			for sy := range 3 {
				for sx := range 3 {
					pa := a + (float64(x-w/2)+float64(sx+1)/4)*cell
					pb := b + (float64(y-h/2)+float64(sy+1)/4)*cell
					px, py := ax.at(pa, pb)
					s += greyAt(img, px, py)
				}
			}
			out[y*w+x] = s / 9
		}
	}
}

// The eye patches: each eye's region, centred between its corners (which a blink does
// not move), patchSpan corner-distances wide, sampled to patchW×patchH cells with a margin
// of patchM cells on every side, so that a frame's eyes can be matched with another's at
// the best small offset (the landmarks jitter by a pixel or two from frame to frame).
// Eyes that move, blink or look away change them.
const (
	patchW, patchH, patchM = 24, 12, 3
	patchSpan              = 0.5
)

const patchStride = patchW + 2*patchM

type eyePatch [(patchW + 2*patchM) * (patchH + 2*patchM)]float64

func eyePatches(img *face.Image, l *[68]face.Point) (out [2]eyePatch) {
	ax := axesOf(l)
	if ax.unit() < 1 {
		return out
	}
	for e, o := range []int{36, 42} {
		a0, b0 := ax.of(l[o])
		a1, b1 := ax.of(l[o+3])
		grid(img, ax, (a0+a1)/2, (b0+b1)/2, patchSpan/patchW, patchStride, patchH+2*patchM, out[e][:])
	}
	return out
}

// The face patch, for telling a picture from its mirror image: the face and what is
// around it (hair, collar, background), facePatchSpan corner-distances a side, from a
// little above the eyes to below the mouth, facePatchN cells a side with a margin of
// facePatchM. Mirrored about the middle of the eye line, a live frame matches the other
// frames of its burst worse than it does unmirrored (no face, and no scene around it, is
// exactly symmetric); a mirror image of another frame matches it better.
const (
	facePatchN, facePatchM = 32, 2
	facePatchSpan          = 2.6
	facePatchStride        = facePatchN + 2*facePatchM
)

type facePatch [facePatchStride * facePatchStride]float64

func facePatchOf(img *face.Image, l *[68]face.Point) (out facePatch) {
	ax := axesOf(l)
	if ax.unit() < 1 {
		return out
	}
	// Centred across on the eye line's middle (so that mirroring maps the grid onto
	// itself), and down on the middle of the span from 1 above the eyes to 1.6 below.
	grid(img, ax, 0, 0.3, facePatchSpan/facePatchN, facePatchStride, facePatchStride, out[:])
	return out
}

// correlation is the normalised correlation of a w×h window at the centre of a (margin m
// cells, rows of stride cells) with b's window shifted by (dx, dy) cells; flip reads b's
// window mirrored left to right.
func correlation(a, b []float64, stride, w, h, m, dx, dy int, flip bool) float64 {
	var sa, sb, saa, sbb, sab float64
	for y := range h {
		for x := range w {
			va := a[(y+m)*stride+x+m]
			bx := x + m + dx
			if flip {
				bx = stride - 1 - (x + m) + dx
			}
			vb := b[(y+m+dy)*stride+bx]
			sa += va
			sb += vb
			saa += va * va
			sbb += vb * vb
			sab += va * vb
		}
	}
	n := float64(w * h)
	cov := sab/n - sa*sb/(n*n)
	va, vb := saa/n-sa*sa/(n*n), sbb/n-sb*sb/(n*n)
	if va <= 1e-9 || vb <= 1e-9 {
		return 0
	}
	return cov / math.Sqrt(va*vb)
}

// bestCorrelation is correlation at the best offset within the margin.
func bestCorrelation(a, b []float64, stride, w, h, m int, flip bool) float64 {
	best := -1.0
	for dy := -m; dy <= m; dy++ {
		for dx := -m; dx <= m; dx++ {
			best = max(best, correlation(a, b, stride, w, h, m, dx, dy, flip))
		}
	}
	return best
}

// movement is the largest change of the eyes between two frames of a burst: one minus
// the correlation of their eye patches at the best offset within the margin (0: the same
// eyes, as in one photo taken five times), the two eyes averaged.
func movement(fs []*frame) float64 {
	worst := 0.0
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			var c float64
			for e := range 2 {
				c += bestCorrelation(fs[i].patch[e][:], fs[j].patch[e][:], patchStride, patchW, patchH, patchM, false) / 2
			}
			worst = max(worst, 1-c)
		}
	}
	return worst
}

// maxMirroring is the lead of the mirrored correlation over the plain one above which two
// frames are mirror images. Measured (TestBurstsOnDemoPhotos): -0.26 or less between the
// frames of every burst of one face — still, tilted, turned by up to 6°, eyes blinking —
// and +0.38 to +0.45 between a photo and its mirror image.
const maxMirroring = 0

// mirroring is the largest lead, over the pairs of frames of a burst, of the face
// patches' correlation with one of them mirrored over their correlation as they are: at
// or below 0 in a live burst, high when a frame is another's mirror image.
func mirroring(fs []*frame) float64 {
	worst := -1.0
	for i := range fs {
		for j := i + 1; j < len(fs); j++ {
			a, b := fs[i].whole[:], fs[j].whole[:]
			same := bestCorrelation(a, b, facePatchStride, facePatchN, facePatchN, facePatchM, false)
			flip := bestCorrelation(a, b, facePatchStride, facePatchN, facePatchN, facePatchM, true)
			worst = max(worst, flip-same)
		}
	}
	return worst
}

// verdict is the server's decision on one burst.
type verdict struct {
	Outcome  string  // "accept", "review", "reject"
	Reason   string  // why, for review and reject
	Distance float64 // to the closest reference (-1: none)
	Frames   int     // usable frames
	Movement float64
	Mirror   float64 // mirroring: above maxMirroring, a frame is another's mirror image
	Spread   float64
	RefKind  string
	Replay   string // what was seen before ("": nothing), for the audit trail
	best     *frame
	mean     face.Descriptor
}

// judge decides on a burst from the frames measured and the person's references. Every
// frame must hold exactly one face (a second face is someone else, or a photo, in the
// picture: the burst is refused and the person asked to try again alone); frames
// of poor quality are left out; the usable ones must be one person, and must move (a
// frozen burst is a photo), and no frame may be another's mirror image (a burst made of
// a photo and its mirror, which a camera never takes). An accept needs MinFrames usable frames that moved and a
// distance within face.Threshold, from the camera; fewer frames can at best be reviewed
// by staff, and so can frames from the file input (camera false): photos picked from the
// phone's gallery, whatever they show, are not a burst the page took just now.
func judge(fs []*frame, refs []ref, pol Policy, camera bool) verdict {
	v := verdict{Distance: -1}
	var ok []*frame
	reason := reasonNoFace
	for _, f := range fs {
		if f.reason == reasonManyFaces {
			v.Outcome, v.Reason = "reject", reasonManyFaces
			return v
		}
		if f.reason != "" {
			if f.reason != reasonNoFace || reason == reasonNoFace {
				reason = f.reason // "no face" says less than what else went wrong
			}
			continue
		}
		ok = append(ok, f)
	}
	v.Frames = len(ok)
	if len(ok) == 0 {
		v.Outcome, v.Reason = "reject", reason
		return v
	}
	for i := range ok {
		for j := i + 1; j < len(ok); j++ {
			v.Spread = max(v.Spread, face.Distance(ok[i].face.Descriptor, ok[j].face.Descriptor))
		}
	}
	if v.Spread > pol.MaxBurstSpread {
		v.Outcome, v.Reason = "reject", reasonMixed
		return v
	}
	// The mean descriptor of the burst, and the sharpest frame for the review queue.
	var sum [face.DescriptorSize]float64
	v.best = ok[0]
	for _, f := range ok {
		for k, x := range f.face.Descriptor {
			sum[k] += float64(x)
		}
		if f.blur > v.best.blur {
			v.best = f
		}
	}
	for k := range sum {
		v.mean[k] = float32(sum[k] / float64(len(ok)))
	}
	v.Movement, v.Mirror = movement(ok), mirroring(ok)
	if v.Mirror > maxMirroring {
		v.Outcome, v.Reason = "reject", reasonMirrored
		return v
	}
	if len(ok) >= pol.MinFrames && v.Movement < pol.MinEyeMovement {
		v.Outcome, v.Reason = "reject", reasonFrozen
		return v
	}
	if len(refs) == 0 {
		v.Outcome, v.Reason = "review", reasonNoRef
		return v
	}
	for _, r := range refs {
		if d := face.Distance(v.mean, r.template); v.Distance < 0 || d < v.Distance {
			v.Distance, v.RefKind = d, r.kind
		}
	}
	switch {
	case v.Distance <= face.Threshold && !camera:
		v.Outcome, v.Reason = "review", reasonFileInput
	case v.Distance <= face.Threshold && len(ok) >= pol.MinFrames:
		v.Outcome = "accept"
	case v.Distance <= face.Threshold:
		v.Outcome, v.Reason = "review", reasonFewFrames
	case v.Distance <= face.FaceAPIThreshold:
		v.Outcome, v.Reason = "review", reasonBorderline
	default:
		v.Outcome, v.Reason = "reject", reasonMismatch
	}
	return v
}
