package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	sc "github.com/silentcert/silentcert"
)

// paymentsAudited is the migration from which every payment row is covered by an audit
// row: its part in Go covers the rows written before (batch 0).
const paymentsAudited = 33

func init() { migrationSteps[paymentsAudited] = auditExistingPayments }

// PaymentsKind is the kind of the audit rows that cover payment rows: one per transaction
// that wrote payments (action written), and migration 0033's (action existing).
const PaymentsKind = "payments"

// payBatch gives the transaction's payment rows their batch, once: the sequence number the
// next audit row of the transaction takes. Each transaction that writes payments appends
// at least their covering row, so no two transactions share a batch, with no counter of
// its own to keep.
func (t *Tx) payBatchNumber() (int64, error) {
	if t.payBatch == 0 {
		if t.last == nil {
			if err := t.chainHead(); err != nil {
				return 0, err
			}
		}
		t.payBatch = t.lastSeq + 1
	}
	return t.payBatch, nil
}

// SealPayments appends the audit row that covers the payment rows the transaction has
// written since it last sealed (none: nothing is appended): their count, sum and SHA-256,
// read back from the table, so that rows a key already stored kept out are not counted.
// Commit seals what was not sealed; a caller seals itself to place the row (the daily
// run, before its own row, which stays the head it prints).
func (t *Tx) SealPayments(day sc.Date, at, actor string) error {
	if t.payBatch == 0 {
		return nil
	}
	batch := t.payBatch
	t.payBatch = 0
	d, err := paymentDigest(t.ctx, t.db, t.tx, batch)
	if err != nil {
		return err
	}
	if d.Rows == 0 {
		return nil
	}
	return t.Append([]AuditRow{paymentsRow(day, at, actor, "written", d)})
}

// sealAtCommit is SealPayments for Commit: the day in China and the time now.
func (t *Tx) sealAtCommit() error {
	if t.payBatch == 0 {
		return nil
	}
	now := time.Now()
	y, m, d := now.In(chinaTime).Date()
	return t.SealPayments(sc.MakeDate(y, int(m), d), now.UTC().Format(time.RFC3339), "system")
}

// auditExistingPayments is migration 0033's part in Go: the payments written before
// become batch 0, and one row covers them. The column's default, -1, is no batch: a row
// inserted by hand without one is named as covered by nothing, not counted in with these.
func auditExistingPayments(t *Tx) error {
	if err := t.exec(`UPDATE payments SET pay_batch = 0`); err != nil {
		return err
	}
	d, err := paymentDigest(t.ctx, t.db, t.tx, 0)
	if err != nil {
		return err
	}
	if d.Rows == 0 {
		// A new database: no row, its trail the migrations' alone. A row put in batch 0
		// by hand is then named as covered by none.
		return nil
	}
	now := time.Now()
	y, m, day := now.In(chinaTime).Date()
	return t.Append([]AuditRow{paymentsRow(sc.MakeDate(y, int(m), day), now.UTC().Format(time.RFC3339), "system", "existing", d)})
}

// paymentsRow is the audit row that covers batch b.
func paymentsRow(day sc.Date, at, actor, action string, b paymentBatch) AuditRow {
	return AuditRow{Kind: "payments", Day: day, At: at, Actor: actor, PID: -1, Action: action, Detail: b.detail()}
}

// paymentBatch is what an audit row of kind payments says of its batch.
type paymentBatch struct {
	Batch, Rows, Sum int64
	SHA256           string
}

func (b paymentBatch) detail() string {
	return fmt.Sprintf("batch=%d;rows=%d;sum_fen=%d;sha256=%s", b.Batch, b.Rows, b.Sum, b.SHA256)
}

// parsePaymentBatch reads a payments row's detail.
func parsePaymentBatch(detail string) (paymentBatch, bool) {
	var b paymentBatch
	ok := true
	for k, p := range map[string]*int64{"batch": &b.Batch, "rows": &b.Rows, "sum_fen": &b.Sum} {
		v, found := DetailField(detail, k)
		n, err := strconv.ParseInt(v, 10, 64)
		ok = ok && found && err == nil
		*p = n
	}
	b.SHA256, _ = DetailField(detail, "sha256")
	return b, ok && b.SHA256 != ""
}

// paymentDigest counts, sums and hashes one batch's payment rows: SHA-256 over every column
// of each, length-prefixed, in key order compared as bytes (COLLATE "C" on PostgreSQL,
// whatever the database's locale), so that writer and verifier read the same sequence.
func paymentDigest(ctx context.Context, db *DB, q querier, batch int64) (paymentBatch, error) {
	b := paymentBatch{Batch: batch}
	from, order := `FROM payments INDEXED BY payments_batch`, `ORDER BY pid, benefit, month, kind`
	if db.dialect == Postgres {
		from, order = `FROM payments`, `ORDER BY pid, benefit COLLATE "C", month, kind COLLATE "C"`
	}
	rows, err := q.QueryContext(ctx, db.Rebind(`SELECT pid, benefit, month, kind, amount, payroll_month `+from+` WHERE pay_batch = ? `+order), batch)
	if err != nil {
		return b, fmt.Errorf("%s: payments of batch %d: %w", db, batch, err)
	}
	defer rows.Close()
	h := sha256.New()
	var buf []byte
	var benefit, kind string
	var pid, month, amount, pm int64
	for rows.Next() {
		if err := rows.Scan(&pid, &benefit, &month, &kind, &amount, &pm); err != nil {
			return b, fmt.Errorf("%s: payments of batch %d: %w", db, batch, err)
		}
		buf = buf[:0]
		for _, n := range [...]int64{pid, month, amount, pm} {
			buf = binary.AppendVarint(buf, n)
		}
		for _, s := range [...]string{benefit, kind} {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		h.Write(buf)
		b.Rows++
		b.Sum += amount
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("%s: payments of batch %d: %w", db, batch, err)
	}
	b.SHA256 = hex.EncodeToString(h.Sum(nil))
	return b, nil
}

// verifyPayments reports every batch whose rows no longer match the audit row that covers
// it (a payment changed, deleted, or inserted into it), naming that row, and every payment
// row no audit row covers (inserted outside the service), naming it. covers holds the
// payments rows of the trail by batch; before migration 0033 there are none, nor is
// anything checked.
func (db *DB) verifyPayments(ctx context.Context, q querier, covers map[int64]AuditRow, audited bool, report func(AuditProblem)) error {
	if !audited {
		return nil
	}
	batches := slices.Sorted(maps.Keys(covers))
	for _, batch := range batches {
		r := covers[batch]
		want, _ := parsePaymentBatch(r.Detail)
		got, err := paymentDigest(ctx, db, q, batch)
		if err != nil {
			return err
		}
		if got != want {
			report(AuditProblem{r.Seq, fmt.Sprintf("the payments of batch %d do not match their audit row: %d rows, %s, where the row says %d, %s (a payment changed, deleted or inserted)",
				batch, got.Rows, sc.Fen(got.Sum), want.Rows, sc.Fen(want.Sum))})
		}
	}
	return db.uncoveredPayments(ctx, q, covers, report)
}

// uncoveredPayments reports each payment row of a batch no audit row covers.
func (db *DB) uncoveredPayments(ctx context.Context, q querier, covers map[int64]AuditRow, report func(AuditProblem)) error {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT pay_batch FROM payments`)
	if err != nil {
		return fmt.Errorf("%s: payment batches: %w", db, err)
	}
	var orphans []int64
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return err
		}
		if _, ok := covers[b]; !ok {
			orphans = append(orphans, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, b := range orphans {
		rows, err := q.QueryContext(ctx, db.Rebind(`SELECT pid, benefit, month, kind, amount FROM payments WHERE pay_batch = ? ORDER BY pid, month`), b)
		if err != nil {
			return fmt.Errorf("%s: payments of batch %d: %w", db, b, err)
		}
		for rows.Next() {
			var pid, month, amount int64
			var benefit, kind string
			if err := rows.Scan(&pid, &benefit, &month, &kind, &amount); err != nil {
				rows.Close()
				return err
			}
			report(AuditProblem{0, fmt.Sprintf("payment pid=%d benefit=%s month=%s kind=%s amount=%s is in batch %d, which no audit row covers (inserted outside the service)",
				pid, benefit, sc.Month(month), kind, sc.Fen(amount), b)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
