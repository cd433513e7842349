// Package wire reads the compact binary encodings the store keeps (engine states, record
// chunks): varints and bytes from a slice, where the first error sticks so that a decoder
// reads on and checks once.
package wire

import (
	"encoding/binary"
	"errors"
)

// ErrShort is the error of a read past the end of the data or of a malformed varint.
var ErrShort = errors.New("encoded data ends early")

// Reader reads from B; after the first failed read Err is set and every read returns 0.
type Reader struct {
	B   []byte
	Err error
}

func (r *Reader) fail() {
	r.Err, r.B = ErrShort, nil
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.Err != nil || len(r.B) == 0 {
		r.fail()
		return 0
	}
	v := r.B[0]
	r.B = r.B[1:]
	return v
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed (zig-zag) varint, as binary.AppendVarint writes it.
func (r *Reader) Varint() int64 {
	u := r.Uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// Uint64 reads 8 bytes, little-endian.
func (r *Reader) Uint64() uint64 {
	if r.Err != nil || len(r.B) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.B)
	r.B = r.B[8:]
	return v
}

// Bytes reads n bytes (a slice of the data, not a copy).
func (r *Reader) Bytes(n uint64) []byte {
	if r.Err != nil || n > uint64(len(r.B)) {
		r.fail()
		return nil
	}
	v := r.B[:n]
	r.B = r.B[n:]
	return v
}

// Str reads a string written as its length + 1, or as 0 when it equals prev (the same
// field of the record before: sources, types and regions repeat along a file).
func (r *Reader) Str(prev string) string {
	n := r.Uvarint()
	if n == 0 {
		return prev
	}
	return string(r.Bytes(n - 1))
}
