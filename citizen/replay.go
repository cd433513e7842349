package citizen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/store"
)

// Replays. The nonce of an attempt stops the same request sent twice, not the frames of
// an attempt sent again with a fresh nonce (the capture page gives one to anyone logged
// in): those would be accepted again, at a distance of 0 to the selfie reference the
// first accept left. So every frame's hash is kept (citizen_frames), and a burst whose
// mean descriptor lies within Policy.ReplayDistance of a burst accepted before for the
// person (the same pictures re-encoded, scaled or cropped) is a replay too. A replay that
// would be accepted or reviewed goes to staff, reason "replay", audited as such; one that
// fails the checks anyway is refused as it would be, the replay noted in its audit row.

// reasonReplay is the review reason of a burst seen before.
const reasonReplay = "replay"

// frameHashes are the frames' SHA-256 in hex, each once.
func frameHashes(frames [][]byte) []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range frames {
		h := sha256.Sum256(b)
		s := hex.EncodeToString(h[:])
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// keepFrames records the frames' hashes for pid and returns how many some earlier attempt
// (anyone's) had sent already. A hash is written once (the primary key), so of two
// attempts racing with the same frames one finds the other's.
func keepFrames(ctx context.Context, db *store.DB, pid int64, frames [][]byte, now int64) (seen int, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for _, h := range frameHashes(frames) {
		n, err := tx.ExecN(`INSERT INTO citizen_frames (hash, pid, created) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`, h, pid, now)
		if err != nil {
			return 0, fmt.Errorf("%s: frame hashes: %w", db, err)
		}
		if n == 0 {
			seen++
		}
	}
	return seen, tx.Commit()
}

// nearestAccepted is the distance from d to the closest burst accepted for pid (on the
// spot or by staff, or being accepted now), and that review's id; -1 when there is none.
func nearestAccepted(ctx context.Context, db *store.DB, pid int64, d face.Descriptor) (float64, int64, error) {
	rows, err := db.Reader().QueryContext(ctx, db.Rebind(`SELECT id, template FROM citizen_reviews
		WHERE pid = ? AND status IN ('accepted', 'deciding')`), pid)
	if err != nil {
		return -1, 0, fmt.Errorf("%s: accepted bursts: %w", db, err)
	}
	defer rows.Close()
	best, bestID := -1.0, int64(0)
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return -1, 0, err
		}
		t, err := decodeTemplate(b)
		if err != nil {
			continue // an accept without a template (none is written so) cannot be compared
		}
		if dist := face.Distance(d, t); best < 0 || dist < best {
			best, bestID = dist, id
		}
	}
	return best, bestID, rows.Err()
}

// replayed marks v a replay when seen of its frames were sent before, or its mean
// descriptor lies within pol.ReplayDistance of an accepted burst (near, of review id;
// near < 0: none): an accept or a review becomes a review for that reason.
func replayed(v verdict, seen int, near float64, id int64, pol Policy) verdict {
	switch {
	case seen > 0:
		v.Replay = fmt.Sprintf("frames_seen=%d", seen)
	case near >= 0 && near < pol.ReplayDistance && v.Frames > 0:
		v.Replay = fmt.Sprintf("accepted_review=%d;accepted_distance=%.4f", id, near)
	default:
		return v
	}
	if v.Outcome == "accept" || v.Outcome == "review" {
		v.Outcome, v.Reason = "review", reasonReplay
	}
	return v
}
