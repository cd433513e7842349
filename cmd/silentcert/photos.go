package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/silentcert/silentcert/citizen"
	"github.com/silentcert/silentcert/face"
	"github.com/silentcert/silentcert/idcard"
)

func init() {
	register("photos", "import ID-card photos (PERSON_ID.jpg) as the references face certification compares with", runPhotos)
}

// runPhotos imports the agency's ID-card photos, one JPEG per recipient named by their ID
// number, as the references of face certification. A photo that cannot be used (no face,
// several, unreadable, no such recipient) is reported with its file and reason; the
// others are imported, each in its own audited transaction.
func runPhotos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("photos", "--db DSN [--face-models DIR] [--keep DURATION] FILE|DIR…", stderr)
	dsn := fset.String("db", "", dbHelp)
	faceModels := fset.String("face-models", "face/testdata/npm/package/model", "folder of the face models (face/fetch.sh)")
	keep := fset.Duration("keep", 0, "how long the photos themselves are kept beside their templates, e.g. 720h (0: templates only)")
	paths, err := parseFlagsAndPaths(fset, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("give photo files or folders (PERSON_ID.jpg)")
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		// Folders are walked in name order; only .jpg and .jpeg files are photos.
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := strings.ToLower(filepath.Ext(path)); !d.IsDir() && (ext == ".jpg" || ext == ".jpeg") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	m, err := face.Load(*faceModels)
	if err != nil {
		return fmt.Errorf("face models in %s: %w", *faceModels, err)
	}
	citizen.SetFaceModels(m, *keep)
	db, err := openDB(ctx, *dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	var imported, refused int
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := os.ReadFile(f)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its path names the ID number whole; the line names the file masked
		}
		if err == nil {
			id := strings.ToUpper(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
			err = citizen.ImportPhoto(ctx, db, id, b, time.Now(), cliActor())
		}
		if err != nil {
			refused++
			fmt.Fprintf(stderr, "%s: %v\n", maskedPhotoPath(f), err)
			continue
		}
		imported++
	}
	fmt.Fprintf(stdout, "photos: %d imported, %d refused, into %s\n", imported, refused, db)
	if refused > 0 {
		return fmt.Errorf("%d of %d photos refused (see above)", refused, len(files))
	}
	return nil
}

// maskedPhotoPath is a photo's path as printed: its name is the person's ID number, which
// is masked (a refusal list goes to cron mail and the journal) as everywhere else.
func maskedPhotoPath(f string) string {
	ext := filepath.Ext(f)
	return filepath.Join(filepath.Dir(f), idcard.Mask(strings.TrimSuffix(filepath.Base(f), ext))+ext)
}
