package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regularsapp/regulars/app"
)

// The servers run in processes of their own, started from this binary (serve-app is the app
// exactly as cmd/regulars runs it; serve-bare is the ceiling), each optionally pinned to
// -server-cpus with taskset, their logs in the output directory.

// envCPUProfile names the file serve-app writes a CPU profile to, between SIGUSR1 (start) and
// SIGUSR2 (stop).
const envCPUProfile = "REGULARS_BENCH_CPUPROFILE"

// serveApp is `regulars-bench serve-app`: app.Run with the environment, as cmd/regulars's
// main, plus a CPU profile on demand (see envCPUProfile).
func serveApp(stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv(envCPUProfile); path != "" {
		go profileOnSignal(ctx, path)
	}
	return app.Run(ctx, nil, os.Getenv, stdout)
}

// profileOnSignal starts a CPU profile into path on SIGUSR1 and stops it on SIGUSR2.
func profileOnSignal(ctx context.Context, path string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sig)
	var f *os.File
	for {
		select {
		case <-ctx.Done():
			if f != nil {
				pprof.StopCPUProfile()
				_ = f.Close()
			}
			return
		case s := <-sig:
			switch {
			case s == syscall.SIGUSR1 && f == nil:
				var err error
				if f, err = os.Create(path); err != nil {
					fmt.Fprintln(os.Stderr, "regulars-bench serve-app: cpu profile:", err)
					f = nil
					continue
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					fmt.Fprintln(os.Stderr, "regulars-bench serve-app: cpu profile:", err)
					_ = f.Close()
					f = nil
				}
			case s == syscall.SIGUSR2 && f != nil:
				pprof.StopCPUProfile()
				_ = f.Close()
				f = nil
			}
		}
	}
}

// server is a running server process.
type server struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port it listens on
	log  *os.File
	done chan error
}

// startServer runs this binary with args (serve-app or serve-bare) and env added to ours,
// pinned to cpus when given, logging to dir/name.log, and waits until it listens.
func startServer(ctx context.Context, dir, name, cpus string, env []string, args ...string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	argv := append([]string{self}, args...)
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, log: logFile, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			if found {
				continue
			}
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
				found = true
				addr <- rec.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		s.addr = a
		return s, nil
	case err := <-s.done:
		_ = logFile.Close()
		return nil, fmt.Errorf("%s stopped before listening (%v); see %s", name, err, logFile.Name())
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("%s did not listen within 2 minutes; see %s", name, logFile.Name())
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// url is the server's base URL.
func (s *server) url() string { return "http://" + s.addr }

// pid is the server's process id (taskset execs the server in its own process).
func (s *server) pid() int { return s.cmd.Process.Pid }

// signal sends sig to the server.
func (s *server) signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// stop asks the server to shut down and waits, killing it after 20 s.
func (s *server) stop() error {
	if s == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		err = fmt.Errorf("%s did not stop within 20 s; killed", s.name)
		<-s.done
	}
	_ = s.log.Close()
	return err
}

// cpuTicks is the CPU time a process has used, in clock ticks (utime + stime of
// /proc/PID/stat); 0 when it cannot be read.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are space-separated.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// clockTicks is the kernel's USER_HZ, which /proc reports CPU times in (100 on Linux).
const clockTicks = 100

// postgresTicks is the CPU time of every PostgreSQL server process on the machine, by pid.
func postgresTicks() map[int]int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	ticks := map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		ticks[pid] = cpuTicks(pid)
	}
	return ticks
}

// cpuTimes is each CPU's busy and total time in ticks, from /proc/stat.
func cpuTimes() (busy, total []int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		var sum, idle int64
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i < 8 { // user nice system idle iowait irq softirq steal
				sum += n
			}
			if i == 3 || i == 4 {
				idle += n
			}
		}
		busy, total = append(busy, sum-idle), append(total, sum)
	}
	return busy, total
}

// cpuMeter measures CPU use over an interval: of some processes, of PostgreSQL, of this one,
// and of each CPU by anything on the machine.
type cpuMeter struct {
	pids        []int
	start       time.Time
	ticks       []int64
	pg          map[int]int64
	client      int64
	busy, total []int64
}

func meterCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, start: time.Now(), pg: postgresTicks(), client: cpuTicks(os.Getpid())}
	m.busy, m.total = cpuTimes()
	for _, p := range pids {
		m.ticks = append(m.ticks, cpuTicks(p))
	}
	return m
}

// cpuUse is CPU time used over an interval, in cores (1.0 is one core busy all the time).
type cpuUse struct {
	Servers  []float64 `json:"servers"`  // per measured process
	Postgres float64   `json:"postgres"` // the PostgreSQL processes (not those that ended meanwhile, such as parallel workers)
	Client   float64   `json:"client"`   // this process (the load generator)
	PerCPU   []float64 `json:"per_cpu"`  // how busy each CPU was, whatever ran on it
}

func (m *cpuMeter) read() cpuUse {
	secs := time.Since(m.start).Seconds()
	cores := func(ticks int64) float64 { return math.Round(float64(ticks)/clockTicks/secs*100) / 100 }
	var pg int64
	for pid, t := range postgresTicks() {
		pg += t - m.pg[pid] // a process started meanwhile counts from 0
	}
	u := cpuUse{Postgres: cores(pg), Client: cores(cpuTicks(os.Getpid()) - m.client)}
	for i, p := range m.pids {
		u.Servers = append(u.Servers, cores(cpuTicks(p)-m.ticks[i]))
	}
	busy, total := cpuTimes()
	for i := range min(len(busy), len(m.busy)) {
		if d := total[i] - m.total[i]; d > 0 {
			u.PerCPU = append(u.PerCPU, math.Round(float64(busy[i]-m.busy[i])/float64(d)*100)/100)
		}
	}
	return u
}

// affinity is the CPUs this process may run on, as /proc/self/status says.
func affinity() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// errNoTaskset: pinning was asked for but taskset is missing.
var errNoTaskset = errors.New("taskset is not installed (util-linux); run with -server-cpus= -client-cpus= to skip pinning")
