package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/store"
)

// APIKey is a department's key for POST /api/v1/batches as the administrator sees it:
// never the secret, only its first characters to tell keys apart.
type APIKey struct {
	ID     int64
	Source string // the department code (spec §4) whose types the key may send
	// Types, when not empty, are the only record types the key may send (codes of its
	// source's, in order); empty: every type of its source.
	Types   []string
	Name    string // what the administrator called it ("PSB nightly export")
	Prefix  string // the secret's first characters, as shown when it was made
	Created time.Time
	Revoked time.Time // zero while the key is valid
}

// apiKeyPrefix starts every secret, so that a key pasted where it should not be is easy
// to recognise (and to search for in a leak).
const apiKeyPrefix = "sck_"

// checkSource says whether source looks like a department code: capital letters, digits
// and underscores, starting with a letter, at most 32.
func checkSource(source string) error {
	ok := len(source) >= 1 && len(source) <= 32 && source[0] >= 'A' && source[0] <= 'Z'
	for i := 0; ok && i < len(source); i++ {
		c := source[i]
		ok = c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	if !ok {
		return sc.Errorf(sc.EInvalid, "source %q: a department code is capital letters, digits and _ (PSB, HEA…)", clip(source, 40))
	}
	return nil
}

// CreateAPIKey makes a key for source, limited to types when there are any (the caller
// checks they are the source's, against the catalogue), and returns its secret, which is
// shown this once: the database keeps its SHA-256 only.
func (a *Service) CreateAPIKey(ctx context.Context, actor, source, name string, types []string) (string, int64, error) {
	if err := checkSource(source); err != nil {
		return "", 0, err
	}
	types = slices.Compact(slices.Sorted(slices.Values(types)))
	for _, t := range types {
		if err := checkTypeCode(t); err != nil {
			return "", 0, err
		}
	}
	if n := utf8.RuneCountInString(name); n > 100 || !utf8.ValidString(name) {
		return "", 0, sc.Errorf(sc.EInvalid, "key name: at most 100 characters")
	}
	secret := apiKeyPrefix + randomToken(32)
	prefix := secret[:len(apiKeyPrefix)+6]
	var id int64
	err := a.write(ctx, func(tx *store.Tx) error {
		now := a.now()
		if err := tx.QueryRow(`INSERT INTO api_keys (source, name, prefix, hash, created, revoked, types) VALUES (?, ?, ?, ?, ?, '', ?) RETURNING id`,
			source, name, prefix, keyHash(secret), now.UTC().Format(time.RFC3339), strings.Join(types, ",")).Scan(&id); err != nil {
			return fmt.Errorf("%s: create API key: %w", a.db, err)
		}
		limit := ""
		if len(types) > 0 {
			limit = ";types=" + strings.Join(types, ",")
		}
		return tx.Append([]store.AuditRow{a.auditRow(now, "api_key", actor, "create",
			fmt.Sprintf("id=%d;source=%s;prefix=%s%s;pw=%s;name=%s", id, source, prefix, limit, store.SecretPrint(string(keyHash(secret))), store.DetailValue(name)))})
	})
	if err != nil {
		return "", 0, err
	}
	return secret, id, nil
}

// checkTypeCode says whether t can be a record type code of a key's list: 1 to 64 bytes
// of valid UTF-8 without spaces, control characters or commas (the list's separator). A
// configured catalogue may name its types as it likes; the console checks them against it.
func checkTypeCode(t string) error {
	ok := len(t) >= 1 && len(t) <= 64 && utf8.ValidString(t)
	for _, r := range t {
		ok = ok && r > ' ' && r != ',' && r != 0x7f && !unicode.IsSpace(r)
	}
	if !ok {
		return sc.Errorf(sc.EInvalid, "type %q: a record type code has no spaces or commas and at most 64 bytes", clip(t, 40))
	}
	return nil
}

// keyHash is what api_keys.hash keeps: the raw SHA-256 of the secret (256 random bits
// need no slow hash).
func keyHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// APIKey returns the key whose secret this is (its id, source and types), or an
// EUnauthorized error when there is none or it was revoked. It is one indexed lookup by
// hash, so its time tells nothing about how close a guess was.
func (a *Service) APIKey(ctx context.Context, secret string) (APIKey, error) {
	if secret == "" || len(secret) > 128 {
		return APIKey{}, sc.Errorf(sc.EUnauthorized, "no valid API key")
	}
	var k APIKey
	var revoked, types string
	err := a.db.Reader().QueryRowContext(ctx, a.db.Rebind(`SELECT id, source, revoked, types FROM api_keys WHERE hash = ?`),
		keyHash(secret)).Scan(&k.ID, &k.Source, &revoked, &types)
	if err == sql.ErrNoRows || err == nil && revoked != "" {
		return APIKey{}, sc.Errorf(sc.EUnauthorized, "no valid API key")
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("%s: API key: %w", a.db, err)
	}
	k.Types = splitTypes(types)
	return k, nil
}

// KeyStands checks, inside a batch's transaction, that key id is not revoked: a batch
// whose body was still arriving when an administrator revoked its key is refused whole
// (the key was checked when the request began). Revocation writes in a transaction of
// its own, so the two take turns: the batch commits before it, or sees it.
func KeyStands(tx *store.Tx, id int64) error {
	var revoked string
	err := tx.QueryRow(`SELECT revoked FROM api_keys WHERE id = ?`, id).Scan(&revoked)
	if err == sql.ErrNoRows || err == nil && revoked != "" {
		return sc.Errorf(sc.EUnauthorized, "the API key was revoked while the batch arrived: nothing of it was applied")
	}
	return err
}

// splitTypes reads api_keys.types.
func splitTypes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// APIKeys returns every key, revoked ones too, in the order they were made.
func (a *Service) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT id, source, name, prefix, created, revoked, types FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("%s: API keys: %w", a.db, err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var created, revoked, types string
		if err := rows.Scan(&k.ID, &k.Source, &k.Name, &k.Prefix, &created, &revoked, &types); err != nil {
			return nil, err
		}
		k.Types = splitTypes(types)
		k.Created, _ = time.Parse(time.RFC3339, created)
		if revoked != "" {
			k.Revoked, _ = time.Parse(time.RFC3339, revoked)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey makes key id useless from now on; revoking it again changes nothing.
func (a *Service) RevokeAPIKey(ctx context.Context, actor string, id int64) error {
	return a.write(ctx, func(tx *store.Tx) error {
		var source, prefix, revoked string
		err := tx.QueryRow(`SELECT source, prefix, revoked FROM api_keys WHERE id = ?`, id).Scan(&source, &prefix, &revoked)
		if err == sql.ErrNoRows {
			return sc.Errorf(sc.ENotFound, "no API key %d", id)
		}
		if err != nil || revoked != "" {
			return err
		}
		now := a.now()
		if err := tx.Exec(`UPDATE api_keys SET revoked = ? WHERE id = ?`, now.UTC().Format(time.RFC3339), id); err != nil {
			return err
		}
		return tx.Append([]store.AuditRow{a.auditRow(now, "api_key", actor, "revoke",
			fmt.Sprintf("id=%d;source=%s;prefix=%s", id, source, prefix))})
	})
}
