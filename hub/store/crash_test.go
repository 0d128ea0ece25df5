package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/wire"
)

// Environment of the helper process.
const (
	helperEnv   = "AISLE_STORE_HELPER"
	helperDBEnv = "AISLE_STORE_HELPER_DB"
	helperFrom  = "AISLE_STORE_HELPER_FROM" // the first batch number
)

const (
	crashBatchRows = 4000 // rows per committed batch in the helper
	crashMaxBatch  = 500  // the helper stops by itself after this many
)

// crashBatch writes batch b: even batches are products, odd ones events,
// each keyed so a batch's rows can be counted alone. It prints "writing b"
// once 3000 rows of the batch are in its (uncommitted) transaction.
func crashBatch(ctx context.Context, st *Store, b int) error {
	written := 0
	progress := OnProgress(func(n int) {
		if written += n; written == 3000 {
			fmt.Fprintf(os.Stdout, "writing %d\n", b)
		}
	})
	if b%2 == 0 {
		_, err := st.UpsertProducts(ctx, "a", products(fmt.Sprintf("b%04d-", b), crashBatchRows), progress)
		return err
	}
	events := make([]Event, crashBatchRows)
	for i := range events {
		events[i] = Event{Session: fmt.Sprintf("b%04d-s%03d", b, i/20), Seq: int64(i%20 + 1), Type: wire.View, Item: fmt.Sprintf("p%d", i), Time: int64(i)}
	}
	_, err := st.AppendEvents(ctx, "a", events, progress)
	return err
}

// crashBatchRowsStored counts the rows of batch b in the database.
func crashBatchRowsStored(t *testing.T, st *Store, b int) int {
	t.Helper()
	lo, hi := fmt.Sprintf("b%04d-", b), fmt.Sprintf("b%04d.", b) // '.' follows '-'
	q := "SELECT count(*) FROM products WHERE shop = 'a' AND id >= ? AND id < ?"
	if b%2 == 1 {
		q = "SELECT count(*) FROM events WHERE shop = 'a' AND session >= ? AND session < ?"
	}
	var n int
	if err := st.db.QueryRow(q, lo, hi).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHelperProcess is not a test: TestCrashSafety runs the test binary
// again with only this function selected and helperEnv set. It commits
// batches in a loop and prints "committed N" after each commit, until it
// is killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestCrashSafety")
	}
	ctx := context.Background()
	st, err := Open(ctx, os.Getenv(helperDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	// A tiny page cache on the one connection makes SQLite spill
	// uncommitted pages into the WAL file before the commit, so a kill
	// leaves uncommitted frames on disk that recovery must ignore.
	st.db.SetMaxOpenConns(1)
	if _, err := st.db.Exec("PRAGMA cache_size = -64"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	from, _ := strconv.Atoi(os.Getenv(helperFrom))
	for b := from; b < from+crashMaxBatch; b++ {
		if err := crashBatch(ctx, st, b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintf(os.Stdout, "committed %d\n", b) // os.Stdout is unbuffered
	}
	os.Exit(0)
}

// TestCrashSafety kills a process with SIGKILL while it commits batches,
// then checks that the database opens cleanly, that every batch the
// process reported committed is there whole, and that no batch is there
// in part.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crash.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateShop(ctx, "a", ""); err != nil {
		t.Fatal(err)
	}
	st.Close()

	for round := 0; round < 2; round++ {
		first := round * 1000 // each round writes new batches
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=1", helperDBEnv+"="+path, fmt.Sprintf("%s=%d", helperFrom, first))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a few commits: in round 0 as soon as the next batch
		// has rows in its open transaction, in round 1 at a random moment.
		killAfter := 3 + rand.IntN(3)
		reported := map[int]bool{}
		sc := bufio.NewScanner(out)
		last, inFlight := -1, -1
		for sc.Scan() {
			verb, num, _ := strings.Cut(sc.Text(), " ")
			b, err := strconv.Atoi(num)
			if err != nil {
				continue
			}
			switch {
			case verb == "committed":
				reported[b] = true
				last = b
				if round == 1 && len(reported) == killAfter {
					time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
				} else {
					continue
				}
			case verb == "writing" && round == 0 && len(reported) == killAfter:
				inFlight = b
			default:
				continue
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			break
		}
		cmd.Wait()
		if len(reported) < killAfter {
			t.Fatalf("helper stopped after %d commits; stderr:\n%s", len(reported), stderr.String())
		}

		if fi, err := os.Stat(path + "-wal"); err == nil {
			t.Logf("round %d: WAL left by the killed process: %d bytes", round, fi.Size())
		}
		st, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		if err := st.IntegrityCheck(ctx); err != nil {
			t.Fatalf("after kill: %v", err)
		}
		whole := 0
		for b := first; b <= last+3; b++ {
			n := crashBatchRowsStored(t, st, b)
			switch {
			case reported[b] && n != crashBatchRows:
				t.Errorf("round %d: batch %d was reported committed but has %d of %d rows", round, b, n, crashBatchRows)
			case n != 0 && n != crashBatchRows:
				t.Errorf("round %d: batch %d is partial: %d of %d rows", round, b, n, crashBatchRows)
			case n == crashBatchRows:
				whole++
			}
		}
		if inFlight >= 0 {
			t.Logf("round %d: killed in batch %d, which had 3000 rows in its open transaction; %d rows of it stored", round, inFlight, crashBatchRowsStored(t, st, inFlight))
		}
		t.Logf("round %d: killed after %d reported commits; %d whole batches stored", round, len(reported), whole)
		st.Close()
	}
}
