package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A private PostgreSQL cluster for the fault tests, which stop and restart it: the shared test
// server (TEST_DATABASE_URL) must keep serving everyone else. The cluster is made with the
// server's own initdb and pg_ctl (on Debian in /usr/lib/postgresql/<version>/bin, which
// scripts/ensure-postgres installs), in a temporary directory, on a free port of 127.0.0.1.
// PostgreSQL refuses to run as root, so under root (as make test runs on a fresh machine) it
// runs as the postgres user, through runuser.

// pgCluster is one private PostgreSQL cluster.
type pgCluster struct {
	bin  string   // the directory holding initdb, pg_ctl and postgres
	dir  string   // the cluster's directory: data/, the log and the socket
	port int      // on 127.0.0.1
	as   []string // the command prefix that runs a program as the cluster's owner
}

// binaryOnce builds the binary once for the package's tests.
var binaryOnce struct {
	sync.Once
	dir, path string
	err       error
}

// buildBinary builds cmd/regulars once per test run and returns the binary's path.
func buildBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryOnce.dir, binaryOnce.err = os.MkdirTemp("", "regulars-bin-")
		if binaryOnce.err != nil {
			return
		}
		binaryOnce.path = filepath.Join(binaryOnce.dir, "regulars")
		out, err := exec.Command("go", "build", "-o", binaryOnce.path, ".").CombinedOutput()
		if err != nil {
			binaryOnce.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binaryOnce.err != nil {
		t.Fatal(binaryOnce.err)
	}
	return binaryOnce.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryOnce.dir != "" {
		_ = os.RemoveAll(binaryOnce.dir)
	}
	os.Exit(code)
}

// unavailable skips the test, or fails it when REGULARS_REQUIRE_POSTGRES=1 (make test), where
// scripts/ensure-postgres has installed the server and a missing piece is a broken machine.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("REGULARS_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("REGULARS_REQUIRE_POSTGRES=1 but a private PostgreSQL cluster cannot be started: %s", msg)
	}
	t.Skipf("no private PostgreSQL cluster (%s); REGULARS_REQUIRE_POSTGRES=1 turns this skip into a failure", msg)
}

// postgresBinDir finds the directory of initdb and pg_ctl: $PATH first, else the newest
// /usr/lib/postgresql/<version>/bin.
func postgresBinDir() (string, bool) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, true
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i], true
		}
	}
	return "", false
}

// startPGCluster makes and starts a private cluster, removed when the test ends.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin, ok := postgresBinDir()
	if !ok {
		unavailable(t, "initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin")
	}
	c := &pgCluster{bin: bin}
	dir, err := os.MkdirTemp("", "regulars-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		c.pgCtl("stop", "-m", "immediate") // whatever state it is in
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		owner, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "running as root and there is no postgres user to run the server as: %v", err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			unavailable(t, "running as root and runuser is missing: %v", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.as = []string{runuser, "-u", "postgres", "--"}
	}
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", c.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	c.start(t)
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// dsn is the cluster's postgres database, as the app's DATABASE_URL.
func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", c.port, c.dir)
	if out, err := c.pgCtl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\nserver log:\n%s", err, out, log)
	}
}

// stopImmediately stops the server the hardest way pg_ctl knows: every server process quits
// at once, open connections are cut, and the next start runs crash recovery.
func (c *pgCluster) stopImmediately(t *testing.T) {
	t.Helper()
	if out, err := c.pgCtl("stop", "-w", "-m", "immediate"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (c *pgCluster) pgCtl(args ...string) ([]byte, error) {
	return c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data()}, args...)...)
}

// run runs prog as the cluster's owner and returns its output. The output goes through a file,
// not a pipe: the server pg_ctl starts would otherwise hold the pipe open and Wait with it.
func (c *pgCluster) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(slices.Clone(c.as), prog), args...)
	outFile, err := os.CreateTemp("", "regulars-pg-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(outFile.Name())
	defer outFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = outFile, outFile
	runErr := cmd.Run()
	out, _ := os.ReadFile(outFile.Name())
	if runErr != nil {
		return out, fmt.Errorf("%s: %w", strings.Join(argv, " "), runErr)
	}
	return out, nil
}
