package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/silentcert/silentcert/divisions"
)

// village is one village or community committee (村委会/居委会) people live in.
type village struct {
	code   string // 12 digits
	name   string // official name, e.g. "王家疃村委会"
	base   string // the name without its committee suffix, e.g. "王家疃"
	town   string // town or street name
	county string // county name
	urban  bool   // a community (居委会/社区) rather than a village (村委会)
}

// city is a prefecture: every village under it, split into urban and rural, with weights.
type city struct {
	code, name, province string
	villages             []village
	urban, rural         []int32   // indexes into villages
	urbanCum, ruralCum   []float64 // cumulative size weights
	counties             []string  // county codes of the city
	elsewhere            []string  // county codes of the rest of the province (for ID numbers)
}

var committeeSuffixes = []string{"社区居民委员会", "社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "委员会", "社区"}

// urbanByName classifies a committee by its official name; NBS numbers 居委会 001–199 and
// 村委会 200–399, which decides when the name does not.
func urbanByName(code, name string) bool {
	switch {
	case strings.HasSuffix(name, "村民委员会") || strings.HasSuffix(name, "村委会"):
		return false
	case strings.HasSuffix(name, "居民委员会") || strings.HasSuffix(name, "居委会") || strings.HasSuffix(name, "社区"):
		return true
	}
	n, err := strconv.Atoi(code[9:12])
	return err == nil && n < 200
}

func baseName(name string) string {
	for _, s := range committeeSuffixes {
		if b, ok := strings.CutSuffix(name, s); ok && b != "" {
			return b
		}
	}
	return name
}

// newCity loads the prefecture code (4 digits) from the division table. Village sizes are
// drawn once from the code (not the seed), so a city has the same shape in every run.
func newCity(t *divisions.Table, code string, sigma float64) (*city, error) {
	if len(code) != 4 {
		return nil, fmt.Errorf("city %q: want a 4-digit prefecture code (e.g. 3710 for Weihai)", code)
	}
	pref, ok := t.Lookup(code)
	if !ok {
		return nil, fmt.Errorf("city %s is not in the NBS 2023 division table", code)
	}
	prov, _ := t.Lookup(code[:2])
	c := &city{code: code, name: pref.Name, province: prov.Name}
	if c.name == "市辖区" || c.name == "县" {
		c.name = prov.Name // a municipality's placeholder row: the city is the province
	}
	names := map[string]string{}
	for _, d := range t.Under(code, divisions.LevelCounty) {
		names[d.Code] = d.Name
		c.counties = append(c.counties, d.Code)
	}
	for _, d := range t.Under(code, divisions.LevelTown) {
		names[d.Code] = d.Name
	}
	for _, d := range t.Under(code[:2], divisions.LevelCounty) {
		if !strings.HasPrefix(d.Code, code) {
			c.elsewhere = append(c.elsewhere, d.Code)
		}
	}
	for _, d := range t.Under(code, divisions.LevelVillage) {
		v := village{code: d.Code, name: d.Name, base: baseName(d.Name), town: names[d.Code[:9]], county: names[d.Code[:6]],
			urban: urbanByName(d.Code, d.Name)}
		if v.county == "" {
			v.county = c.name
		}
		i := int32(len(c.villages))
		c.villages = append(c.villages, v)
		u := float64(mix(hashString(d.Code), 77)>>11) / (1 << 53)
		w := math.Exp(sigma * normalQuantile(u))
		if v.urban {
			c.urban = append(c.urban, i)
			c.urbanCum = append(c.urbanCum, last(c.urbanCum)+w)
		} else {
			c.rural = append(c.rural, i)
			c.ruralCum = append(c.ruralCum, last(c.ruralCum)+w)
		}
	}
	if len(c.villages) == 0 {
		return nil, fmt.Errorf("city %s (%s) has no villages in the division table", code, c.name)
	}
	if len(c.elsewhere) == 0 {
		c.elsewhere = c.counties
	}
	return c, nil
}

func last(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// normalQuantile is the inverse standard normal CDF (Acklam's rational approximation),
// enough for drawing village sizes from a fixed uniform.
func normalQuantile(p float64) float64 {
	if p <= 0 {
		p = 1e-12
	}
	if p >= 1 {
		p = 1 - 1e-12
	}
	a := [6]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := [5]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	cc := [6]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := [4]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	switch {
	case p < 0.02425:
		q := math.Sqrt(-2 * math.Log(p))
		return (((((cc[0]*q+cc[1])*q+cc[2])*q+cc[3])*q+cc[4])*q + cc[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p > 1-0.02425:
		q := math.Sqrt(-2 * math.Log(1-p))
		return -(((((cc[0]*q+cc[1])*q+cc[2])*q+cc[3])*q+cc[4])*q + cc[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	}
	q := p - 0.5
	r := q * q
	return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
}

// pickVillage draws a village of the wanted kind, falling back to the other kind when the
// city has none.
func (c *city) pickVillage(g *rng, urban bool) int32 {
	if urban && len(c.urban) == 0 {
		urban = false
	}
	if !urban && len(c.rural) == 0 {
		urban = true
	}
	if urban {
		return c.urban[g.pick(c.urbanCum)]
	}
	return c.rural[g.pick(c.ruralCum)]
}

var cnDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// address writes a registered address the way people write one: levels left out,
// committee suffix variants (村, 村委会, 社区, 居委会…), a 组, a house or flat number.
func (c *city) address(g *rng, v *village) string {
	var b strings.Builder
	b.Grow(96)
	full := g.chance(0.3)
	if full {
		b.WriteString(c.province)
	}
	if full || g.chance(0.55) {
		if c.name != c.province {
			b.WriteString(c.name)
		}
	}
	if g.chance(0.88) {
		b.WriteString(v.county)
	}
	if g.chance(0.8) {
		b.WriteString(v.town)
	}
	x := g.float()
	if v.urban {
		switch {
		case x < 0.1:
			b.WriteString(v.name)
		case x < 0.55:
			b.WriteString(v.base)
			if !strings.HasSuffix(v.base, "社区") {
				b.WriteString("社区")
			}
		case x < 0.72:
			b.WriteString(v.base)
			b.WriteString("居委会")
		case x < 0.82:
			b.WriteString(v.base)
			b.WriteString("社区居委会")
		default:
			b.WriteString(v.base)
		}
		switch y := g.float(); {
		case y < 0.45:
			b.WriteString(strconv.Itoa(g.between(1, 40)))
			b.WriteString("号楼")
			b.WriteString(strconv.Itoa(g.between(1, 6)))
			b.WriteString("单元")
			b.WriteString(strconv.Itoa(g.between(1, 7)*100 + g.between(1, 4)))
			if g.chance(0.5) {
				b.WriteString("室")
			}
		case y < 0.8:
			b.WriteString(v.base)
			b.WriteString("小区")
			b.WriteString(strconv.Itoa(g.between(1, 30)))
			b.WriteString("号")
		case y < 0.9:
			b.WriteString(fullWidth(strconv.Itoa(g.between(1, 200))))
			b.WriteString("号")
		}
	} else {
		switch {
		case x < 0.55:
			b.WriteString(v.base)
			if !strings.HasSuffix(v.base, "村") {
				b.WriteString("村")
			}
		case x < 0.67:
			b.WriteString(v.base)
			b.WriteString("村委会")
		case x < 0.72:
			b.WriteString(v.name)
		default:
			b.WriteString(v.base)
		}
		if g.chance(0.3) {
			n := g.between(1, 9)
			if g.chance(0.6) {
				b.WriteString(cnDigits[n])
			} else {
				b.WriteString(strconv.Itoa(n))
			}
			b.WriteString("组")
		}
		if g.chance(0.7) {
			b.WriteString(strconv.Itoa(g.between(1, 320)))
			b.WriteString("号")
		}
	}
	return b.String()
}

func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			r += '０' - '0'
		}
		b.WriteRune(r)
	}
	return b.String()
}
