package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestTypedIDsDoNotMix type-checks the generated code of testdata/typedids
// with a file that hands an Email job's id to the Charge client's WaitFor,
// Get, Abort and Progress: each call must be a compile error, not a
// run-time ErrWrongKind.
func TestTypedIDsDoNotMix(t *testing.T) {
	t.Parallel()
	dir := mustAbs(t, filepath.Join("testdata", "typedids"))
	outs, _, err := generate(options{Dir: dir, Patterns: []string{"."}})
	if err != nil {
		t.Fatal(err)
	}
	overlay := map[string][]byte{}
	for _, o := range outs {
		overlay[o.Path] = o.Data
	}
	calls := []string{
		"_, _ = charges.WaitFor(ctx, email.ID)",
		"_, _ = charges.Get(ctx, email.ID)",
		"_ = charges.Abort(ctx, email.ID)",
		"_, _ = charges.Progress(email.ID)",
	}
	var src strings.Builder
	src.WriteString("package typedids\n\nimport \"context\"\n\nfunc mixUp(ctx context.Context, charges ChargeClient, email EmailHandle) {\n")
	for _, c := range calls {
		src.WriteString("\t" + c + "\n")
	}
	src.WriteString("}\n")
	overlay[filepath.Join(dir, "mixup.go")] = []byte(src.String())
	_, _, err = load(dir, []string{"."}, overlay)
	var diags diagList
	if !errors.As(err, &diags) {
		t.Fatalf("load with the mixed-up ids: %v, want type errors", err)
	}
	// One error per call, on its line (the file's sixth line is the first
	// call), and no other.
	msg := diags.Error()
	for i, c := range calls {
		at := fmt.Sprintf("mixup.go:%d:", 6+i)
		if !strings.Contains(msg, at) || !strings.Contains(msg, "cannot use email.ID") {
			t.Errorf("no type error for %s at %s; errors:\n%s", c, at, msg)
		}
	}
	if n := strings.Count(msg, "cannot use email.ID"); n != len(calls) || len(diags) != len(calls) {
		t.Errorf("%d errors, %d of them for the mixed-up ids, want %d:\n%s", len(diags), n, len(calls), msg)
	}
}
