package sim

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/silentcert/silentcert"
)

//go:embed data/surnames_wainshine_1k.csv
var surnamesCSV []byte

//go:embed data/given_chars.csv
var givenCSV []byte

// Birth cohorts for given names: before 1950, 1950s, 1960s, 1970 and later.
const nCohorts = 4

func cohortOf(birthYear int) int {
	switch {
	case birthYear < 1950:
		return 0
	case birthYear < 1960:
		return 1
	case birthYear < 1970:
		return 2
	}
	return 3
}

type weighted struct {
	items []string
	cum   []float64
}

func (w *weighted) draw(g *rng) string { return w.items[g.pick(w.cum)] }

// Names draws realistic names: a surname by its frequency and one or two given-name
// characters by sex and birth cohort.
type Names struct {
	source   string
	surnames weighted
	given    [2][nCohorts]weighted // [sex-1][cohort]
}

// Source says where the names come from, for scenario.json.
func (n *Names) Source() string { return n.source }

// DefaultNames returns the names the project ships: surnames from wainshine's
// Chinese-Names-Corpus (Apache-2.0) and the project's own list of common given-name
// characters (see data/SOURCES.md).
func DefaultNames() (*Names, error) {
	n := &Names{source: "default: wainshine surnames (Apache-2.0) + project given-name characters"}
	rows, err := readCSV("data/surnames_wainshine_1k.csv", bytes.NewReader(surnamesCSV), "surname", "tf")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		tf, err := strconv.ParseFloat(r[1], 64)
		if err != nil || tf <= 0 || r[0] == "" {
			continue
		}
		n.surnames.add(r[0], tf)
	}
	rows, err = readCSV("data/given_chars.csv", bytes.NewReader(givenCSV), "sex", "born", "chars")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		sex, err1 := strconv.Atoi(r[0])
		born, err2 := strconv.Atoi(r[1])
		if err1 != nil || err2 != nil || sex < 1 || sex > 2 {
			return nil, fmt.Errorf("data/given_chars.csv: bad row %v", r)
		}
		w := &n.given[sex-1][cohortOf(born)]
		rank := 0
		for _, c := range r[2] {
			// Zipf-like weights by rank: the list is ordered, not measured.
			w.add(string(c), 1/math.Pow(float64(rank+1), 0.7))
			rank++
		}
	}
	return n, n.check()
}

// LoadNames reads the ChineseNames frequency tables (chinesenames_familyname.csv and
// chinesenames_givenname.csv, CC BY-NC-SA: non-commercial use only) from dir at run time.
func LoadNames(dir string) (*Names, error) {
	fam, err := os.Open(filepath.Join(dir, "chinesenames_familyname.csv"))
	if err != nil {
		return nil, err
	}
	defer fam.Close()
	giv, err := os.Open(filepath.Join(dir, "chinesenames_givenname.csv"))
	if err != nil {
		return nil, err
	}
	defer giv.Close()
	n, err := loadNames(fam.Name(), fam, giv.Name(), giv)
	if n != nil {
		n.source = "chinesenames (CC BY-NC-SA, non-commercial) from " + dir
	}
	return n, err
}

// loadNames reads the ChineseNames surname and given-name tables: surnames weighted by
// their ppm, given-name characters by their count in each birth cohort split by sex.
func loadNames(famName string, fam io.Reader, givName string, giv io.Reader) (*Names, error) {
	n := &Names{}
	rows, err := readCSV(famName, fam, "surname", "ppm.1930_2008")
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		ppm, err := strconv.ParseFloat(r[1], 64)
		if err == nil && ppm > 0 && ppm < 1e7 && r[0] != "" {
			n.surnames.add(r[0], ppm)
		}
	}
	cols := []string{"character", "n.male", "n.female", "n.1930_1959", "n.1960_1969", "n.1970_1979", "n.1980_1989"}
	rows, err = readCSV(givName, giv, cols...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		var v [7]float64
		ok := true
		for i := 1; i < 7; i++ {
			if v[i], err = strconv.ParseFloat(r[i], 64); err != nil || v[i] < 0 || v[i] > 1e12 {
				ok = false
			}
		}
		if !ok || r[0] == "" || v[1]+v[2] <= 0 {
			continue
		}
		for sex := 0; sex < 2; sex++ {
			frac := v[1+sex] / (v[1] + v[2])
			for c := 0; c < nCohorts; c++ {
				if w := v[3+c] * frac; w >= 50 {
					n.given[sex][c].add(r[0], w)
				}
			}
		}
	}
	if err := n.check(); err != nil {
		return nil, err
	}
	return n, nil
}

func (w *weighted) add(item string, weight float64) {
	last := 0.0
	if len(w.cum) > 0 {
		last = w.cum[len(w.cum)-1]
	}
	w.items = append(w.items, item)
	w.cum = append(w.cum, last+weight)
}

func (n *Names) check() error {
	if len(n.surnames.items) == 0 {
		return fmt.Errorf("names: no surnames")
	}
	for s := 0; s < 2; s++ {
		for c := 0; c < nCohorts; c++ {
			if len(n.given[s][c].items) < 2 {
				return fmt.Errorf("names: too few given-name characters for sex %d cohort %d", s+1, c)
			}
		}
	}
	return nil
}

// Transliterated Uyghur name parts, written with the middle dot as ID cards do.
var (
	minorityMale   = []string{"买买提", "艾力", "阿不都热合曼", "吐尔逊", "依明", "艾尼瓦尔", "阿布力孜", "努尔买买提"}
	minorityFemale = []string{"阿依古丽", "古丽娜尔", "帕提古丽", "热依汗古丽", "阿米娜", "祖丽菲亚"}
)

// draw returns a name for a person of sex born in birthYear.
func (n *Names) draw(g *rng, sex, birthYear int, singleShare, minorityShare float64) string {
	if g.chance(minorityShare) {
		own := minorityMale
		if sex == 2 {
			own = minorityFemale
		}
		return own[g.intn(len(own))] + "·" + minorityMale[g.intn(len(minorityMale))]
	}
	surname := n.surnames.draw(g)
	return surname + n.givenName(g, sex, birthYear, singleShare)
}

// givenName draws one or two given-name characters for a person of sex born in birthYear.
func (n *Names) givenName(g *rng, sex, birthYear int, singleShare float64) string {
	w := &n.given[sex-1][cohortOf(birthYear)]
	first := w.draw(g)
	if g.chance(singleShare) {
		return first
	}
	second := w.draw(g)
	for i := 0; second == first && i < 3 && !g.chance(0.05); i++ {
		second = w.draw(g) // reduplicated names (丽丽) exist but are rare
	}
	return first + second
}

// surnameOf returns the longest known surname name starts with, or "" for none or for a
// minority name (written in full, with a middle dot).
func (n *Names) surnameOf(name string) string {
	best := ""
	if strings.Contains(name, "·") {
		return ""
	}
	for _, s := range n.surnames.items {
		if len(s) > len(best) && strings.HasPrefix(name, s) {
			best = s
		}
	}
	return best
}

// otherName returns a name other than b's own for a roster row of theirs filed under
// another (faults.roster_name_conflict): half the time a relative's, a spouse's (the
// other sex, about the same age), half the time b's surname with another given name.
func (gen *generator) otherName(g *rng, b *base) string {
	pop := &gen.rates.Population
	by, _, _ := b.birth.Civil()
	for range 8 {
		var name string
		if sur := gen.names.surnameOf(b.name); sur == "" || g.chance(0.5) {
			name = gen.names.draw(g, 3-b.sex, by+g.between(-5, 5), pop.SingleCharName, pop.MinorityNames)
		} else {
			name = sur + gen.names.givenName(g, b.sex, by, pop.SingleCharName)
		}
		if name != b.name {
			return name
		}
	}
	return mistype(b.name)
}

// readCSV reads a CSV with a header and returns the named columns of every row.
func readCSV(name string, r io.Reader, cols ...string) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, h := range head {
			if strings.EqualFold(strings.TrimSpace(h), c) {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, silentcert.Errorf(silentcert.EInvalid, "%s: no column %q", name, c)
		}
	}
	var out [][]string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %v", name, line, err)
		}
		row := make([]string, len(cols))
		for i, j := range idx {
			if j < len(rec) {
				row[i] = strings.TrimSpace(rec[j])
			}
		}
		out = append(out, row)
	}
}
