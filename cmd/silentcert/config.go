package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/silentcert/silentcert/service"
)

func init() {
	register("config", "print a configuration in full (the built-in rules by default) and its print", runConfig)
}

// runConfig writes a configuration in its canonical form, every rule spelled out, and
// names its print on stderr: to keep a release's built-in rules in a file of one's own
// (a file read over a later release's defaults would otherwise take up their changes),
// or to see which configuration a file is (the print a database records, see
// service.CheckConfig).
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", "[--config FILE] [--out FILE]", stderr)
	path := fs.String("config", "", "configuration file (JSON; see README; default: the built-in rules)")
	out := fs.String("out", "", "write the configuration here (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, cfg.CanonicalJSON(), "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	if *out == "" {
		_, err = stdout.Write(b.Bytes())
	} else {
		err = os.WriteFile(*out, b.Bytes(), 0o644)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "configuration %s\n", service.ConfigPrint(cfg))
	return nil
}
