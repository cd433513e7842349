package citizen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/idcard"
	"github.com/silentcert/silentcert/store"
)

// Reference kinds: what a selfie is compared with. The ID-card photo decides alone once
// it is imported (refsOf); a selfie serves only a person with none, and is stored only
// from a burst the server accepted on the spot, never from a staff accept (which may have
// had no photo to compare with).
const (
	RefIDCard = "idcard" // the ID-card photo the agency imported
	RefSelfie = "selfie" // the last selfie accepted on the spot
)

// encodeTemplate stores a descriptor as 128 little-endian float32s.
func encodeTemplate(d face.Descriptor) []byte {
	b := make([]byte, 0, 4*face.DescriptorSize)
	for _, v := range d {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func decodeTemplate(b []byte) (face.Descriptor, error) {
	var d face.Descriptor
	if len(b) != 4*face.DescriptorSize {
		return d, fmt.Errorf("template of %d bytes, want %d", len(b), 4*face.DescriptorSize)
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d, nil
}

// ImportPhoto computes the template of a person's ID-card photo (a JPEG with exactly one
// face) and stores it as their reference; the photo itself is kept only for the retention
// set by SetFaceModels or New (0: not at all). Their selfie reference is deleted: the ID
// card decides from now on, and a selfie stored before it may be anyone's. The import is
// audited, at now, by actor.
func ImportPhoto(ctx context.Context, db *store.DB, personID string, jpeg []byte, now time.Time, actor string) error {
	return importPhoto(ctx, db, personID, jpeg, now, actor)
}

func importPhoto(ctx context.Context, db *store.DB, personID string, jpeg []byte, now time.Time, actor string) error {
	m, retention := sharedModels()
	if m == nil {
		return errors.New("citizen: no face models loaded (SetFaceModels)")
	}
	img, err := decodeFrame(jpeg, DefaultPolicy())
	if err != nil {
		return sc.Errorf(sc.EInvalid, "photo of %s: %v", idcard.Mask(personID), err)
	}
	f, err := m.Analyse(img)
	if err != nil {
		return sc.Errorf(sc.EInvalid, "photo of %s: %v", idcard.Mask(personID), err)
	}
	if f.Faces != 1 {
		return sc.Errorf(sc.EInvalid, "photo of %s: %d faces, want exactly one", idcard.Mask(personID), f.Faces)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	p, err := personBy(tx, "person_id", personID)
	if err != nil {
		return sc.Errorf(sc.ENotFound, "no recipient %s", idcard.Mask(personID))
	}
	photo, expires := []byte{}, int64(0)
	if retention > 0 {
		photo, expires = bytes.Clone(jpeg), now.Add(retention).UnixNano()
	}
	if err := putRef(tx, p.PID, RefIDCard, f.Descriptor, now, photo, expires); err != nil {
		return err
	}
	var selfies int
	if err := tx.QueryRow(`SELECT count(*) FROM citizen_refs WHERE pid = ? AND kind = ?`, p.PID, RefSelfie).Scan(&selfies); err != nil {
		return err
	}
	if err := tx.Exec(`DELETE FROM citizen_refs WHERE pid = ? AND kind = ?`, p.PID, RefSelfie); err != nil {
		return err
	}
	if err := tx.Append([]store.AuditRow{{Kind: "citizen_reference", Day: dayIn(now, agencyLoc()), At: now.UTC().Format(time.RFC3339),
		Actor: actor, PID: p.PID, PersonID: p.PersonID, Action: "import_idcard_photo", Rule: "citizen",
		Detail: fmt.Sprintf("photo_kept=%d;selfie_cleared=%d", b2i(retention > 0), selfies)}}); err != nil {
		return err
	}
	return tx.Commit()
}

func putRef(tx *store.Tx, pid int64, kind string, d face.Descriptor, now time.Time, photo []byte, expires int64) error {
	if photo == nil {
		photo = []byte{}
	}
	return tx.Exec(`INSERT INTO citizen_refs (pid, kind, template, created, photo, photo_expires) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pid, kind) DO UPDATE SET template = excluded.template, created = excluded.created,
		photo = excluded.photo, photo_expires = excluded.photo_expires`, pid, kind, encodeTemplate(d), now.UnixNano(), photo, expires)
}

// ref is one stored reference template.
type ref struct {
	kind     string
	template face.Descriptor
}

// refsOf reads the references a person's attempts are judged by: the ID card's alone
// once it is imported (a selfie never overrides it: the closest reference would let a
// selfie accept a face the ID card rejects), else their selfie, if any.
func refsOf(ctx context.Context, db *store.DB, pid int64) ([]ref, error) {
	refs, err := allRefs(ctx, db, pid)
	for _, r := range refs {
		if r.kind == RefIDCard {
			return []ref{r}, err
		}
	}
	return refs, err
}

// allRefs reads every reference of a person (ID card first).
func allRefs(ctx context.Context, db *store.DB, pid int64) ([]ref, error) {
	rows, err := db.Reader().QueryContext(ctx, db.Rebind(`SELECT kind, template FROM citizen_refs WHERE pid = ? ORDER BY kind`), pid)
	if err != nil {
		return nil, fmt.Errorf("%s: references: %w", db, err)
	}
	defer rows.Close()
	var out []ref
	for rows.Next() {
		var r ref
		var b []byte
		if err := rows.Scan(&r.kind, &b); err != nil {
			return nil, err
		}
		if r.template, err = decodeTemplate(b); err != nil {
			return nil, fmt.Errorf("reference %s of %d: %w", r.kind, pid, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Purge deletes every photo whose retention has passed (references keep their templates)
// and the expired links, challenges, sessions and nonces; serve runs it daily.
func Purge(ctx context.Context, db *store.DB, now time.Time) (photos int64, err error) {
	n := now.UnixNano()
	res, err := db.SQL().ExecContext(ctx, db.Rebind(`UPDATE citizen_refs SET photo = ?, photo_expires = 0
		WHERE photo_expires > 0 AND photo_expires <= ?`), []byte{}, n)
	if err != nil {
		return 0, fmt.Errorf("%s: purge: %w", db, err)
	}
	photos, _ = res.RowsAffected()
	res, err = db.SQL().ExecContext(ctx, db.Rebind(`UPDATE citizen_reviews SET photo = ? WHERE status <> 'open' AND decided_at <= ? AND length(photo) > 0`),
		[]byte{}, n-int64(retentionOf()))
	if err != nil {
		return photos, fmt.Errorf("%s: purge: %w", db, err)
	}
	k, _ := res.RowsAffected()
	photos += k
	for _, q := range []string{
		`DELETE FROM citizen_links WHERE expires <= ?`,
		`DELETE FROM citizen_challenges WHERE expires <= ?`,
		`DELETE FROM citizen_sessions WHERE expires <= ?`,
		`DELETE FROM citizen_nonces WHERE expires <= ?`,
	} {
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(q), n-int64(24*time.Hour)); err != nil {
			return photos, fmt.Errorf("%s: purge: %w", db, err)
		}
	}
	return photos, nil
}

// agencyLoc is the agency's time zone for audit days written outside a handler.
func agencyLoc() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

func retentionOf() time.Duration {
	_, r := sharedModels()
	return r
}
