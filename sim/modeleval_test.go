package sim

import (
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	cases := []struct {
		s    []float64
		pos  []bool
		want float64
	}{
		{[]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{[]float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
	}
	for _, c := range cases {
		if got := AUC(c.s, c.pos); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("AUC(%v, %v) = %g, want %g", c.s, c.pos, got, c.want)
		}
	}
	if !math.IsNaN(AUC([]float64{1, 2}, []bool{true, true})) {
		t.Error("AUC with one class should be NaN")
	}
	pts := roc([]float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true})
	if pts[0] != [2]float64{0, 0} || pts[len(pts)-1] != [2]float64{1, 1} {
		t.Errorf("roc %v", pts)
	}
}
