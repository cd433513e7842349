// Package api is the HTTP interface for machines: departments push batches of records
// (POST /api/v1/batches) with a per-source API key and read back their reports; probes
// and Prometheus read /healthz, /readyz and /metrics. It decides nothing: every batch goes
// through service.Ingest, the same path as files and the console.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/auth"
	"github.com/silentcert/silentcert/exchange"
	"github.com/silentcert/silentcert/service"
	"github.com/silentcert/silentcert/store"
)

// Keys checks an API key and returns the source it may send.
type Keys interface {
	// APIKey returns the key whose secret this is: its id, department and, when it is
	// limited to some of the department's types, those.
	APIKey(ctx context.Context, secret string) (auth.APIKey, error)
}

// Options configure the API.
type Options struct {
	Service *service.Service
	Keys    Keys
	// MaxBody is the largest body accepted, in bytes (default 1 GiB); a larger one is
	// answered 413 and nothing of it is applied.
	MaxBody int64
	Log     *slog.Logger
	// Extra metrics lines (notices sent and failed), appended to /metrics.
	Metrics func(w io.Writer)
	// MetricsToken, when set, is the bearer token /metrics asks for (Prometheus's
	// authorization credentials); without it /metrics is open, like /healthz and /readyz,
	// for a scraper on the agency's own network.
	MetricsToken string
}

type handler struct {
	opt                Options
	batchNanos, nBatch atomic.Int64
	keysRefused        atomic.Int64 // requests with an unknown or revoked key
}

// New returns the API's handler, to be mounted at the root of a mux (it answers /api/v1/,
// /healthz, /readyz and /metrics).
func New(opt Options) http.Handler {
	if opt.MaxBody <= 0 {
		opt.MaxBody = 1 << 30
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{opt: opt}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/batches", h.postBatch)
	mux.HandleFunc("GET /api/v1/batches/{id}", h.getBatch)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", h.ready)
	mux.HandleFunc("GET /metrics", h.metrics)
	return mux
}

// writeError answers with the HTTP status of an error code and a JSON message.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// statusOf maps an error code to an HTTP status, in one place.
func statusOf(err error) int {
	switch sc.ErrorCode(err) {
	case sc.EInvalid:
		return http.StatusBadRequest
	case sc.ENotFound:
		return http.StatusNotFound
	case sc.EConflict:
		return http.StatusConflict
	case sc.EUnauthorized:
		return http.StatusUnauthorized
	case sc.EUnavailable, sc.EBusy:
		return http.StatusServiceUnavailable
	}
	if errors.Is(err, errKeyCheck) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// actorOf names a key in the audit trail and on its batches: api:SOURCE#ID.
func actorOf(k auth.APIKey) string { return "api:" + k.Source + "#" + strconv.FormatInt(k.ID, 10) }

// key returns the request's API key.
func (h *handler) key(r *http.Request) (auth.APIKey, error) {
	secret := r.Header.Get("X-API-Key")
	if a := r.Header.Get("Authorization"); secret == "" && strings.HasPrefix(a, "Bearer ") {
		secret = strings.TrimPrefix(a, "Bearer ")
	}
	if secret == "" {
		return auth.APIKey{}, sc.Errorf(sc.EUnauthorized, "an API key is required (Authorization: Bearer KEY)")
	}
	k, err := h.opt.Keys.APIKey(r.Context(), secret)
	switch {
	case sc.ErrorCode(err) == sc.EUnauthorized:
		// Said in the log and counted (a revoked key still in use, or someone guessing):
		// the key itself is not logged, not even its start.
		h.keysRefused.Add(1)
		h.opt.Log.Warn("API key refused: unknown or revoked", "remote", r.RemoteAddr, "path", r.URL.Path)
		return auth.APIKey{}, sc.Errorf(sc.EUnauthorized, "the API key is unknown or revoked")
	case err != nil:
		// The database, not the key: a department must not think its key was revoked.
		h.opt.Log.Error("API key check failed", "err", err)
		return auth.APIKey{}, errKeyCheck
	}
	return k, nil
}

// errKeyCheck answers 503: the key could not be checked.
var errKeyCheck = errors.New("the API key could not be checked (the database is unavailable): send the batch again later")

// bodyFormat reads the body's format from Content-Type and Content-Encoding (or the
// name= parameter's extension).
func bodyFormat(r *http.Request) (exchange.Format, bool, string, error) {
	name := r.URL.Query().Get("name")
	gz := strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip")
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	switch ct {
	case "text/csv":
		return exchange.FormatCSV, gz, name, nil
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines":
		return exchange.FormatJSONL, gz, name, nil
	}
	if name != "" {
		if f, g, ok := exchange.FormatOf(name); ok {
			return f, g || gz, name, nil
		}
	}
	return 0, false, name, sc.Errorf(sc.EInvalid, "Content-Type %q: send text/csv or application/x-ndjson (gzip as Content-Encoding: gzip), or name=FILE.csv[.gz]", ct)
}

// bodyCharset reads the charset= parameter of Content-Type: utf-8, gbk or gb18030 forces
// that encoding (a GBK body whose first 64 KiB are ASCII is not detected as GBK: its later
// rows would be quarantined as undecodable); none detects, as for a file.
func bodyCharset(r *http.Request) (string, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil // the format's check has spoken; a parameter it cannot read names no charset
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "us-ascii", "ascii":
		return "", nil // ASCII is UTF-8 and GBK alike: detected as a file is
	case "utf-8", "utf8", "gbk", "gb18030":
		return cs, nil
	case "gb2312":
		return "gbk", nil // GBK is GB 2312's superset: what a sender saying GB 2312 means
	default:
		return "", sc.Errorf(sc.EInvalid, "Content-Type charset %q: send utf-8, gbk or gb18030", cs)
	}
}

func (h *handler) postBatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	key, err := h.key(r)
	src := key.Source
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if r.ContentLength > h.opt.MaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d", r.ContentLength, h.opt.MaxBody))
		return
	}
	format, gz, name, err := bodyFormat(r)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	encoding, err := bodyCharset(r)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	if name == "" {
		name = "api-" + src
	}
	idem, err := idempotencyKey(r)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	var in io.Reader = r.Body
	// The actor names the key, so that a leaked key's batches can be told apart; a gzip
	// body may unpack to MaxBody at most.
	b := service.Batch{Origin: "api", Source: src, Types: key.Types, Actor: actorOf(key),
		MaxDecompressed: h.opt.MaxBody, Encoding: encoding, Stands: func(tx *store.Tx) error { return auth.KeyStands(tx, key.ID) }}
	if idem != "" {
		// The key is the API key's own (another key's batches are not this client's to be
		// answered with), and the body's SHA-256 tells a retry from a reuse.
		sum := sha256.New()
		in = io.TeeReader(r.Body, sum)
		b.Key = b.Actor + ":" + idem
		b.KeyFormOf = func() string { return "sha256:" + hex.EncodeToString(sum.Sum(nil)) }
	}
	body := exchange.NewCapped(in, h.opt.MaxBody, errors.New("the body is larger than the limit"))
	b.Files = []service.File{{Name: name, Body: body, Format: format, Gzip: gz, FormatSet: true}}
	res, err := h.opt.Service.Ingest(r.Context(), b)
	h.batchNanos.Add(int64(time.Since(start)))
	h.nBatch.Add(1)
	if sc.ErrorCode(err) == sc.EUnauthorized {
		h.opt.Log.Warn("batch refused: its API key was revoked while it arrived", "source", src, "key", key.ID)
		writeError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if sc.ErrorCode(err) == sc.EUnavailable {
		// The service stopped writing after a commit of unknown outcome and is about to be
		// restarted (serve exits): a batch sent again once it is back goes through. One
		// that was itself that commit may be stored: sent again, its records count as
		// duplicates.
		h.opt.Log.Warn("batch refused: the service is restarting", "source", src, "err", err)
		msg := "the service is restarting to read the database again; nothing of the batch was applied: send it again in a minute"
		if errors.Is(err, store.ErrCommitOutcome) {
			msg = "the service is restarting to read the database again; whether the batch was stored is unknown: send it again in a minute (records stored already count as duplicates)"
		}
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusServiceUnavailable, msg)
		return
	}
	if err != nil {
		h.opt.Log.Error("batch failed", "source", src, "err", err)
		writeError(w, statusOf(err), "the batch could not be stored; nothing of it was applied: send it again")
		return
	}
	if res.Repeat {
		h.repeated(w, r, b)
		return
	}
	out := batchJSON(res.BatchID, res.Rejected, res.Report.Map(), res.Problems[:min(len(res.Problems), maxListed)], 0, len(res.Problems))
	switch {
	case body.Over():
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than the limit of %d bytes; nothing of it was applied (batch %d)", h.opt.MaxBody, res.BatchID))
	case res.Rejected != "":
		writeJSON(w, http.StatusUnprocessableEntity, out)
	default:
		w.Header().Set("Location", "/api/v1/batches/"+strconv.FormatInt(res.BatchID, 10))
		writeJSON(w, http.StatusCreated, out)
	}
}

// maxListed caps the quarantined rows listed in an answer; the report counts them all, and
// "quarantine_next" names the page with the next ones (GET …?quarantine_from=N).
const maxListed = 1000

// batchJSON answers for a batch, listing page, its quarantined rows from the from-th (0:
// the first) of total.
func batchJSON(id int64, rejected string, report any, page []exchange.Problem, from, total int) map[string]any {
	status := "applied"
	if rejected != "" {
		status = "rejected"
	}
	q := make([]map[string]any, 0, len(page))
	for _, p := range page {
		q = append(q, map[string]any{"file": p.File, "line": p.Line, "field": p.Field, "reason": p.Reason, "message": p.Message})
	}
	out := map[string]any{"batch_id": id, "status": status, "report": report, "quarantine": q, "quarantine_total": total}
	if next := from + len(page); next < total && len(page) > 0 {
		out["quarantine_next"] = "/api/v1/batches/" + strconv.FormatInt(id, 10) + "?quarantine_from=" + strconv.Itoa(next)
	}
	if rejected != "" {
		out["error"] = rejected
	}
	return out
}

// idempotencyKey reads the request's Idempotency-Key header ("" when it has none): a
// client's name for one sending, so that a retry after a lost answer (a timeout, a
// restart) is answered with the batch it made instead of storing a second one.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	if len(k) > maxIdempotencyKey || strings.IndexFunc(k, func(c rune) bool { return c <= ' ' || c > '~' }) >= 0 {
		return "", sc.Errorf(sc.EInvalid, "Idempotency-Key: want 1 to %d visible ASCII characters (a UUID, say)", maxIdempotencyKey)
	}
	return k, nil
}

const maxIdempotencyKey = 128

// repeated answers a batch whose Idempotency-Key was sent before: with the batch it made,
// as GET /api/v1/batches/{id} would (marked Idempotent-Replayed), when the body is the same;
// with 422 when the key was used for another body (nothing of this one is applied).
func (h *handler) repeated(w http.ResponseWriter, r *http.Request, b service.Batch) {
	db := h.opt.Service.DB()
	sb, err := db.BatchByKey(r.Context(), b.Key)
	if err != nil || sb == nil {
		h.opt.Log.Error("batch sent again: its first sending could not be read", "source", b.Source, "err", err)
		writeError(w, http.StatusServiceUnavailable, "this Idempotency-Key was sent before, and its batch could not be read now: ask again later")
		return
	}
	if sb.KeyForm != b.KeyFormOf() {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("this Idempotency-Key was sent before with another body (batch %d); nothing of this one was applied: give each new batch a new key", sb.ID))
		return
	}
	out, err := h.storedJSON(r.Context(), sb, 0)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "this Idempotency-Key was sent before, and its batch could not be read now: ask again later")
		return
	}
	// Answered as the first sending was: 201 with its place, or 422 with its refusal.
	w.Header().Set("Idempotent-Replayed", "true")
	if rep, ok := out["report"].(map[string]any); ok && sb.Status == "rejected" {
		out["error"] = rep["rejected"]
		writeJSON(w, http.StatusUnprocessableEntity, out)
		return
	}
	w.Header().Set("Location", "/api/v1/batches/"+strconv.FormatInt(sb.ID, 10))
	writeJSON(w, http.StatusCreated, out)
}

func (h *handler) getBatch(w http.ResponseWriter, r *http.Request) {
	key, err := h.key(r)
	src := key.Source
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the batch id must be a number")
		return
	}
	db := h.opt.Service.DB()
	b, err := db.Batch(r.Context(), id)
	// Another department's batch is not found, not forbidden; nor is one that did not come
	// through the API (a village visit recorded in the console is a CMT batch, not the
	// village app's to read); a key limited to some types sees its own batches only (the
	// department's others are its other systems').
	if err != nil || b.Source != src || b.Origin != "api" || (len(key.Types) > 0 && b.Actor != actorOf(key)) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no batch %d for source %s", id, src))
		return
	}
	from := 0
	if f := r.URL.Query().Get("quarantine_from"); f != "" {
		if from, err = strconv.Atoi(f); err != nil || from < 0 {
			writeError(w, http.StatusBadRequest, "quarantine_from must be a row number from 0")
			return
		}
	}
	out, err := h.storedJSON(r.Context(), b, from)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the batch could not be read")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// storedJSON is a stored batch's answer: its report and a page of its quarantined rows
// from the from-th.
func (h *handler) storedJSON(ctx context.Context, b *store.Batch, from int) (map[string]any, error) {
	qs, total, err := h.opt.Service.DB().BatchQuarantinePage(ctx, b.ID, from, maxListed)
	if err != nil {
		return nil, err
	}
	var report any
	json.Unmarshal([]byte(b.Report), &report)
	probs := make([]exchange.Problem, len(qs))
	for i, q := range qs {
		probs[i] = exchange.Problem{File: q.File, Line: q.Line, Field: q.Field, Reason: q.Reason, Message: q.Message}
	}
	out := batchJSON(b.ID, "", report, probs, from, total)
	out["status"], out["received"], out["day"] = b.Status, b.Received, b.Day.String()
	return out, nil
}

func (h *handler) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.opt.Service.DB().Reader().PingContext(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	if h.opt.Service.Broken() != nil {
		http.Error(w, "stopped writing after a commit of unknown outcome: restart the service", http.StatusServiceUnavailable)
		return
	}
	if h.opt.Service.DB().ClaimLost() != nil {
		http.Error(w, "the claim as the database's writer was lost with its connection: restart the service", http.StatusServiceUnavailable)
		return
	}
	if h.opt.Service.DB().AuditBroken() != nil {
		http.Error(w, "the audit trail's last row is not its head (rows cut off the end): writes refused until it is restored; silentcert audit verify names the break", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}

func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	if t := h.opt.MetricsToken; t != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(t)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics: a bearer token is required", http.StatusUnauthorized)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	m := func(name, kind, help string, v any) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, kind, name, v)
	}
	sm := h.opt.Service.Metrics()
	m("silentcert_records_ingested_total", "counter", "Records applied, held or unlinked by ingestion since start.", sm.RecordsIngested.Load())
	m("silentcert_records_quarantined_total", "counter", "Rows quarantined by ingestion since start.", sm.RecordsQuarantined.Load())
	m("silentcert_batches_total", "counter", "Batches ingested (applied) since start.", sm.Batches.Load())
	m("silentcert_batches_refused_total", "counter", "Batches refused whole (a file unreadable, truncated or too large; nothing applied) since start.", sm.BatchesRefused.Load())
	fmt.Fprintf(w, "# HELP silentcert_api_batch_seconds Time to ingest a batch posted to the API.\n# TYPE silentcert_api_batch_seconds summary\nsilentcert_api_batch_seconds_sum %g\nsilentcert_api_batch_seconds_count %d\n",
		float64(h.batchNanos.Load())/1e9, h.nBatch.Load())
	m("silentcert_api_keys_refused_total", "counter", "API requests refused for an unknown or revoked key since start.", h.keysRefused.Load())
	m("silentcert_daily_run_seconds", "gauge", "Duration of the last daily run.", sm.RunSeconds.Get())
	if h.opt.Metrics != nil {
		h.opt.Metrics(w)
	}
}
