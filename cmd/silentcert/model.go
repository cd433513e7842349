package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func init() {
	register("model", "print an evidence model file (the built-in parameters by default) and its identity", runModel)
}

// runModel writes a model file as train writes it, and names its identity on stderr: to
// keep a release's built-in parameters in a file of one's own, or to see which model a
// file is (the identity a database records, see service.CheckModel).
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model", "[--model FILE|builtin] [--out FILE]", stderr)
	path := fs.String("model", "builtin", "model file from silentcert train, or \"builtin\"")
	out := fs.String("out", "", "write the model file here (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := loadParams(*path)
	if err != nil {
		return err
	}
	b := p.Marshal()
	if *out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "model %s (trained on %s)\n", p.Identity(), p.Trained)
	return nil
}
