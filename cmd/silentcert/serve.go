package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/service"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "--db DSN [--addr HOST:PORT] [--run-hour H] [--drop DIR]", stderr)
	dsn := fs.String("db", "", dbHelp)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	runHour := fs.Int("run-hour", 2, "hour of the day (Asia/Shanghai) at which the daily run starts")
	drop := fs.String("drop", "", "drop folder: DIR/SOURCE/ files are ingested as that source's batches")
	maxBody := fs.Int64("max-body", 1<<30, "largest batch body accepted by the API, in bytes")
	configPath := fs.String("config", "", "configuration file (JSON; see README)")
	city := fs.String("city", "", "prefecture or county code narrowing address resolution of roster imports")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runHour < 0 || *runHour > 23 {
		return usagef("--run-hour must be 0–23")
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := service.Open(ctx, db, service.Options{Config: cfg, Log: log, ResolveRegion: regionResolver(*city)})
	if err != nil {
		return err
	}
	accounts := auth.New(db, auth.Options{})
	return serveLoop(ctx, serveConfig{Addr: *addr, DB: db, Service: svc, RunHour: *runHour, Drop: *drop, MaxBody: *maxBody,
		Log: log, Keys: accounts, Announce: func(a string) {
			fmt.Fprintf(stdout, "silentcert serving %s on http://%s/ (API /api/v1/batches, /healthz, /readyz, /metrics)\n", db, a)
		}})
}
