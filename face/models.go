package face

import (
	"errors"
	"math"
)

// ErrNoFace is returned when the detector finds no face in a picture, so that callers can
// tell "no face" from a broken model or image.
var ErrNoFace = errors.New("face: no face found")

// Models are the three networks loaded from the package's model/ folder; safe for concurrent
// use once loaded (they hold only weights).
type Models struct {
	rec *recogniser
	det *detector
	lm  *landmarker

	// InputSize is the side the whole picture is scaled to for detection (a multiple of
	// 32); face-api's default 416.
	InputSize int
	// MinScore is the detector's confidence under which a box is not a face; face-api's
	// default 0.5.
	MinScore float64
}

// Load reads the recogniser, the tiny face detector and the tiny 68-point landmark net from
// dir, the model/ folder of @vladmandic/face-api (face/fetch.sh puts it in
// face/testdata/npm/package/model).
func Load(dir string) (*Models, error) {
	rec, err := loadRecogniser(dir)
	if err != nil {
		return nil, err
	}
	det, err := loadDetector(dir)
	if err != nil {
		return nil, err
	}
	lm, err := loadLandmarker(dir)
	if err != nil {
		return nil, err
	}
	return &Models{rec: rec, det: det, lm: lm, InputSize: 416, MinScore: 0.5}, nil
}

// LoadRecogniser reads only the recogniser, for callers that bring their own 150×150 crops.
func LoadRecogniser(dir string) (*Models, error) {
	rec, err := loadRecogniser(dir)
	if err != nil {
		return nil, err
	}
	return &Models{rec: rec, InputSize: 416, MinScore: 0.5}, nil
}

// Describe computes the descriptor of a face crop as face-api's computeFaceDescriptor does
// (padded to a square, resized to 150×150): for crops already aligned by the caller.
func (m *Models) Describe(crop *Image) (Descriptor, error) {
	if err := crop.check(); err != nil {
		return Descriptor{}, err
	}
	return m.rec.describe(crop.tensor()), nil
}

// Detect finds the faces in a picture, best first.
func (m *Models) Detect(img *Image) ([]Detection, error) {
	if err := img.check(); err != nil {
		return nil, err
	}
	if m.det == nil {
		return nil, errors.New("face: models loaded without the detector")
	}
	if m.InputSize <= 0 || m.InputSize%32 != 0 {
		return nil, errors.New("face: InputSize must be a positive multiple of 32")
	}
	return m.det.detect(img, m.InputSize, m.MinScore), nil
}

// Face is what one picture gives: the face detected, its 68 landmarks, the aligned box
// (dlib's) cut for the recogniser and its descriptor; Faces is the number of faces the detector saw.
type Face struct {
	Detection  Detection
	Landmarks  [68]Point
	Aligned    Rect
	Descriptor Descriptor
	Faces      int
}

// Analyse runs the whole of face-api's detectSingleFace(…).withFaceLandmarks(true)
// .withFaceDescriptor() on a picture: the best-scoring face, its landmarks on the detected
// crop, dlib's square box placed from the eyes and the mouth, and the descriptor of that box.
func (m *Models) Analyse(img *Image) (*Face, error) {
	dets, err := m.Detect(img)
	if err != nil {
		return nil, err
	}
	if len(dets) == 0 {
		return nil, ErrNoFace
	}
	best := dets[0]
	for _, d := range dets[1:] {
		if d.Score > best.Score {
			best = d
		}
	}
	f, err := m.analyse(img, best)
	if err != nil {
		return nil, err
	}
	f.Faces = len(dets)
	return f, nil
}

// AnalyseAll is Analyse for every face the detector finds, best first (face-api's
// detectAllFaces(…).withFaceLandmarks(true).withFaceDescriptors()); faces whose box falls
// outside the picture are left out.
func (m *Models) AnalyseAll(img *Image) ([]*Face, error) {
	dets, err := m.Detect(img)
	if err != nil {
		return nil, err
	}
	var faces []*Face
	for _, d := range dets {
		f, err := m.analyse(img, d)
		if err == ErrNoFace {
			continue
		}
		if err != nil {
			return nil, err
		}
		f.Faces = len(dets)
		faces = append(faces, f)
	}
	return faces, nil
}

// analyse finds the landmarks of one detected face, aligns it and describes it.
func (m *Models) analyse(img *Image, det Detection) (*Face, error) {
	f := &Face{Detection: det}
	cx, cy, cw, ch := clip(det.Box, img.W, img.H)
	if cw <= 0 || ch <= 0 {
		return nil, ErrNoFace
	}
	rel := m.lm.landmarks(img.crop(cx, cy, cw, ch))
	for i, p := range rel {
		f.Landmarks[i] = Point{X: p.X*float64(cw) + det.Box.X, Y: p.Y*float64(ch) + det.Box.Y}
	}
	f.Aligned = alignDlib(&f.Landmarks, cw, ch)
	ax, ay, aw, ah := clip(f.Aligned, img.W, img.H)
	if aw <= 0 || ah <= 0 {
		return nil, ErrNoFace
	}
	f.Descriptor = m.rec.describe(img.crop(ax, ay, aw, ah))
	return f, nil
}

// alignDlib is face-api's FaceLandmarks.alignDlib: a square whose side is the mean
// eye-to-mouth distance / 0.45, placed so that the centre of eyes and mouth sits at 50 %
// across and 43 % down; cropW and cropH are the size of the detection crop the landmarks
// were found on (face-api caps the side with them).
func alignDlib(pts *[68]Point, cropW, cropH int) Rect {
	centre := func(from, to int) Point {
		var s Point
		for _, p := range pts[from:to] {
			s.X += p.X
			s.Y += p.Y
		}
		n := float64(to - from)
		return Point{s.X / n, s.Y / n}
	}
	le, re, mouth := centre(36, 42), centre(42, 48), centre(48, 68)
	dist := func(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }
	size := math.Floor((dist(mouth, le) + dist(mouth, re)) / 2 / 0.45)
	ref := Point{(le.X + re.X + mouth.X) / 3, (le.Y + re.Y + mouth.Y) / 3}
	x := math.Floor(math.Max(0, ref.X-0.5*size))
	y := math.Floor(math.Max(0, ref.Y-0.43*size))
	return Rect{X: x, Y: y, W: math.Min(size, float64(cropW)+x), H: math.Min(size, float64(cropH)+y)}
}

// clip is face-api's Box.clipAtImageBorders: the box cut to the picture, then floored.
func clip(r Rect, imgW, imgH int) (x, y, w, h int) {
	cx, cy := math.Max(r.X, 0), math.Max(r.Y, 0)
	cw := math.Min(r.X+r.W-cx, float64(imgW)-cx)
	ch := math.Min(r.Y+r.H-cy, float64(imgH)-cy)
	return int(math.Floor(cx)), int(math.Floor(cy)), int(math.Floor(cw)), int(math.Floor(ch))
}
