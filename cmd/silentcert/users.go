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
       silentcert users password --db DSN --name NAME
       silentcert users disable|enable --db DSN --name NAME
A password is typed twice at the terminal, or read from the first line of standard input
(never a flag: flags show in the process list). Roles: admin, operator, auditor, district,
town, village (the last three need --region, their 6-, 9- or 12-digit code). Each change
is audited with the actor cli:OS_USER.`

// runUsers manages staff accounts without the console: a new installation has no
// account to log in with, and an administrator locked out or gone leaves no one to reset
// a password.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", usersUsage)
	}
	op := args[0]
	fs := newFlagSet("users "+op, "--db DSN …", stderr)
	dsn := fs.String("db", "", dbHelp)
	var name, role, region *string
	switch op {
	case "list":
	case "add":
		name = fs.String("name", "", "the account's name (log-in)")
		role = fs.String("role", "", "admin, operator, auditor, district, town or village")
		region = fs.String("region", "", "the division code the account is scoped to (district 6, town 9, village 12 digits)")
	case "password", "disable", "enable":
		name = fs.String("name", "", "the account's name")
	default:
		return usagef("users %q: %s", op, usersUsage)
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if name != nil && *name == "" {
		return usagef("users %s: --name is required", op)
	}
	db, err := openDB(ctx, *dsn)
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
			case !u.LockedUntil.IsZero():
				state = "locked until " + u.LockedUntil.UTC().Format("2006-01-02 15:04Z")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Region, state, u.Created.UTC().Format("2006-01-02"))
		}
		return tw.Flush()
	}
	if op == "add" {
		pw, err := readPassword(stderr)
		if err != nil {
			return err
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
	var id int64 = -1
	for _, u := range us {
		if u.Name == *name {
			id = u.ID
		}
	}
	if id < 0 {
		return fmt.Errorf("no account named %q", *name)
	}
	switch op {
	case "password":
		pw, err := readPassword(stderr)
		if err != nil {
			return err
		}
		if err := a.SetPassword(ctx, actor, id, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s: new password set, lockout lifted, sessions ended\n", *name)
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

// cliActor names whoever runs the command in the audit trail.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// readPassword reads a new password: typed twice, without echo, at a terminal; otherwise
// the first line of standard input.
func readPassword(stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", fmt.Errorf("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", fmt.Errorf("reading the password from standard input: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
