// Command mc-shim is an OCI runtime that stands in front of runc on test machines whose
// capability bounding set lacks a capability Docker grants to privileged containers (the
// Firecracker VMs the tests run on lack CAP_SYS_RESOURCE). There runc fails every
// `--privileged` container with "unable to apply caps: operation not permitted", and kind's
// node containers are privileged.
//
// It takes runc's own command line. Before `create` and `run` it removes every capability that
// this process's bounding set lacks from the capability lists of the bundle's config.json
// (`--bundle`, or the working directory as runc does); before `exec` it does the same to the
// `--process` file and drops `--cap` flags naming such a capability. Then it execs the real runc
// with the same arguments. Every other command passes through untouched. On a machine whose
// bounding set is complete it changes nothing, but tools/docker.sh registers it only where a
// capability is missing; users' machines never see it.
//
// Only the capability lists are decoded: the rest of each file is kept as raw JSON, so numbers
// such as 64-bit resource limits and seccomp arguments pass through unchanged.
//
// The binary is static (CGO_ENABLED=0), so it can sit in front of a kind node's own runc too.
//
// Two invocations are its own, never runc's:
//
//	mc-shim --mc-shim-info     prints the capabilities it drops here and the runc it execs
//	mc-shim-check              (the binary under that name) prints its capabilities: the
//	                           payload of the privileged-container check in tools/docker.sh
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// capNames are the kernel's capabilities by number (linux/capability.h), as OCI specs spell them.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// runc's flags that take a value, per place (urfave/cli v1 on Go's flag package: -x or --x,
// the value next or after '=', flags end at the first positional argument or "--").
var valueFlags = map[string]map[string]bool{
	"":       set("log", "log-format", "root", "criu", "rootless"),
	"create": set("bundle", "b", "console-socket", "pid-file", "preserve-fds"),
	"run":    set("bundle", "b", "console-socket", "pid-file", "preserve-fds"),
	"exec": set("console-socket", "cwd", "env", "e", "user", "u", "additional-gids", "g", "process", "p",
		"pid-file", "process-label", "apparmor", "cap", "c", "preserve-fds", "cgroup"),
}

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// flag is one parsed flag; args[start:end] holds it.
type flag struct {
	name, value string
	start, end  int
}

// parseFlags reads flags up to the first positional argument, whose index it returns (len(args)
// if none). A "--" ends the flags and is skipped.
func parseFlags(args []string, values map[string]bool) ([]flag, int) {
	var flags []flag
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, i + 1
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return flags, i
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := flag{name: name, value: value, start: i, end: i + 1}
		if !hasValue && values[name] && i+1 < len(args) {
			f.value, f.end = args[i+1], i+2
			i++
		}
		flags = append(flags, f)
	}
	return flags, len(args)
}

func lookup(flags []flag, names ...string) (string, bool) {
	for _, f := range flags {
		for _, n := range names {
			if f.name == n {
				return f.value, true
			}
		}
	}
	return "", false
}

func main() {
	if filepath.Base(os.Args[0]) == "mc-shim-check" {
		os.Exit(selfCheck())
	}
	args := os.Args[1:]
	drop, err := missingCaps("/proc/self/status", "/proc/sys/kernel/cap_last_cap")
	if err != nil {
		fail(args, err)
	}
	if len(args) == 1 && args[0] == "--mc-shim-info" {
		real, err := realRuntime()
		if err != nil {
			fail(args, err)
		}
		fmt.Printf("drops: %s\nruntime: %s\n", strings.Join(sortedNames(drop), " "), real)
		return
	}
	if len(drop) > 0 {
		if args, err = prepare(args, drop); err != nil {
			fail(args, err)
		}
	}
	real, err := realRuntime()
	if err != nil {
		fail(args, err)
	}
	err = syscall.Exec(real, append([]string{real}, args...), os.Environ())
	fail(args, fmt.Errorf("exec %s: %w", real, err))
}

// prepare edits what the subcommand reads and returns the arguments to pass on.
func prepare(args []string, drop map[string]bool) ([]string, error) {
	_, at := parseFlags(args, valueFlags[""])
	if at >= len(args) {
		return args, nil
	}
	cmd, rest := args[at], args[at+1:]
	flags, _ := parseFlags(rest, valueFlags[cmd])
	switch cmd {
	case "create", "run":
		bundle, _ := lookup(flags, "bundle", "b")
		if bundle == "" {
			bundle = "."
		}
		return args, editFile(filepath.Join(bundle, "config.json"), drop, true)
	case "exec":
		if process, _ := lookup(flags, "process", "p"); process != "" {
			if err := editFile(process, drop, false); err != nil {
				return args, err
			}
		}
		// `--cap X` adds a capability to the exec'd process: drop those naming a missing one.
		out := append([]string{}, args[:at+1]...)
		next := 0
		for _, f := range flags {
			if (f.name == "cap" || f.name == "c") && drop[capName(f.value)] {
				out = append(out, rest[next:f.start]...)
				next = f.end
			}
		}
		return append(out, rest[next:]...), nil
	}
	return args, nil
}

func capName(s string) string {
	s = strings.ToUpper(s)
	if !strings.HasPrefix(s, "CAP_") {
		s = "CAP_" + s
	}
	return s
}

// missingCaps names the capabilities (up to the kernel's last) absent from the bounding set.
func missingCaps(statusPath, lastCapPath string) (map[string]bool, error) {
	status, err := os.ReadFile(statusPath)
	if err != nil {
		return nil, err
	}
	var bounding uint64
	found := false
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			if bounding, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				return nil, fmt.Errorf("CapBnd in %s: %w", statusPath, err)
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("no CapBnd line in %s", statusPath)
	}
	last := len(capNames) - 1
	if raw, err := os.ReadFile(lastCapPath); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && n < last {
			last = n
		}
	}
	drop := map[string]bool{}
	for bit := 0; bit <= last; bit++ {
		if bounding&(1<<uint(bit)) == 0 {
			drop[capNames[bit]] = true
		}
	}
	return drop, nil
}

func sortedNames(drop map[string]bool) []string {
	var names []string
	for _, n := range capNames {
		if drop[n] {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return []string{"(none)"}
	}
	return names
}

// realRuntime is $MC_SHIM_RUNC, or the first runc on PATH (then in the sbin/bin dirs) that is
// not this binary, so the shim can also be installed under the name runc ahead of the real one.
func realRuntime() (string, error) {
	if p := os.Getenv("MC_SHIM_RUNC"); p != "" {
		return p, nil
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "runc")
		info, err := os.Stat(p)
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			continue
		}
		if selfInfo != nil && os.SameFile(info, selfInfo) {
			continue
		}
		return p, nil
	}
	return "", errors.New("no runc found on PATH or in /usr/sbin, /usr/bin (set MC_SHIM_RUNC)")
}

// fail reports to stderr and, as runc does, to its --log file (containerd reads the last error
// from there when it is JSON), then exits 1.
func fail(args []string, err error) {
	msg := "mc-shim: " + err.Error()
	fmt.Fprintln(os.Stderr, msg)
	global, _ := parseFlags(args, valueFlags[""])
	logPath, _ := lookup(global, "log")
	format, _ := lookup(global, "log-format")
	if logPath != "" {
		if f, ferr := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); ferr == nil {
			if format == "json" {
				line, _ := json.Marshal(map[string]string{"level": "error", "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
				fmt.Fprintf(f, "%s\n", line)
			} else {
				fmt.Fprintf(f, "level=error msg=%q\n", msg)
			}
			f.Close()
		}
	}
	os.Exit(1)
}

// selfCheck runs inside a container: it prints the capability sets it got.
func selfCheck() int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mc-shim-check:", err)
		return 1
	}
	var sets []string
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "CapEff:") || strings.HasPrefix(line, "CapBnd:") {
			sets = append(sets, strings.Join(strings.Fields(line), " "))
		}
	}
	fmt.Printf("mc-shim-check ok: %s\n", strings.Join(sets, ", "))
	return 0
}
