package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/api"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/sim"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/web"
)

func init() {
	register("demo", "simulate a city into a database and serve the console and the API on it", runDemo)
}

// demoPassword is every demo account's password: printed, never for production.
const demoPassword = "silentcert-demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "[--addr HOST:PORT] [--db PATH] [--recipients N] [--seed S]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	path := fs.String("db", "silentcert-demo.db", "SQLite file; built by simulating a city when it does not exist")
	city := fs.String("city", "3710", "4-digit prefecture code to simulate (3710 = Weihai)")
	n := fs.Int("recipients", 20000, "recipients to simulate")
	from := fs.String("from", "2024-01-01", "first simulated day")
	to := fs.String("to", "2025-12-31", "last simulated day: the console's today")
	seed := fs.Uint64("seed", 42, "simulation seed")
	quiet := fs.Bool("quiet", false, "no progress lines")
	modelPath := fs.String("model", "builtin", "evidence model (WEAK by score, the fraud-risk list): \"builtin\", a file from silentcert train, or \"\" for the baseline rule alone")
	change := fs.String("model-change", "", modelChangeHelp)
	configChange := fs.String("config-change", "", "the reason for going on under a release's built-in configuration other than the one the demo was built with (written to the audit trail)")
	faceModels := fs.String("face-models", "face/testdata/npm/package/model", "folder of the face models (face/fetch.sh); missing: the pensioner's pages work but face capture answers that it is unavailable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig("")
	if err != nil {
		return err
	}
	model, err := serviceModel(*modelPath, cfg)
	if err != nil {
		return err
	}
	f, t, err := parseWindow(*from, *to)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*path); errors.Is(err, os.ErrNotExist) {
		if err := buildDemo(ctx, *path, *city, *n, f, t, *seed, model, *quiet, stderr); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	db, err := store.Open(ctx, "sqlite:"+*path)
	if err != nil {
		return err
	}
	defer db.Close()
	last, err := db.LastRun(ctx)
	if err != nil {
		return err
	}
	if last == sc.NoDate {
		return fmt.Errorf("%s holds no run: delete it and start demo again", *path)
	}
	// Visits recorded in an earlier session show on the dashboard from this start on.
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.RefreshSummary(last); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	logins, err := demoAccounts(ctx, db, *city, last)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The demo's world stops on its last simulated day: the service, the console and
	// ingestion all take that day as today. Its hours are the wall clock's (Beijing
	// time), so that codes, sessions and rate-limit windows end as the pages say.
	clock := demoClock(last, time.Now)
	svc, err := service.Open(ctx, db, service.Options{Log: log, Now: clock, ResolveRegion: regionResolver(*city), Model: model})
	if err != nil {
		return err
	}
	if err := svc.CheckModel(ctx, *change, "demo"); err != nil {
		return fmt.Errorf("%w (or delete %s to build the demo again)", err, *path)
	}
	if err := svc.CheckConfig(ctx, *configChange, "demo"); err != nil {
		return fmt.Errorf("%w (or delete %s to build the demo again)", err, *path)
	}
	// Sessions and lockouts keep the wall clock; the audit rows take the demo's day.
	accounts := auth.New(db, auth.Options{Today: func() sc.Date { return last }})
	// The console's clock is the pensioner's pages' (a link made on the demo's day is not
	// expired on the person page, a face review decided on it is not a year late).
	console, err := web.New(web.Options{DB: db, Auth: accounts, Ingest: web.FromService(svc), Faces: web.FromCitizen(db, svc), Recoveries: svc, Log: log,
		Now: clock, Today: func() sc.Date { return last }, Benefits: svc.Config().Benefits, Catalogue: svc.Config().Catalogue, WarningMonths: svc.Config().Policy.WarningMonths})
	if err != nil {
		return err
	}
	// The pensioner's pages (/c/), as serve mounts them; the SMS codes they send are
	// printed here, since a demo has no gateway.
	fm, faceErr := face.Load(*faceModels)
	citizens, err := citizen.New(citizen.Options{DB: db, Service: svc, Sender: &demoSMS{w: stdout}, Face: fm, Log: log, Now: clock})
	if err != nil {
		return err
	}
	link, who, err := demoLink(ctx, db, logins, last, clock())
	if err != nil {
		return err
	}
	apiH := api.New(api.Options{Service: svc, Keys: accounts, Log: log})
	mux := http.NewServeMux()
	mux.Handle("/c/", web.Compress(citizens))
	mux.Handle("/api/", apiH)
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, apiH)
	}
	mux.Handle("/", console)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "silentcert demo: %s, today %s\nconsole: http://%s/\nlogins (password %q):\n", *path, last, ln.Addr(), demoPassword)
	for _, l := range logins {
		fmt.Fprintf(stdout, "  %-9s %-9s %s\n", l.name, l.role, l.region)
	}
	if link != "" {
		fmt.Fprintf(stdout, "a pensioner's reminder link: http://%s%s (%s; the SMS code is printed here)\n", ln.Addr(), link, who)
	} else {
		fmt.Fprintf(stdout, "a pensioner's reminder link: none (no one due soon with a phone in the village; /c/login takes the whole ID number)\n")
	}
	if faceErr != nil {
		fmt.Fprintf(stdout, "face capture: unavailable, no face models in %s (face/fetch.sh fetches them)\n", *faceModels)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// demoClock is the demo's time: its day with now's time of day in Beijing time. It runs
// as the wall clock does within a day and goes back to the day's midnight when the wall
// clock passes one (a rate-limit window begun "later" then starts again: see citizen's hit).
func demoClock(day sc.Date, now func() time.Time) func() time.Time {
	loc := time.FixedZone("CST", 8*3600)
	y, m, d := day.Civil()
	return func() time.Time {
		w := now().In(loc)
		return time.Date(y, time.Month(m), d, w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	}
}

// demoSMS prints the texts the pensioner's pages send (login codes) instead of sending
// them, with the phone masked.
type demoSMS struct {
	mu sync.Mutex
	w  io.Writer
}

func (d *demoSMS) SendSMS(_ context.Context, phone, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := fmt.Fprintf(d.w, "demo SMS to %s: %s\n", idcard.MaskPhone(phone), text)
	return err
}

// demoLink makes a reminder link for someone of the first village account's village whose
// certification is due soon, as a reminder would carry: the pensioner's side of the demo.
func demoLink(ctx context.Context, db *store.DB, logins []demoLogin, today sc.Date, now time.Time) (link, who string, err error) {
	for _, l := range logins {
		if l.role != auth.RoleVillage {
			continue
		}
		rows, _, err := db.Work(ctx, store.WorkQuery{List: store.WorkWarning, Prefix: l.region, Today: today, From: sc.NoDate, To: sc.NoDate, Limit: 20})
		if err != nil {
			return "", "", err
		}
		for _, r := range rows {
			if r.Phone == "" || len(r.PersonID) != 18 {
				continue
			}
			link, err := citizen.NewLink(ctx, db, r.PID, now, now.Add(linkLife))
			if err != nil {
				return "", "", err
			}
			return link, fmt.Sprintf("ID number ending %s, in the village of account %s", r.PersonID[14:], l.name), nil
		}
	}
	return "", "", nil
}

// buildDemo simulates the city into a temporary directory and replays it into a new
// SQLite file, written beside path and renamed into place only when whole.
func buildDemo(ctx context.Context, path, city string, n int, from, to sc.Date, seed uint64, model engine.Model, quiet bool, stderr io.Writer) error {
	start := time.Now()
	dir, err := os.MkdirTemp("", "silentcert-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pl := newProgress(stderr, quiet)
	defer pl.done()
	progress := func(format string, args ...any) { pl.show(false, "demo: "+format, args...) }
	opt := sim.Options{City: city, Recipients: n, From: from, To: to, Seed: seed, Out: filepath.Join(dir, "city"), HistoryMonths: 6,
		Progress: func(done, total int) { progress("simulating %d/%d blocks of people", done, total) }}
	if _, err := sim.Simulate(ctx, opt); err != nil {
		return err
	}
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	db, err := store.Open(ctx, "sqlite:"+tmp)
	if err != nil {
		return err
	}
	_, err = service.Replay(ctx, db, service.ReplayOptions{Roster: filepath.Join(opt.Out, "roster.csv"),
		Records: []string{filepath.Join(opt.Out, "records")}, From: from, To: to, ResolveRegion: regionResolver(city),
		Service:  service.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Model: model},
		Progress: func(day sc.Date, records int64) { progress("replaying %s, %d records", day, records) }})
	// Replay builds the console's summaries at its end.
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	pl.done()
	if !quiet {
		fmt.Fprintf(stderr, "demo: %d recipients simulated and replayed in %.0fs\n", n, time.Since(start).Seconds())
	}
	return os.Rename(tmp, path)
}

type demoLogin struct {
	name   string
	role   auth.Role
	region string
}

// demoAccounts makes one login per role, the scoped ones in the village with the most
// people waiting for a visit (and its town and district), plus a second village's
// assistant; it keeps accounts already made.
func demoAccounts(ctx context.Context, db *store.DB, city string, today sc.Date) ([]demoLogin, error) {
	v, err := db.AnyVillage(ctx, city, sc.StatusPending, sc.StatusSuspended, sc.StatusWarning)
	if err != nil {
		return nil, err
	}
	if v == "" {
		if v, err = db.AnyVillage(ctx, city); err != nil || v == "" {
			return nil, fmt.Errorf("demo: no village with people under %s (%v)", city, err)
		}
	}
	// Another village of the same town, else of another town of the district.
	other := ""
	rs, err := db.Regions(ctx, v[:9])
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Code != v && r.Total > 0 && other == "" {
			other = r.Code
		}
	}
	if other == "" {
		towns, err := db.Regions(ctx, v[:6])
		if err != nil {
			return nil, err
		}
		for _, town := range towns {
			if town.Code != v[:9] && other == "" {
				if other, err = db.AnyVillage(ctx, town.Code); err != nil {
					return nil, err
				}
			}
		}
	}
	want := []demoLogin{{"admin", auth.RoleAdmin, ""}, {"operator", auth.RoleOperator, ""}, {"auditor", auth.RoleAuditor, ""},
		{"district", auth.RoleDistrict, v[:6]}, {"town", auth.RoleTown, v[:9]}, {"village", auth.RoleVillage, v}}
	if other != "" && other != v {
		want = append(want, demoLogin{"village2", auth.RoleVillage, other})
	}
	accounts := auth.New(db, auth.Options{Today: func() sc.Date { return today }})
	var out []demoLogin
	for _, l := range want {
		u, err := accounts.EnsureUser(ctx, l.name, demoPassword, l.role, l.region)
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", l.name, err)
		}
		out = append(out, demoLogin{u.Name, u.Role, u.Region})
	}
	return out, nil
}
