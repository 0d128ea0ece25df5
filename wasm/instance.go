package wasm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/aisle-rec/aisle/wasm/internal/abi"
)

// instance is one instantiated guest module, used by one goroutine at a
// time. A nil mod means broken: it must be re-instantiated before use.
type instance struct {
	mod                                 api.Module
	alloc, loadFn, rankFn, ver, errMsgF api.Function
	stderr                              *headWriter
	stack                               [2]uint64

	gen     uint64 // generation of the snapshot it holds, 0 for none
	version string // and its version
}

// instantiate starts a fresh instance with no snapshot.
func (r *Runtime) instantiate(ctx context.Context) (*instance, error) {
	in := &instance{stderr: &headWriter{max: 4096}}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: the same module instantiated many times
		WithStartFunctions("_initialize").
		WithStderr(in.stderr).
		WithStdout(in.stderr)
	mod, err := r.rt.InstantiateModule(ctx, r.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("wasm: instantiate: %w", in.classify(err))
	}
	in.mod = mod
	fns := []struct {
		fn   *api.Function
		name string
	}{
		{&in.alloc, abi.Alloc}, {&in.loadFn, abi.Load}, {&in.rankFn, abi.Rank},
		{&in.ver, abi.SnapshotVersion}, {&in.errMsgF, abi.ErrorMessage},
	}
	for _, f := range fns {
		if *f.fn = mod.ExportedFunction(f.name); *f.fn == nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("wasm: instantiate: the module has no export %q", f.name)
		}
	}
	abiVer := mod.ExportedFunction(abi.ABIVersion)
	if abiVer == nil {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate: the module has no export %q", abi.ABIVersion)
	}
	v, err := abiVer.Call(ctx)
	if err != nil || len(v) != 1 || v[0] != abi.Version {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate: the module speaks ABI %v, want %d (err %v): run go generate ./wasm", v, abi.Version, err)
	}
	return in, nil
}

// alive reports whether in can be called.
func (in *instance) alive() bool { return in.mod != nil && !in.mod.IsClosed() }

// discard closes in's module and marks it broken.
func (in *instance) discard(ctx context.Context) {
	if in.mod != nil {
		_ = in.mod.Close(ctx)
	}
	in.mod, in.gen, in.version = nil, 0, ""
}

// call runs fn with the arguments in in.stack and returns its result.
func (in *instance) call(ctx context.Context, fn api.Function, args ...uint64) (uint64, error) {
	copy(in.stack[:], args)
	if err := fn.CallWithStack(ctx, in.stack[:]); err != nil {
		return 0, in.classify(err)
	}
	return in.stack[0], nil
}

// write copies b into the guest's input buffer and returns its address.
func (in *instance) write(ctx context.Context, b []byte) (uint32, error) {
	ptr, err := in.call(ctx, in.alloc, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if ptr == 0 {
		return 0, fmt.Errorf("input of %d bytes: %s", len(b), in.message(ctx))
	}
	if !in.mod.Memory().Write(uint32(ptr), b) {
		return 0, fmt.Errorf("input of %d bytes: alloc returned %#x, outside guest memory", len(b), ptr)
	}
	return uint32(ptr), nil
}

// load makes in rank from st. On failure in keeps its previous snapshot
// unless it trapped (then !in.alive()).
func (in *instance) load(ctx context.Context, st state) error {
	ptr, err := in.write(ctx, st.bytes)
	if err != nil {
		return err
	}
	res, err := in.call(ctx, in.loadFn, uint64(ptr), uint64(len(st.bytes)))
	if err != nil {
		return err
	}
	if s := abi.Status(res); s != abi.StatusOK {
		return in.statusError(ctx, s)
	}
	p, err := in.call(ctx, in.ver)
	if err != nil {
		return err
	}
	v, err := in.read(p)
	if err != nil {
		return err
	}
	in.gen, in.version = st.gen, string(v)
	return nil
}

// rank runs one request and returns the response bytes, a view into guest
// memory valid until the next call on in.
func (in *instance) rank(ctx context.Context, req []byte) ([]byte, error) {
	ptr, err := in.write(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := in.call(ctx, in.rankFn, uint64(ptr), uint64(len(req)))
	if err != nil {
		return nil, err
	}
	if p, n := abi.Unpack(res); p == 0 {
		return nil, in.statusError(ctx, abi.Status(n))
	}
	return in.read(res)
}

// read returns the guest memory named by a Pack result.
func (in *instance) read(packed uint64) ([]byte, error) {
	p, n := abi.Unpack(packed)
	if p == 0 {
		return nil, nil
	}
	b, ok := in.mod.Memory().Read(p, n)
	if !ok {
		return nil, fmt.Errorf("guest returned %#x+%d, outside its memory", p, n)
	}
	return b, nil
}

// message returns the guest's last error message.
func (in *instance) message(ctx context.Context) string {
	p, err := in.call(ctx, in.errMsgF)
	if err != nil {
		return "(no message: " + err.Error() + ")"
	}
	b, err := in.read(p)
	if err != nil || len(b) == 0 {
		return "(no message)"
	}
	return string(b)
}

// statusError turns a guest status into an error with the guest's message.
func (in *instance) statusError(ctx context.Context, s abi.Status) error {
	msg := in.message(ctx)
	switch s {
	case abi.StatusBadSnapshot:
		return fmt.Errorf("%w: %s", ErrBadSnapshot, msg)
	case abi.StatusBadRequest:
		return fmt.Errorf("%w: %s", ErrBadRequest, msg)
	case abi.StatusNoSnapshot:
		return fmt.Errorf("%w: %s", ErrNoSnapshot, msg)
	}
	return fmt.Errorf("guest: %s: %s", s, msg)
}

// classify describes an error from a guest call: a cancelled context, the
// guest running out of memory (the Go runtime says so on stderr before it
// exits), or another trap. The caller's context error stays wrapped.
func (in *instance) classify(err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeContextCanceled, sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("%w: %w", ErrTrap, err)
		}
	}
	if fatal := in.stderr.fatal(); fatal != "" {
		if strings.Contains(fatal, "out of memory") || strings.Contains(fatal, "cannot allocate memory") {
			return fmt.Errorf("%w: %s: raise Config.MemoryLimitPages", ErrOutOfMemory, fatal)
		}
		return fmt.Errorf("%w: %s: %w", ErrTrap, fatal, err)
	}
	return fmt.Errorf("%w: %w", ErrTrap, err)
}

// headWriter keeps the first max bytes written to it: the guest writes to
// stderr only when its runtime dies, and the first lines say why.
type headWriter struct {
	max int
	buf bytes.Buffer
}

func (w *headWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// fatal returns the guest runtime's first "fatal error" or "runtime:"
// lines, or "".
func (w *headWriter) fatal() string {
	var lines []string
	for line := range strings.Lines(w.buf.String()) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "runtime:") || strings.HasPrefix(line, "panic:") {
			lines = append(lines, line)
		}
		if len(lines) == 3 {
			break
		}
	}
	return strings.Join(lines, "; ")
}
