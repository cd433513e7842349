package store

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/internal/wire"
)

// Records are stored compactly: a record costs one narrow row in record_keys (its
// (source, record_id) key, hashed) and, when linked, one in record_people, while the
// record itself is encoded, with up to chunkMax records of consecutive ids, into one row
// of record_chunks. One wide row per record cost about 9 µs on the embedded SQLite; this
// layout costs about 2 (see bench/service.sh).

// chunkMax is the most records one chunk holds: a person's timeline reads one chunk per
// record it shows, so chunks stay small enough to decode in microseconds.
const chunkMax = 128

// recordKey is the 128-bit key of (source, record_id): the first 16 bytes of SHA-256 over
// both, separated by a zero byte (record ids never hold one). Two keys out of n collide with
// probability below n²/2^129, about 10⁻²¹ for a billion records; the chunk keeps the key's
// text, so what is shown is always the record's own.
func recordKey(source, recordID string) (k1, k2 int64) {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(recordID))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return int64(binary.BigEndian.Uint64(sum[:8])), int64(binary.BigEndian.Uint64(sum[8:16]))
}

// chunkVersion is the first byte of every chunk; a reader refuses any other.
const chunkVersion = 1

// encodeChunk encodes records of ascending ids. Strings are written as length+1, or 0 when
// equal to the previous record's value of the same field (source, type, file and region
// repeat along a file), numbers as varints.
func encodeChunk(dst []byte, rs []*Record) []byte {
	dst = append(dst, chunkVersion)
	dst = binary.AppendUvarint(dst, uint64(len(rs)))
	var prev *Record
	str := func(s, p string, havePrev bool) {
		if havePrev && s == p {
			dst = append(dst, 0)
			return
		}
		dst = binary.AppendUvarint(dst, uint64(len(s))+1)
		dst = append(dst, s...)
	}
	var lastID, lastBatch int64
	for _, r := range rs {
		hp := prev != nil
		var p Record
		if hp {
			p = *prev
		}
		dst = binary.AppendUvarint(dst, uint64(r.ID-lastID))
		lastID = r.ID
		str(r.Source, p.Source, hp)
		str(r.RecordID, p.RecordID, hp)
		str(r.Type, p.Type, hp)
		dst = binary.AppendVarint(dst, r.PID)
		dst = binary.AppendUvarint(dst, uint64(r.Link))
		held := byte(0)
		if r.Held {
			held = 1
		}
		dst = append(dst, held)
		str(r.PersonID, p.PersonID, hp)
		str(r.Name, p.Name, hp)
		dst = binary.AppendVarint(dst, int64(r.BirthDate))
		dst = binary.AppendVarint(dst, int64(r.EventDate))
		dst = binary.AppendVarint(dst, int64(r.ReportedDate)-int64(r.EventDate))
		str(r.RegionCode, p.RegionCode, hp)
		str(r.Detail, p.Detail, hp)
		dst = binary.LittleEndian.AppendUint64(dst, r.Content)
		dst = binary.AppendVarint(dst, r.Batch-lastBatch)
		lastBatch = r.Batch
		str(r.File, p.File, hp)
		dst = binary.AppendVarint(dst, r.Line)
		prev = r
	}
	return dst
}

var errChunk = errors.New("record chunk damaged")

// decodeChunk decodes a chunk written by encodeChunk, calling fn with each record (reused
// between calls: copy what you keep).
// openChunk checks a chunk's version and returns a reader after its record count, and
// the count.
func openChunk(b []byte) (wire.Reader, uint64, error) {
	if len(b) == 0 || b[0] != chunkVersion {
		return wire.Reader{}, 0, fmt.Errorf("%w: version %v", errChunk, b[:min(1, len(b))])
	}
	d := wire.Reader{B: b[1:]}
	n := d.Uvarint()
	if n > uint64(len(b)) {
		return wire.Reader{}, 0, errChunk
	}
	return d, n, nil
}

// chunkKeys is decodeChunk for record keys alone: it calls fn with the id and
// SOURCE:RECORD_ID of each record of the chunk that want asks for, and allocates nothing
// for the others (an evidence model's certification names up to 16 records, each in a
// chunk of its own).
func chunkKeys(b []byte, want func(id int64) bool, fn func(id int64, key string)) error {
	d, n, err := openChunk(b)
	if err != nil {
		return err
	}
	var id int64
	var source, recordID []byte
	str := func(prev []byte) []byte { // as wire.Reader.Str, without a copy
		if k := d.Uvarint(); k > 0 {
			return d.Bytes(k - 1)
		}
		return prev
	}
	for i := uint64(0); i < n; i++ {
		id += int64(d.Uvarint())
		source, recordID = str(source), str(recordID)
		str(nil)    // type
		d.Varint()  // pid
		d.Uvarint() // link
		d.Byte()    // held
		str(nil)    // person_id
		str(nil)    // name
		d.Varint()  // birth date
		d.Varint()  // event date
		d.Varint()  // reported date
		str(nil)    // region code
		str(nil)    // detail
		d.Uint64()  // content
		d.Varint()  // batch
		str(nil)    // file
		d.Varint()  // line
		if d.Err != nil {
			return errChunk
		}
		if want(id) {
			fn(id, string(source)+":"+string(recordID))
		}
	}
	if d.Err != nil || len(d.B) != 0 {
		return errChunk
	}
	return nil
}

func decodeChunk(b []byte, fn func(*Record) error) error {
	d, n, err := openChunk(b)
	if err != nil {
		return err
	}
	var r Record
	var lastBatch int64
	for i := uint64(0); i < n; i++ {
		r.ID += int64(d.Uvarint())
		r.Source = d.Str(r.Source)
		r.RecordID = d.Str(r.RecordID)
		r.Type = d.Str(r.Type)
		r.PID = d.Varint()
		r.Link = int(d.Uvarint())
		r.Held = d.Byte() == 1
		r.PersonID = d.Str(r.PersonID)
		r.Name = d.Str(r.Name)
		r.BirthDate = sc.Date(d.Varint())
		r.EventDate = sc.Date(d.Varint())
		r.ReportedDate = r.EventDate + sc.Date(d.Varint())
		r.RegionCode = d.Str(r.RegionCode)
		r.Detail = d.Str(r.Detail)
		r.Content = d.Uint64()
		lastBatch += d.Varint()
		r.Batch = lastBatch
		r.File = d.Str(r.File)
		r.Line = d.Varint()
		if d.Err != nil {
			return errChunk
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if d.Err != nil || len(d.B) != 0 {
		return errChunk
	}
	return nil
}
