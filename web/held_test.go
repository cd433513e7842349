package web_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestHeld: a death whose name disagrees with the roster's is held (spec §3) and stops no
// payment; the city's operator finds it on the list of held records, the person beside
// it (nothing listed them: the batches page only counted them); staff of a region do not.
func TestHeld(t *testing.T) {
	c := newCity(t, storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "h.db")))
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "PSB", Actor: "test", Day: today,
		Files: []service.File{{Name: "d.csv", Body: strings.NewReader("record_id,source,type,person_id,name,event_date,reported_date\nDX1,PSB,PSB.DEATH_DEREG," + zhang + ",张山,2024-05-01,2024-05-09\n")}}}); err != nil {
		t.Fatal(err)
	}
	op := c.clientAs(t, "operator")
	st, body := op.get("/held")
	if st != http.StatusOK || !strings.Contains(body, "PSB:DX1") || !strings.Contains(body, "张山") || !strings.Contains(body, "张三") || !strings.Contains(body, `class="bad"`) {
		t.Fatalf("the held records: %d\n%s", st, body)
	}
	if _, body := op.get("/batches"); !strings.Contains(body, `<a href="/held">1</a>`) {
		t.Error("the batches page does not link its held count to the list")
	}
	if st, _ := c.clientAs(t, "town").get("/held"); st != http.StatusForbidden {
		t.Errorf("a town's look at the held records: %d", st)
	}
	// Many held (name typos a department repeats): the page lists 500, the death first,
	// and says how many there are (it listed every one, a query each).
	var b strings.Builder
	b.WriteString("record_id,source,type,person_id,name,event_date,reported_date\n")
	for i := range 510 {
		fmt.Fprintf(&b, "OP%d,MED,MED.OUTPATIENT,%s,张山,2024-05-01,2024-05-10\n", i, zhang)
	}
	if _, err := c.svc.Ingest(context.Background(), service.Batch{Origin: "api", Source: "MED", Actor: "test", Day: today,
		Files: []service.File{{Name: "m.csv", Body: strings.NewReader(b.String())}}}); err != nil {
		t.Fatal(err)
	}
	_, body = op.get("/held")
	if n := strings.Count(body, "<tr"); n != 501 || !strings.Contains(body, "仅显示前 500 条(共 511 条)") {
		t.Errorf("%d rows (header included), want 501 and the note", n)
	}
	if i, j := strings.Index(body, "PSB:DX1"), strings.Index(body, "MED:OP"); i < 0 || j < 0 || i > j {
		t.Error("the held death is not first")
	}
}
