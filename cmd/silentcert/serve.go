package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/engine"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/notice"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
	"github.com/silentcert/silentcert/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "--db DSN [--addr HOST:PORT] [--run-hour H] [--drop DIR]", stderr)
	dsn := fs.String("db", "", dbHelp)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	runHour := fs.Int("run-hour", 2, "hour of the day, China time (Asia/Shanghai), at which the daily run starts")
	tz := fs.String("tz", "Asia/Shanghai", "no longer used: the days are China's (Asia/Shanghai), as every command's; accepted with that value so that start scripts still run")
	drop := fs.String("drop", "", "drop folder: DIR/SOURCE/ files are ingested as that source's batches")
	dropEnc := fs.String("drop-encoding", "", "SOURCE=ENCODING[,…]: read that drop folder source's files in utf-8, gbk or gb18030 (default: detected from a file's first 64 KiB, spec §1; a GBK export that starts with 64 KiB of ASCII rows needs it)")
	maxBody := fs.Int64("max-body", defaultMaxBody(memTotal()), "largest batch body accepted by the API and the drop folder, in bytes, unpacked; by default 1 GiB, or a 48th of the machine's memory where that is less (a batch takes about 20 times its size in memory while it is applied)")
	uploadTimeout := fs.Duration("upload-timeout", time.Hour, "longest time a batch's body may take to arrive (other requests' bodies: 5 minutes)")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	city := fs.String("city", "", "prefecture or county code narrowing address resolution of roster imports")
	modelPath := fs.String("model", "", modelHelp)
	change := fs.String("model-change", "", modelChangeHelp)
	configChange := fs.String("config-change", "", configChangeHelp)
	faceModels := fs.String("face-models", "face/testdata/npm/package/model", "folder of the face models (face/fetch.sh); missing: face certification answers that it is unavailable")
	helpPhone := fs.String("help-phone", "12333", "the number the pensioner's pages give for questions (12333: the national social-insurance hotline; or the agency's own)")
	publicURL := fs.String("public-url", "", "the address citizens reach the service at, put in the links of reminders (e.g. https://rz.example.gov.cn)")
	idle := fs.Duration("session-idle", time.Hour, "a console sign-in unused this long ends (it lasts 12 hours at most)")
	secure := fs.Bool("secure-cookies", false, "mark every cookie Secure (when a TLS proxy fronts the service); without it, cookies are Secure when the request came over TLS, or, with --behind-proxy, when the proxy sends X-Forwarded-Proto: https")
	behindProxy := fs.Bool("behind-proxy", false, "one reverse proxy fronts the service and appends the client's address to X-Forwarded-For: login and sign-in limits count by the last address of that header (only the proxy's own entry is believed, so the service's port must be closed to all but the proxy; without it, every request counts as the proxy's), and X-Forwarded-Proto: https marks cookies Secure")
	smsWebhook := fs.String("sms-webhook", "", "SMS gateway: POST each notice as JSON to this URL (with \"Authorization: Bearer $SILENTCERT_SMS_TOKEN\" when that variable is set)")
	smsFile := fs.String("sms-file", "", "SMS gateway for tests and demos: append each notice as a JSON line to this file")
	templates := fs.String("sms-templates", "", "notice templates (JSON; see notice/README.md)")
	link := fs.String("sms-link", "", "the certification address the notices name")
	quiet := fs.String("sms-quiet", "21-8", "hours (Asia/Shanghai) in which no SMS is sent, FROM-TO, across midnight when FROM > TO; 0-0: none")
	perDay := fs.Int("sms-per-day", 10000, "SMS sent per day at most (0: no cap); the rest wait for the next day, oldest first")
	confirm := fs.Bool("sms-confirm", false, "tell a person who had been reminded when they are certified silently")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dropEncodings, err := parseDropEncodings(*dropEnc)
	if err != nil {
		return err
	}
	if *runHour < 0 || *runHour > 23 {
		return usagef("--run-hour must be 0–23")
	}
	if *idle < time.Minute || *idle > 12*time.Hour {
		return usagef("--session-idle %s: want 1m to 12h", *idle)
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := openDBAs(ctx, *dsn, true, "serve")
	if err != nil {
		return err
	}
	defer db.Close()
	if mode, loose := db.OthersMayRead(); loose {
		// Made before databases were made 0600, or so by hand: said, not changed (the
		// operator may have meant it, for a backup account's group).
		log.Warn("the database file may be read by accounts other than its owner: it holds every ID number, name, phone and password hash; chmod 600 it and its -wal and -shm",
			"db", db.String(), "mode", mode.String())
	}
	citizen.HelpPhone = *helpPhone
	if *publicURL != "" {
		// Before anything that makes links starts (the sender sends at once what waits).
		citizen.LinkBase = strings.TrimSuffix(*publicURL, "/") + "/c/"
	}
	ncfg := notice.DefaultConfig()
	// With a public address, each reminder carries a one-time sign-in link, made when it
	// is sent (the queued text keeps a placeholder: no usable link in the database).
	ncfg.GraceMonths, ncfg.Link, ncfg.SignIn = cfg.Policy.GraceMonths, *link, *publicURL != ""
	ncfg.PerDayLimit, ncfg.Confirm = *perDay, *confirm
	if ncfg.QuietStart, ncfg.QuietEnd, err = parseHours(*quiet); err != nil {
		return usagef("--sms-quiet %q: %v", *quiet, err)
	}
	if *templates != "" {
		if ncfg.Templates, err = notice.LoadTemplates(*templates); err != nil {
			return err
		}
	}
	if err := ncfg.Validate(); err != nil {
		return err
	}
	model, err := serviceModel(*modelPath, cfg)
	if err != nil {
		return err
	}
	if model == nil {
		log.Warn("serving with the baseline weak rule (no --model): no fraud-risk list, and a relative riding a dead person's transit card keeps them certified; production runs with --model builtin or a trained model")
	}
	// The agency's days are China's, as every other command's and the standard's (§1: a
	// datetime's date in Asia/Shanghai); a --tz of serve's own made its days disagree with
	// run-day's, ingest's and the notices' quiet hours for part of every day (removed).
	if *tz != "Asia/Shanghai" {
		return usagef("--tz %q: serve's days are China's (Asia/Shanghai), as run-day's, ingest's and the standard's; the flag is no longer used", *tz)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600) // no tzdata on the machine: China has one offset, no DST
	}
	svc, err := service.Open(ctx, db, service.Options{Config: cfg, Log: log, ResolveRegion: regionResolver(*city), Model: model, Location: loc,
		Fault: serveFault, OnDecision: func(tx *store.Tx, p *service.Person, d engine.Decision) error {
			if _, err := notice.Queue(tx, p.PID, p.Rec, &p.State, d, ncfg); err != nil {
				return err
			}
			// A village's visit that reaches the engine by any path takes the person off
			// the face visit list.
			return citizen.VisitDecision(tx, p, d, time.Now(), loc)
		}})
	if err != nil {
		return err
	}
	if err := svc.CheckModel(ctx, *change, "serve"); err != nil {
		return err
	}
	if err := svc.CheckConfig(ctx, *configChange, "serve"); err != nil {
		return err
	}
	metrics := &notice.Metrics{}
	var gw notice.Gateway
	switch {
	case *smsWebhook != "":
		// The gateway's secret comes from the environment, not a flag: flags show in the
		// process list.
		gw = &notice.Webhook{URL: *smsWebhook, Token: os.Getenv("SILENTCERT_SMS_TOKEN")}
	case *smsFile != "":
		gw = &notice.File{Path: *smsFile}
	}
	if gw != nil {
		// serve returns, and closes the database, only once the sender has stopped: a
		// sender stopped with its batch claimed gives back through the database what it
		// has not sent (left "sending", the next start would mark it failed, never sent).
		sctx, stop := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			noticeSender(db, gw, ncfg, log, metrics, citizen.LinkBase).Run(sctx, time.Minute)
		}()
		defer func() { stop(); <-stopped }()
	} else {
		log.Warn("no SMS gateway (--sms-webhook or --sms-file): notices are queued, not sent")
	}
	accounts := auth.New(db, auth.Options{SessionIdle: *idle})
	console, err := web.New(web.Options{DB: db, Auth: accounts, Ingest: web.FromService(svc), Faces: web.FromCitizen(db, svc), Recoveries: svc, Log: log, Secure: *secure, BehindProxy: *behindProxy,
		Benefits: svc.Config().Benefits, Catalogue: svc.Config().Catalogue, WarningMonths: svc.Config().Policy.WarningMonths})
	if err != nil {
		return err
	}
	var fm *face.Models
	if m, err := face.Load(*faceModels); err != nil {
		log.Warn("face certification unavailable: no face models", "dir", *faceModels, "err", err)
	} else {
		fm = m
	}
	var codes citizen.Sender
	if gw != nil {
		codes = citizen.FromGateway(gw)
	}
	citizens, err := citizen.New(citizen.Options{DB: db, Service: svc, Sender: codes, Face: fm, Secure: *secure, TrustProxy: *behindProxy, Log: log})
	if err != nil {
		return err
	}
	return serveLoop(ctx, serveConfig{Addr: *addr, DB: db, Service: svc, RunHour: *runHour, Drop: *drop, DropEncodings: dropEncodings, MaxBody: *maxBody, UploadTimeout: *uploadTimeout,
		Log: log, Keys: accounts, Tick: func(ctx context.Context) {
			// Selfies are kept only as long as the retention setting says.
			if _, err := citizen.Purge(ctx, db, time.Now()); err != nil && ctx.Err() == nil {
				log.Error("citizen purge", "err", err)
			}
		}, Extra: func(mux *http.ServeMux) error {
			mux.Handle("/c/", web.Compress(citizens))
			mux.Handle("/", console)
			return nil
		}, Metrics: func(w io.Writer) { w.Write(metrics.AppendPrometheus(nil)) }, Announce: func(a string) {
			fmt.Fprintf(stdout, "silentcert serving %s on http://%s/ (API /api/v1/batches, /healthz, /readyz, /metrics)\n", db, a)
		}})
}

// serveFault, set by tests, is serve's service.Options.Fault: a store failure injected at
// a commit.
var serveFault func(point string, n int)

// parseHours reads FROM-TO, two hours of the day.
func parseHours(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		if from, err = strconv.Atoi(a); err == nil {
			to, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || from < 0 || from > 23 || to < 0 || to > 23 {
		return 0, 0, fmt.Errorf("want FROM-TO, two hours from 0 to 23, as 21-8")
	}
	return from, to, nil
}

// noticeSender is serve's sender of notices: each reminder's sign-in link is made as it
// is sent, under base (the public address's /c/).
func noticeSender(db *store.DB, gw notice.Gateway, cfg notice.Config, log *slog.Logger, m *notice.Metrics, base string) *notice.Sender {
	return &notice.Sender{DB: db, Gateway: gw, Config: cfg, Log: log, Metrics: m,
		Links: func(ctx context.Context, n *store.Notice, now time.Time) (string, error) {
			return citizen.NewLinkUnder(ctx, db, base, n.PID, now, now.Add(linkLife))
		},
		Withdraw: func(ctx context.Context, link string) error { return citizen.WithdrawLink(ctx, db, link) }}
}

// linkLife is how long a reminder's link stays valid: past the grace before suspension.
const linkLife = 90 * 24 * time.Hour

// parseDropEncodings reads --drop-encoding: SOURCE=ENCODING pairs between commas.
func parseDropEncodings(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		src, enc, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || src == "" || strings.ContainsAny(src, `/\`) {
			return nil, usagef("--drop-encoding %q: want SOURCE=ENCODING[,…], e.g. PSB=gbk", pair)
		}
		if err := exchange.CheckEncoding(enc); err != nil {
			return nil, usagef("--drop-encoding %s: %v", src, err)
		}
		out[src] = enc
	}
	return out, nil
}
