package face

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOutSizeIsTensorFlows(t *testing.T) {
	for _, c := range []struct {
		in, k, s  int
		same      bool
		out, lead int
	}{
		{150, 7, 2, false, 72, 0}, // the recogniser's first layer
		{72, 3, 2, false, 35, 0},  // its max pool
		{35, 3, 1, true, 35, 1},
		{207, 2, 2, true, 104, 0}, // the odd pixel padded at the end
		{13, 2, 1, true, 13, 0},
		{112, 3, 2, true, 56, 0},
	} {
		out, lead := outSize(c.in, c.k, c.s, c.same)
		if out != c.out || lead != c.lead {
			t.Errorf("outSize(%d, %d, %d, %v) = %d, %d; want %d, %d", c.in, c.k, c.s, c.same, out, lead, c.out, c.lead)
		}
	}
}

func TestPadToSquareCentred(t *testing.T) {
	x := newTensor(5, 2, 1) // 5 high, 2 wide: 3 columns to add
	for i := range x.d {
		x.d[i] = 1
	}
	y := padToSquare(x, true)
	if y.h != 5 || y.w != 5 {
		t.Fatalf("%d×%d, want 5×5", y.h, y.w)
	}
	// face-api puts round(3/2) = 2 columns after the picture and 1 before.
	row := y.d[:5]
	if want := []float32{0, 1, 1, 0, 0}; !equal(row, want) {
		t.Errorf("first row %v, want %v", row, want)
	}
	y = padToSquare(x, false)
	if want := []float32{1, 1, 0, 0, 0}; !equal(y.d[:5], want) {
		t.Errorf("not centred: first row %v, want %v", y.d[:5], want)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResizeBilinearCorners(t *testing.T) {
	x := &tensor{h: 2, w: 2, c: 1, d: []float32{0, 10, 20, 30}}
	y := resizeBilinear(x, 4, 4)
	// TF without align corners: source = out × in/out, the last rows repeat the edge.
	want := []float32{0, 5, 10, 10, 10, 15, 20, 20, 20, 25, 30, 30, 20, 25, 30, 30}
	if !equal(y.d, want) {
		t.Errorf("got %v, want %v", y.d, want)
	}
}

func TestDistanceAndCosine(t *testing.T) {
	var a, b Descriptor
	a[0], b[1] = 3, 4
	if d := Distance(a, b); d != 5 {
		t.Errorf("Distance = %v, want 5", d)
	}
	if c := Cosine(a, b); c != 0 {
		t.Errorf("Cosine of orthogonal = %v, want 0", c)
	}
	if c := Cosine(a, a); math.Abs(c-1) > 1e-12 {
		t.Errorf("Cosine of itself = %v, want 1", c)
	}
	if c := Cosine(a, Descriptor{}); c != 0 {
		t.Errorf("Cosine with zero = %v, want 0", c)
	}
}

func TestLoadWeightsDequantises(t *testing.T) {
	dir := t.TempDir()
	manifest := `[{"paths":["m.bin"],"weights":[
	 {"name":"q","shape":[2,2],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}},
	 {"name":"f","shape":[1],"dtype":"float32"}]}]`
	if err := os.WriteFile(filepath.Join(dir, "m-weights_manifest.json"), []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	shard := []byte{0, 1, 2, 255, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(shard[4:], math.Float32bits(1.25))
	if err := os.WriteFile(filepath.Join(dir, "m.bin"), shard, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := loadWeights(dir, "m")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w["q"].d, []float32{-1, -0.5, 0, 126.5}; !equal(got, want) {
		t.Errorf("q = %v, want %v", got, want)
	}
	if got := w["f"].d; !equal(got, []float32{1.25}) {
		t.Errorf("f = %v, want [1.25]", got)
	}
	if _, err := w.get("m", "q", 4); err == nil || !strings.Contains(err.Error(), "rank 4") {
		t.Errorf("wrong rank: err %v", err)
	}
	// a shard cut short is an error naming the weight.
	if err := os.WriteFile(filepath.Join(dir, "m.bin"), shard[:6], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadWeights(dir, "m"); err == nil || !strings.Contains(err.Error(), "weight f") {
		t.Errorf("short shard: err %v", err)
	}
	if _, err := loadWeights(dir, "absent"); err == nil || !strings.Contains(err.Error(), "fetch.sh") {
		t.Errorf("missing model: err %v", err)
	}
}
