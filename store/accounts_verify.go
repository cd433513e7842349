package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// SecretPrint is what an audit row keeps of a secret's stored form (an account's password
// hash, an API key's hash): enough for audit verify to tell that the stored form is the one
// the row's change set, nothing that helps guess the secret (the stored form is a salted
// argon2id hash, or a SHA-256 of 32 random bytes).
func SecretPrint(stored string) string {
	h := sha256.Sum256([]byte("silentcert secret print\x00" + stored))
	return hex.EncodeToString(h[:8])
}

// accountsSeen is what the trail's account and API key rows say the users and api_keys
// tables hold: each account's name, role, region, whether disabled and its password's
// print; each key's source, prefix, print and whether revoked. Rows written before a field
// was written leave it unknown, and unknown is not checked.
type accountsSeen struct {
	users map[int64]*userSeen
	keys  map[int64]*keySeen
}

type userSeen struct {
	seq                int64 // the last row that changed what is checked
	name, role, region string
	scoped             bool // role and region known
	disabled           bool
	pw                 string // "": unknown
}

type keySeen struct {
	seq                int64
	source, prefix, pw string
	revoked            bool
}

func newAccountsSeen() *accountsSeen {
	return &accountsSeen{users: map[int64]*userSeen{}, keys: map[int64]*keySeen{}}
}

// detailFields reads an account row's detail: "k=v" pairs between ";" (since session 17),
// or between spaces before.
func detailFields(detail string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(detail, ";") {
		words := []string{part}
		if strings.Count(part, "=") > 1 {
			words = strings.Fields(part)
		}
		for _, w := range words {
			if k, v, ok := strings.Cut(w, "="); ok {
				out[k] = v
			}
		}
	}
	return out
}

// see takes one audit row of the walk.
func (a *accountsSeen) see(r *AuditRow) {
	if r.Kind != "user" && r.Kind != "api_key" && !(r.Kind == "login" && r.Action == "ok") {
		return
	}
	f := detailFields(r.Detail)
	id, err := strconv.ParseInt(f["id"], 10, 64)
	if err != nil {
		return
	}
	if r.Kind == "api_key" {
		switch r.Action {
		case "create":
			a.keys[id] = &keySeen{seq: r.Seq, source: f["source"], prefix: f["prefix"], pw: f["pw"]}
		case "revoke":
			if k := a.keys[id]; k != nil {
				k.revoked, k.seq = true, r.Seq
			}
		}
		return
	}
	if r.Action == "create" {
		_, scoped := f["role"]
		a.users[id] = &userSeen{seq: r.Seq, name: f["user"], role: f["role"], region: f["region"], scoped: scoped, pw: f["pw"]}
		return
	}
	u := a.users[id]
	if u == nil {
		return
	}
	switch r.Action {
	case "role":
		u.role, u.region, u.scoped, u.seq = f["role"], f["region"], true, r.Seq
	case "disable", "enable":
		u.disabled, u.seq = r.Action == "disable", r.Seq
	case "password", "password_own", "ok":
		if r.Action == "ok" && f["pw"] == "" {
			return // a sign-in that kept the password's hash
		}
		u.pw, u.seq = f["pw"], r.Seq // a row without a print (an older binary's): unknown
	}
}

// verifyAccounts reports an account or API key the trail's rows do not account for: one
// inserted, deleted or changed (its role, region, disabled flag, password hash, a key's
// hash or revocation) outside the service, which the chain cannot see since these tables
// are not rows of it. Accounts and keys whose making predates the trail's rows for them
// are reported as having none.
func (db *DB) verifyAccounts(ctx context.Context, snap *sql.Tx, seen *accountsSeen, report func(AuditProblem)) error {
	rows, err := snap.QueryContext(ctx, `SELECT id, name, role, region, disabled, password FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("%s: users: %w", db, err)
	}
	found := map[int64]bool{}
	for rows.Next() {
		var id int64
		var name, role, region, pw string
		var disabled int
		if err := rows.Scan(&id, &name, &role, &region, &disabled, &pw); err != nil {
			rows.Close()
			return err
		}
		found[id] = true
		u := seen.users[id]
		var diff []string
		switch {
		case u == nil:
			report(AuditProblem{0, fmt.Sprintf("account %s (id %d) has no row of its making in the trail: made outside the service", name, id)})
			continue
		case u.name != name:
			diff = append(diff, fmt.Sprintf("its name is %s, the trail's %s", name, u.name))
		}
		if u.scoped && (u.role != role || u.region != region) {
			diff = append(diff, fmt.Sprintf("its role and region are %s %q, the trail's %s %q", role, region, u.role, u.region))
		}
		if u.disabled != (disabled != 0) {
			diff = append(diff, fmt.Sprintf("disabled is %v, the trail's %v", disabled != 0, u.disabled))
		}
		if u.pw != "" && SecretPrint(pw) != u.pw {
			diff = append(diff, "its password is not the one its last row set")
		}
		if len(diff) > 0 {
			report(AuditProblem{u.seq, fmt.Sprintf("account %s (id %d) was changed outside the service: %s", name, id, strings.Join(diff, "; "))})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(seen.users)) {
		if !found[id] {
			u := seen.users[id]
			report(AuditProblem{u.seq, fmt.Sprintf("account %s (id %d) is in the trail but not in the accounts: deleted outside the service", u.name, id)})
		}
	}

	rows, err = snap.QueryContext(ctx, `SELECT id, source, prefix, hash, revoked FROM api_keys ORDER BY id`)
	if err != nil {
		return fmt.Errorf("%s: api_keys: %w", db, err)
	}
	defer rows.Close()
	clear(found)
	for rows.Next() {
		var id int64
		var source, prefix, revoked string
		var hash []byte
		if err := rows.Scan(&id, &source, &prefix, &hash, &revoked); err != nil {
			return err
		}
		found[id] = true
		k := seen.keys[id]
		if k == nil {
			report(AuditProblem{0, fmt.Sprintf("API key %d (%s, %s…) has no row of its making in the trail: made outside the service", id, source, prefix)})
			continue
		}
		var diff []string
		if k.source != source || k.prefix != prefix {
			diff = append(diff, fmt.Sprintf("its source and prefix are %s %s, the trail's %s %s", source, prefix, k.source, k.prefix))
		}
		if k.pw != "" && SecretPrint(string(hash)) != k.pw {
			diff = append(diff, "its secret is not the one it was made with")
		}
		if k.revoked != (revoked != "") {
			diff = append(diff, fmt.Sprintf("revoked is %v, the trail's %v", revoked != "", k.revoked))
		}
		if len(diff) > 0 {
			report(AuditProblem{k.seq, fmt.Sprintf("API key %d was changed outside the service: %s", id, strings.Join(diff, "; "))})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(seen.keys)) {
		if !found[id] {
			report(AuditProblem{seen.keys[id].seq, fmt.Sprintf("API key %d is in the trail but not in the keys: deleted outside the service", id)})
		}
	}
	return nil
}
