package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestSearchMore: a search that more than a hundred people match shows the first hundred,
// by name then ID number, and says that there are more (in Chinese and in English); a
// hundred exactly are all shown, and nothing is said.
func TestSearchMore(t *testing.T) {
	c := newCity(t, storetest.DSNs(t)[0].Open(t))
	ctx := context.Background()
	var top int64
	if err := c.db.SQL().QueryRow(`SELECT max(pid) FROM people`).Scan(&top); err != nil {
		t.Fatal(err)
	}
	// A hundred named 欧阳明… and one 欧阳红, whose ID number comes before theirs: the ID
	// numbers run against the names.
	type who struct {
		name, id string
		pid      int64
	}
	var all []who
	var ps []*store.Person
	for i := range 101 {
		w := who{name: "欧阳明" + string([]rune("甲乙丙丁")[i%4]), id: fmt.Sprintf("3710021950010%05d", 200-i), pid: top + 1 + int64(i)}
		if i == 100 {
			w.name = "欧阳红"
		}
		all = append(all, w)
		ps = append(ps, &store.Person{PID: w.pid, Rec: sc.Recipient{PersonID: w.id, Name: w.name, Sex: 1, BirthDate: 100,
			RegionCode: "371002001001", LastCertified: sc.NoDate}, NextCheck: sc.NoDate, State: []byte{1}})
	}
	tx, err := c.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.PutPeople(ps); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b who) int { return strings.Compare(a.name+" "+a.id, b.name+" "+b.id) })
	var want []string
	for _, w := range all[:100] {
		want = append(want, fmt.Sprint(w.pid))
	}
	link := regexp.MustCompile(`<a href="/person/(\d+)">`)
	shown := func(page string) []string {
		var out []string
		for _, m := range link.FindAllStringSubmatch(page, -1) {
			out = append(out, m[1])
		}
		return out
	}
	op := c.client(t)
	op.login("operator")
	_, page := op.get("/search?q=" + url.QueryEscape("欧阳"))
	if got := shown(page); !slices.Equal(got, want) {
		t.Errorf("the hundred shown, by name then ID number:\n%v\nwant\n%v", got, want)
	}
	if !strings.Contains(page, `<p class="error" id="more">仅显示前 100 人`) {
		t.Errorf("the page does not say that only the first hundred are shown")
	}
	// A hundred exactly: all, and nothing said.
	_, page = op.get("/search?q=" + url.QueryEscape("欧阳明"))
	if got := shown(page); !slices.Equal(got, want) || strings.Contains(page, `id="more"`) {
		t.Errorf("a hundred found: %d shown, said more: %v", len(got), strings.Contains(page, `id="more"`))
	}
	op.get("/")
	op.post("/lang", url.Values{"csrf": {op.csrf}, "lang": {"en"}})
	if _, page = op.get("/search?q=" + url.QueryEscape("欧阳")); !strings.Contains(page, `id="more">Only the first 100 are shown`) {
		t.Errorf("the English page does not say that only the first hundred are shown")
	}
}
