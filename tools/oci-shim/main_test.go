package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var sysResource = map[string]bool{"CAP_SYS_RESOURCE": true}

const bundleConfig = `{
  "ociVersion": "1.0.2-dev",
  "process": {
    "args": ["/sbin/init"],
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"],
      "effective": ["CAP_CHOWN", "CAP_SYS_RESOURCE"],
      "inheritable": null,
      "permitted": ["CAP_SYS_RESOURCE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576}]
  },
  "linux": {
    "resources": {"memory": {"limit": 18446744073709551615}},
    "seccomp": {"syscalls": [{"names": ["personality"], "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]}]}
  },
  "annotations": {"a": "<&>"}
}`

func caps(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	return doc["capabilities"].(map[string]any)
}

func TestEditBundleDropsFromEveryListAndKeepsTheRest(t *testing.T) {
	out, changed, err := edit([]byte(bundleConfig), sysResource, true)
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	s := string(out)
	if strings.Contains(s, "CAP_SYS_RESOURCE") {
		t.Fatalf("CAP_SYS_RESOURCE left: %s", s)
	}
	for _, keep := range []string{"18446744073709551615", "4294967295", "1048576", `"<&>"`, `"inheritable":null`} {
		if !strings.Contains(s, keep) {
			t.Errorf("%s lost: %s", keep, s)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	got := caps(t, doc["process"].(map[string]any))
	want := map[string]any{
		"bounding":    []any{"CAP_CHOWN", "CAP_SYS_ADMIN"},
		"effective":   []any{"CAP_CHOWN"},
		"inheritable": nil,
		"permitted":   []any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("capabilities = %v, want %v", got, want)
	}
}

func TestEditLeavesADocumentWithoutTheCapabilityAlone(t *testing.T) {
	in := []byte(`{"process": {"capabilities": {"bounding": ["CAP_CHOWN"]}}, "x": 1.50}`)
	out, changed, err := edit(in, sysResource, true)
	if err != nil || changed || string(out) != string(in) {
		t.Fatalf("changed=%v err=%v out=%s", changed, err, out)
	}
	if _, changed, _ := edit([]byte(`{"ociVersion": "1"}`), sysResource, true); changed {
		t.Fatal("no process: nothing to change")
	}
}

func TestEditRejectsWhatIsNotJSON(t *testing.T) {
	if _, _, err := edit([]byte(`{"process":`), sysResource, true); err == nil {
		t.Fatal("want an error")
	}
}

func TestCreateEditsTheBundleGivenOrTheWorkingDirectory(t *testing.T) {
	for _, form := range [][]string{
		{"--bundle", "DIR"}, {"--bundle=DIR"}, {"-b", "DIR"}, {"-bundle", "DIR"}, nil,
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "config.json")
		if err := os.WriteFile(cfg, []byte(bundleConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"--root", "/run/containerd/runc/moby", "--log", "/x/log.json", "--log-format", "json", "--systemd-cgroup", "create"}
		for _, a := range form {
			args = append(args, strings.ReplaceAll(a, "DIR", dir))
		}
		args = append(args, "--pid-file", "/x/init.pid", "ctr-id")
		if form == nil {
			wd, _ := os.Getwd()
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chdir(wd) })
		}
		out, err := prepare(args, sysResource)
		if err != nil {
			t.Fatalf("%v: %v", form, err)
		}
		if !reflect.DeepEqual(out, args) {
			t.Errorf("%v: arguments changed: %v", form, out)
		}
		data, _ := os.ReadFile(cfg)
		if strings.Contains(string(data), "CAP_SYS_RESOURCE") {
			t.Errorf("%v: config.json not edited", form)
		}
		if info, _ := os.Stat(cfg); info.Mode().Perm() != 0o600 {
			t.Errorf("%v: mode %v", form, info.Mode())
		}
	}
}

func TestCreateWithAMissingConfigFails(t *testing.T) {
	if _, err := prepare([]string{"create", "--bundle", t.TempDir(), "id"}, sysResource); err == nil {
		t.Fatal("want an error")
	}
}

func TestExecEditsTheProcessFileAndDropsCapFlags(t *testing.T) {
	proc := filepath.Join(t.TempDir(), "runc-process123")
	body := `{"args": ["sh"], "capabilities": {"bounding": ["CAP_SYS_RESOURCE", "CAP_KILL"], "ambient": ["CAP_SYS_RESOURCE"]}}`
	if err := os.WriteFile(proc, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--root", "/r", "exec", "--process", proc, "--cap", "sys_resource", "--cap=CAP_KILL", "-c", "CAP_SYS_RESOURCE", "--detach", "id", "sh", "-c", "sys_resource"}
	out, err := prepare(args, sysResource)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--root", "/r", "exec", "--process", proc, "--cap=CAP_KILL", "--detach", "id", "sh", "-c", "sys_resource"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("args = %v\nwant  %v", out, want)
	}
	data, _ := os.ReadFile(proc)
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	got := caps(t, doc)
	if !reflect.DeepEqual(got, map[string]any{"bounding": []any{"CAP_KILL"}, "ambient": []any{}}) {
		t.Errorf("capabilities = %v", got)
	}
}

func TestOtherCommandsPassThrough(t *testing.T) {
	for _, args := range [][]string{
		{"--root", "/r", "state", "id"}, {"--version"}, {"features"}, {"--log", "create", "delete", "create"}, {},
	} {
		out, err := prepare(args, sysResource)
		if err != nil || !reflect.DeepEqual(out, args) {
			t.Errorf("%v: %v %v", args, out, err)
		}
	}
}

func TestMissingCapsReadsTheBoundingSet(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	last := filepath.Join(dir, "cap_last_cap")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(status, "Name:\tx\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n")
	write(last, "40\n")
	drop, err := missingCaps(status, last)
	if err != nil || !reflect.DeepEqual(drop, sysResource) {
		t.Fatalf("drop=%v err=%v", drop, err)
	}
	write(status, "CapBnd:\t000001ffffffffff\n")
	if drop, _ := missingCaps(status, last); len(drop) != 0 {
		t.Fatalf("a complete set drops nothing: %v", drop)
	}
	// An older kernel knows fewer capabilities: the unknown bits are not "missing".
	write(status, "CapBnd:\t0000003fffffffff\n")
	write(last, "37\n")
	if drop, _ := missingCaps(status, last); len(drop) != 0 {
		t.Fatalf("drop=%v", drop)
	}
}

func TestRealRuntimeSkipsItself(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	first, second := t.TempDir(), t.TempDir()
	if err := os.Symlink(self, filepath.Join(first, "runc")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(second, "runc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MC_SHIM_RUNC", "")
	t.Setenv("PATH", first+string(os.PathListSeparator)+second)
	got, err := realRuntime()
	if err != nil || got != filepath.Join(second, "runc") {
		t.Fatalf("got %q %v", got, err)
	}
}
