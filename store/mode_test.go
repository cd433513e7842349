package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/silentcert/silentcert/store"
)

// TestNewDatabasePrivate: a SQLite database the service makes, and the -wal and -shm
// files SQLite makes beside it, are readable by their owner only (0600, as backups are):
// they hold every ID number, name, phone and password hash. A database the operator made
// keeps its mode, and one others may read is reported; its -wal and -shm take its mode.
func TestNewDatabasePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix file modes")
	}
	ctx := context.Background()
	modes := func(path string) map[string]fs.FileMode {
		t.Helper()
		out := map[string]fs.FileMode{}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			fi, err := os.Stat(path + suffix)
			if err != nil {
				t.Fatalf("%s: %v", path+suffix, err)
			}
			out[suffix] = fi.Mode().Perm()
		}
		return out
	}

	path := filepath.Join(t.TempDir(), "new.db")
	db, err := store.Open(ctx, "sqlite:"+path) // migrated: written, its -wal and -shm there
	if err != nil {
		t.Fatal(err)
	}
	for suffix, m := range modes(path) {
		if m != 0o600 {
			t.Errorf("a new database's file %q is %v, want 0600", "new.db"+suffix, m)
		}
	}
	if m, loose := db.OthersMayRead(); loose {
		t.Errorf("a new database reported readable by others (%v)", m)
	}
	db.Close()

	// The operator's own file, group-readable: kept so, and said.
	path = filepath.Join(t.TempDir(), "own.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	db, err = store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for suffix, m := range modes(path) {
		if m != 0o640 {
			t.Errorf("the operator's database's file %q is %v, want its own 0640", "own.db"+suffix, m)
		}
	}
	if m, loose := db.OthersMayRead(); !loose || m != 0o640 {
		t.Errorf("a group-readable database: OthersMayRead %v %t, want 0640 true", m, loose)
	}
}
