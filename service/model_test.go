package service_test

import (
	"context"
	"strings"
	"testing"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/models"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store/storetest"
)

// TestCheckModel: a database keeps one evidence model. The first service records its own
// (meta and an audit row); another model is refused, naming both; with a reason the switch
// is made and written to the audit trail with both identities, the reason and the actor.
func TestCheckModel(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			cfg := sc.DefaultConfig()
			builtin := models.New(models.Default(), cfg.Catalogue, false)
			open := func(m *models.Model) *service.Service {
				t.Helper()
				opt := service.Options{Config: cfg}
				if m != nil {
					opt.Model = m
				}
				s, err := service.Open(ctx, db, opt)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			if err := open(builtin).CheckModel(ctx, "", "cli"); err != nil {
				t.Fatalf("first use: %v", err)
			}
			id, _ := builtin.Identity()
			if got, _, _ := db.Meta(ctx, "model"); got != id || !strings.HasPrefix(id, "v5:") {
				t.Fatalf("recorded %q, want %q", got, id)
			}
			if err := open(builtin).CheckModel(ctx, "", "cli"); err != nil {
				t.Fatalf("the same model again: %v", err)
			}
			err := open(nil).CheckModel(ctx, "", "cli")
			if sc.ErrorCode(err) != sc.EConflict || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), service.ModelNone) {
				t.Fatalf("the baseline rule on a model's database: %v", err)
			}
			if err := open(nil).CheckModel(ctx, "back to the rule; model under review", "operator"); err != nil {
				t.Fatalf("a switch with a reason: %v", err)
			}
			var detail, actor string
			if err := db.SQL().QueryRow(`SELECT detail, actor FROM audit WHERE kind = 'model' ORDER BY seq DESC LIMIT 1`).Scan(&detail, &actor); err != nil {
				t.Fatal(err)
			}
			if detail != "from="+id+";to=none;reason=back to the rule, model under review" || actor != "operator" {
				t.Errorf("audit row %q by %q", detail, actor)
			}
			if got, _, _ := db.Meta(ctx, "model"); got != service.ModelNone {
				t.Errorf("recorded %q after the switch", got)
			}
		})
	}
}

// TestBuildInAuditTrail: the program that decides is in the audit trail: its identity on
// first use, nothing more while it runs again, a row from the old to the new when another
// program takes the database over (an upgrade, not refused).
func TestBuildInAuditTrail(t *testing.T) {
	for _, dsn := range storetest.DSNs(t) {
		t.Run(dsn.Name, func(t *testing.T) {
			ctx := context.Background()
			db := dsn.Open(t)
			check := func(build string) {
				t.Helper()
				s, err := service.Open(ctx, db, service.Options{Build: build})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.CheckModel(ctx, "", "cli"); err != nil {
					t.Fatal(err)
				}
			}
			rows := func() []string {
				t.Helper()
				r, err := db.SQL().Query(`SELECT detail FROM audit WHERE kind = 'build' ORDER BY seq`)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				var out []string
				for r.Next() {
					var d string
					r.Scan(&d)
					out = append(out, d)
				}
				return out
			}
			check("")
			own := service.BuildIdentity()
			if !strings.Contains(own, "bin:") || !strings.HasPrefix(own, "go") {
				t.Fatalf("build identity %q", own)
			}
			check("")
			check("go1.26 bin:0123456789abcdef")
			want := []string{"to=" + own + ";first=1", "from=" + own + ";to=go1.26 bin:0123456789abcdef"}
			if got := rows(); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("build rows %q, want %q", got, want)
			}
			if got, _, _ := db.Meta(ctx, "build"); got != "go1.26 bin:0123456789abcdef" {
				t.Errorf("meta build %q", got)
			}
		})
	}
}
