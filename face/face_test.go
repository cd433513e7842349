package face

import (
	"encoding/json"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pkgDir is where face/fetch.sh puts the npm package.
const pkgDir = "testdata/npm/package"

// needPackage skips when the package was not fetched, except under CI=true, where a missing
// package is a failure.
func needPackage(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pkgDir, "model", recogniserModel+"-weights_manifest.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the face-api package is missing (%v): run face/fetch.sh", err)
		}
		t.Skipf("the face-api package is missing (%v): run face/fetch.sh", err)
	}
}

var loaded *Models

func models(t testing.TB) *Models {
	t.Helper()
	needPackage(t)
	if loaded == nil {
		m, err := Load(filepath.Join(pkgDir, "model"))
		if err != nil {
			t.Fatal(err)
		}
		loaded = m
	}
	return loaded
}

// samples are the demo photos the package ships.
var samples = []string{"sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"}

func readSample(t testing.TB, name string) *Image {
	t.Helper()
	f, err := os.Open(filepath.Join(pkgDir, "demo", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return FromImage(img)
}

// jsResult is one line of testdata/reference.mjs's output.
type jsResult struct {
	Name       string
	Faces      int
	Score      float64
	Box        *struct{ X, Y, W, H float64 }
	Aligned    *struct{ X, Y, W, H float64 }
	Landmarks  [][2]float64
	Descriptor []float64
}

type jsJob struct {
	Name   string `json:"name"`
	Raw    string `json:"raw"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Mode   string `json:"mode"`
}

// runJS runs face-api's own JavaScript (testdata/reference.mjs, Node) on the same pixels.
func runJS(t *testing.T, imgs map[string]*Image, modes map[string]string, order []string) map[string]jsResult {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is needed to run face-api's JavaScript")
		}
		t.Skip("node is needed to run face-api's JavaScript")
	}
	dir := t.TempDir()
	var jobs []jsJob
	for _, name := range order {
		m := imgs[name]
		raw := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".rgb")
		if err := os.WriteFile(raw, m.RGB(), 0o600); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, jsJob{Name: name, Raw: raw, Width: m.W, Height: m.H, Mode: modes[name]})
	}
	jf := filepath.Join(dir, "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "--no-warnings", "testdata/reference.mjs", pkgDir, jf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/reference.mjs: %v\n%s", err, stderr.String())
	}
	var res []jsResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reference output: %v", err)
	}
	byName := map[string]jsResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	return byName
}

func toDescriptor(t *testing.T, v []float64) Descriptor {
	t.Helper()
	var d Descriptor
	if len(v) != DescriptorSize {
		t.Fatalf("JavaScript descriptor has %d numbers", len(v))
	}
	for i, x := range v {
		d[i] = float32(x)
	}
	return d
}

// TestNoFace checks that a picture without a face is ErrNoFace, not a face, and that a
// malformed picture is an error.
func TestNoFace(t *testing.T) {
	m := models(t)
	grey := &Image{W: 320, H: 240, Pix: make([]float32, 3*320*240)}
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	if f, err := m.Analyse(grey); err != ErrNoFace {
		t.Errorf("grey picture: %+v, %v; want ErrNoFace", f, err)
	}
	if _, err := m.Analyse(&Image{W: 2, H: 2, Pix: make([]float32, 5)}); err == nil {
		t.Error("a picture whose pixels do not match its size was accepted")
	}
}
