// Command aisle runs Aisle: the hub, local edges, the demo shop, and the
// evaluation and benchmark tools.
//
//	aisle demo                 run the demo shop locally
//	aisle hub serve [flags]    run the hub API
//	aisle publish [flags]      publish snapshots (hub store, Workers KV)
//	aisle edge serve [flags]   run a self-hosted edge node
//	aisle build [flags]        build a snapshot from interaction data
//	aisle inspect FILE         check a snapshot and print its summary
//	aisle eval recs [flags]    measure recommendation quality on real data
//
// Run "aisle COMMAND -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "run the demo shop locally: hub, one edge per region, and the store", runDemo},
		{"hub", "run the hub API: snapshots for edges, health, metrics (hub serve -h)", runHub},
		{"publish", "publish snapshots to the hub's store and to Workers KV", runPublish},
		{"edge", "run a self-hosted edge node (edge serve -h)", runEdge},
		{"build", "build a snapshot from interaction data", runBuild},
		{"ingest", "store a shop's catalog, reviews, FAQ or past events (ingest -h)", runIngest},
		{"inspect", "check a snapshot file and print its summary", runInspect},
		{"eval", "measure quality on real data (eval recs -h)", runEval},
		{"bench", "measure the edge: workerd, wazero and native on the same requests (bench edge -h), and under faults (bench reliability -h)", runBench},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: aisle COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"aisle COMMAND -h\" for a command's flags.")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		default:
			fmt.Fprintf(stderr, "aisle %s: %v\n", c.name, err)
			return exitError
		}
	}
	fmt.Fprintf(stderr, "aisle: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// flagSet is a flag.FlagSet that reports errors instead of exiting.
type flagSet struct{ *flag.FlagSet }

func newFlagSet(name, synopsis string, stderr io.Writer) *flagSet {
	fs := flag.NewFlagSet("aisle "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: aisle %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return &flagSet{fs}
}

// parse parses args; a flag error (already printed with the usage) becomes
// errUsage.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// usageErr prints the problem and the usage, and returns errUsage.
func (fs *flagSet) usageErr(format string, a ...any) error {
	fmt.Fprintf(fs.Output(), "aisle: "+format+"\n\n", a...)
	fs.Usage()
	return errUsage
}

// serve serves h on ln until ctx is done, then shuts the server down,
// giving requests in flight five seconds to finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// subcommand checks that args start with the one subcommand name a command
// has. It returns the arguments after it; or nil and the usage error (nil
// for -h, after printing the usage).
func subcommand(args []string, name, synopsis string, stderr io.Writer) ([]string, error) {
	if len(args) > 0 && args[0] == name {
		return args[1:], nil
	}
	cmd, _, _ := strings.Cut(synopsis, " -")
	fmt.Fprintf(stderr, "usage: aisle %s\n\nRun \"aisle %s -h\" for the flags.\n", synopsis, cmd)
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		return nil, nil
	}
	return nil, errUsage
}
