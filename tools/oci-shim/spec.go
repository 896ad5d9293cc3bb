package main

// Editing the capability lists of an OCI bundle's config.json or of an exec process file:
// only those lists are decoded, the rest of each document stays raw JSON.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// editFile removes the dropped capabilities from a bundle's config.json (bundle=true: under
// "process") or from a process file (its top level), rewriting it atomically if anything changed.
func editFile(path string, drop map[string]bool, bundle bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, changed, err := edit(data, drop, bundle)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mc-shim-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// edit returns the document with the dropped capabilities removed from every list.
func edit(data []byte, drop map[string]bool, bundle bool) ([]byte, bool, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, false, err
	}
	if !bundle {
		changed, err := editProcess(doc, drop)
		if err != nil || !changed {
			return data, false, err
		}
		out, err := marshal(doc)
		return out, true, err
	}
	raw, ok := doc["process"]
	if !ok || isNull(raw) {
		return data, false, nil
	}
	var process map[string]json.RawMessage
	if err := json.Unmarshal(raw, &process); err != nil {
		return nil, false, fmt.Errorf("process: %w", err)
	}
	changed, err := editProcess(process, drop)
	if err != nil || !changed {
		return data, false, err
	}
	if doc["process"], err = marshal(process); err != nil {
		return nil, false, err
	}
	out, err := marshal(doc)
	return out, true, err
}

// editProcess filters process.capabilities' lists (bounding, effective, inheritable, permitted,
// ambient, and any other list there).
func editProcess(process map[string]json.RawMessage, drop map[string]bool) (bool, error) {
	raw, ok := process["capabilities"]
	if !ok || isNull(raw) {
		return false, nil
	}
	var caps map[string]json.RawMessage
	if err := json.Unmarshal(raw, &caps); err != nil {
		return false, fmt.Errorf("capabilities: %w", err)
	}
	changed := false
	for key, listRaw := range caps {
		if isNull(listRaw) {
			continue
		}
		var list []string
		if err := json.Unmarshal(listRaw, &list); err != nil {
			return false, fmt.Errorf("capabilities.%s: %w", key, err)
		}
		kept := make([]string, 0, len(list))
		for _, c := range list {
			if drop[capName(c)] {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == len(list) {
			continue
		}
		var err error
		if caps[key], err = marshal(kept); err != nil {
			return false, err
		}
	}
	if !changed {
		return false, nil
	}
	var err error
	process["capabilities"], err = marshal(caps)
	return true, err
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
