package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/silentcert/silentcert/auth"
)

func init() {
	register("users", "staff accounts from the command line: the first administrator, a forgotten password", runUsers)
}

// stdin is where users reads a password when it is not a terminal (tests replace it).
var stdin io.Reader = os.Stdin

const usersUsage = `usage: silentcert users list --db DSN
       silentcert users add --db DSN --name NAME --role ROLE [--region CODE]
       silentcert users password --db DSN --name NAME [--temporary]
       silentcert users disable|enable --db DSN --name NAME
A password is typed twice at the terminal, or read from the first line of standard input
(never a flag: flags show in the process list). Roles: admin, operator, auditor, district,
town, village (the last three need --region, their 6-, 9- or 12-digit code). A password
set with --temporary (for someone else: a forgotten one) must be changed by its holder at
their next sign-in. Each change is audited with the actor cli:OS_USER.`

// runUsers manages staff accounts without the console: a new installation has no
// account to log in with, and an administrator locked out or gone leaves no one to reset
// a password.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", usersUsage)
	}
	op := args[0]
	if op == "-h" || op == "--help" || op == "help" {
		fmt.Fprintln(stderr, usersUsage)
		return nil
	}
	fs := newFlagSet("users "+op, "--db DSN …", stderr)
	dsn := fs.String("db", "", dbHelp)
	var name, role, region *string
	temporary := new(bool)
	switch op {
	case "list":
	case "add":
		name = fs.String("name", "", "the account's name (log-in)")
		role = fs.String("role", "", "admin, operator, auditor, district, town or village")
		region = fs.String("region", "", "the division code the account is scoped to (district 6, town 9, village 12 digits)")
	case "password", "disable", "enable":
		name = fs.String("name", "", "the account's name")
		if op == "password" {
			temporary = fs.Bool("temporary", false, "the password is for someone else (a forgotten one): they choose their own at their next sign-in")
		}
	default:
		return usagef("users %q: %s", op, usersUsage)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if name != nil && *name == "" {
		return usagef("users %s: --name is required", op)
	}
	if op == "add" {
		if err := auth.CheckAccount(*name, auth.Role(*role), *region); err != nil {
			return err // before the password is asked for
		}
	}
	// A mistyped path must not make a new, empty database (and an administrator in it
	// that serve never sees): only add may start one, and says so.
	var pw string // add's, read before a new database is made (a refused one makes none)
	if err := dbExists(*dsn); err != nil {
		if op != "add" {
			return err
		}
		if pw, err = readPassword(ctx, stderr); err != nil {
			return err
		}
		if err := auth.CheckPassword(*name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "note: %s did not exist: a new database is made\n", strings.TrimPrefix(*dsn, "sqlite:"))
	}
	db, err := openDB(ctx, *dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	a := auth.New(db, auth.Options{})
	actor := cliActor()
	if op == "list" {
		us, err := a.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tREGION\tSTATE\tCREATED")
		for _, u := range us {
			state := "enabled"
			switch {
			case u.Disabled:
				state = "disabled"
			case u.LockedUntil.After(time.Now()):
				state = "locked until " + u.LockedUntil.UTC().Format("2006-01-02 15:04Z")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Region, state, u.Created.UTC().Format("2006-01-02"))
		}
		return tw.Flush()
	}
	if op == "add" {
		us, err := a.Users(ctx)
		if err != nil {
			return err
		}
		names := make([]string, len(us))
		for i, u := range us {
			names[i] = u.Name
		}
		if err := auth.TakenName(*name, names); err != nil { // before the password is asked for
			return err
		}
		if pw == "" {
			if pw, err = readPassword(ctx, stderr); err != nil {
				return err
			}
		}
		u, err := a.CreateUser(ctx, actor, *name, pw, auth.Role(*role), *region)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s (%s%s) made\n", u.Name, u.Role, prefixed(" ", u.Region))
		return nil
	}
	us, err := a.Users(ctx)
	if err != nil {
		return err
	}
	var acct *auth.User
	for i := range us {
		if us[i].Name == *name {
			acct = &us[i]
		}
	}
	if acct == nil {
		return fmt.Errorf("no account named %q", *name)
	}
	id := acct.ID
	switch op {
	case "password":
		pw, err := readPassword(ctx, stderr)
		if err != nil {
			return err
		}
		set := a.SetPassword
		if *temporary {
			set = a.SetTemporaryPassword
		}
		if err := set(ctx, actor, id, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s: new password set, lockout lifted, sessions ended\n", *name)
		if *temporary {
			fmt.Fprintf(stdout, "account %s: the password is temporary: its holder chooses their own at the next sign-in\n", *name)
		}
		if acct.Disabled {
			fmt.Fprintf(stdout, "account %s is disabled: 'users enable' lets it log in\n", *name)
		}
	default:
		if err := a.SetDisabled(ctx, actor, id, op == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s %sd\n", *name, op)
	}
	return nil
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// cliActor names whoever runs the command in the audit trail (and who became root with
// sudo).
func cliActor() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if su := os.Getenv("SUDO_USER"); su != "" && su != name {
		name = su + "(sudo " + name + ")"
	}
	if name == "" {
		return "cli"
	}
	return "cli:" + name
}

// readPassword reads a new password: typed twice, without echo, at a terminal (Ctrl-C
// gives the terminal back as it was); otherwise the first line of standard input.
func readPassword(ctx context.Context, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		state, err := term.GetState(fd)
		if err != nil {
			return "", err
		}
		read := func(prompt string) (string, error) {
			fmt.Fprint(stderr, prompt)
			type res struct {
				b   []byte
				err error
			}
			ch := make(chan res, 1)
			go func() { b, err := term.ReadPassword(fd); ch <- res{b, err} }()
			select {
			case r := <-ch:
				fmt.Fprintln(stderr)
				return string(r.b), r.err
			case <-ctx.Done():
				term.Restore(fd, state)
				fmt.Fprintln(stderr)
				return "", ctx.Err()
			}
		}
		a, err := read("password: ")
		if err != nil {
			return "", err
		}
		b, err := read("again: ")
		if err != nil {
			return "", err
		}
		if a != b {
			return "", fmt.Errorf("the two passwords differ")
		}
		return a, nil
	}
	if f, ok := stdin.(*os.File); ok && f == os.Stdin {
		fmt.Fprintln(stderr, "password: read from standard input, which is not a terminal (what is typed shows)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("reading the password from standard input (pipe it in, or run at a terminal): %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
