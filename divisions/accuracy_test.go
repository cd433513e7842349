package divisions

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// testProvinces are the provinces the noisy test set samples, villages per prefix: Weihai
// (3710) and the rest of Shandong, Beijing, Jiangsu, Guangdong (with Dongguan's
// county-less towns), Sichuan and Yunnan (autonomous prefectures), Inner Mongolia (盟, 旗,
// 嘎查).
var testProvinces = map[string]int{
	"3710": 500, "37": 500, "11": 250, "32": 300, "44": 300, "4419": 100, "51": 300, "53": 250, "15": 200,
}

type rates struct{ n, exact, wrongConfident, ambiguous int }

func (r rates) String() string {
	return fmt.Sprintf("%d/%d = %.4f (ambiguous %d, confident wrong %d)", r.exact, r.n, float64(r.exact)/float64(r.n), r.ambiguous, r.wrongConfident)
}

func (r *rates) add(res Result, want string) {
	r.n++
	switch {
	case res.Code == want && !res.Ambiguous:
		r.exact++
	case res.Ambiguous:
		r.ambiguous++
	case res.Level == LevelVillage && res.Confidence >= DefaultMinConfidence:
		r.wrongConfident++
	}
}

func TestAccuracy(t *testing.T) {
	tab := mustEmbedded(t)
	r := NewResolver(tab, Options{})
	rng := rand.New(rand.NewPCG(2023, 8))
	vs := sampleVillages(tab, rng, testProvinces)
	pool := charPool(vs)
	var clean, variant, typo rates
	var fails [3][]string
	note := func(i int, addr string, res Result, want string) {
		wrong := res.Code != want && !res.Ambiguous && res.Level == LevelVillage && res.Confidence >= DefaultMinConfidence
		if (res.Code != want || res.Ambiguous) && (len(fails[i]) < 5 || wrong && len(fails[i]) < 40) {
			if wrong {
				addr = "CONFIDENT WRONG " + addr
			}
			fails[i] = append(fails[i], fmt.Sprintf("%s → %s %v %.2f %v %s (want %s %s)", addr, res.Code, res.Level, res.Confidence, res.Candidates, pathNames(tab, res.Code), want, pathNames(tab, want)))
		}
	}
	for _, v := range vs {
		a := cleanAddress(tab, rng, v.Code)
		res := r.Resolve(a)
		clean.add(res, v.Code)
		note(0, a, res, v.Code)
		a = variantAddress(tab, rng, v.Code)
		res = r.Resolve(a)
		variant.add(res, v.Code)
		note(1, a, res, v.Code)
		a = typoAddress(tab, rng, v.Code, pool)
		res = r.Resolve(a)
		typo.add(res, v.Code)
		note(2, a, res, v.Code)
	}
	t.Logf("clean:   %v", clean)
	t.Logf("variant: %v", variant)
	t.Logf("typo:    %v", typo)
	for i, name := range []string{"clean", "variant", "typo"} {
		for _, f := range fails[i] {
			t.Logf("%s miss: %s", name, f)
		}
	}
	for _, c := range []struct {
		name string
		r    rates
		min  float64
	}{{"clean", clean, 0.99}, {"variant", variant, 0.95}, {"typo", typo, 0.90}} {
		if got := float64(c.r.exact) / float64(c.r.n); got < c.min {
			t.Errorf("%s: exact village rate %.4f < %.2f", c.name, got, c.min)
		}
	}
}

func pathNames(t *Table, code string) string {
	var s []string
	for _, d := range t.Path(code) {
		s = append(s, d.Name)
	}
	return strings.Join(s, "/")
}
