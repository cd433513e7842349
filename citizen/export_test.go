package citizen

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// What the external tests of this folder (package citizen_test) use: they drive the
// staff console of package web too, which imports this package, so they cannot be in it.

// City is the golden scenario's city with the citizen's site (newCity), as the external
// tests see it.
type City struct {
	DB      *store.DB
	Svc     *service.Service
	Handler http.Handler // the citizen's site, to mount at /c/
	Now     func() time.Time
	c       *city
}

// NewCity is newCity for the external tests.
func NewCity(t testing.TB, db *store.DB, m *face.Models) *City {
	c := newCity(t, db, m)
	return &City{DB: c.db, Svc: c.svc, Handler: c.h, Now: c.clock.Now, c: c}
}

// Code waits for the next SMS code and returns it with the phone it went to.
func (c *City) Code(t testing.TB) (code, phone string) { return c.c.code(t) }

// PID is a person's pid.
func (c *City) PID(t testing.TB, personID string) int64 { return c.c.pid(t, personID) }

// ImportIDPhoto imports a person's ID-card photo at the city's time.
func (c *City) ImportIDPhoto(t testing.TB, personID string, jpeg []byte) {
	t.Helper()
	if err := importPhoto(context.Background(), c.DB, personID, jpeg, c.Now(), "test"); err != nil {
		t.Fatal(err)
	}
}

// Models, Demo and BlinkCamera are the helpers of the same names for the external tests.
func Models(t testing.TB) *face.Models { return testModels(t) }

func Demo(t testing.TB, name string) []byte {
	_, b := demo(t, name)
	return b
}

func BlinkCamera(t testing.TB, m *face.Models, shift int) string { return blinkCamera(t, m, shift) }

// Phones of the scenario's 张三.
const (
	Zhang      = zhang
	ZhangAgent = zhangAgent
)
