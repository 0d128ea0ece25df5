package publish

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aisle-rec/aisle/shared/snapshot"
)

// TestPublishCrashHelper is the child of TestPublishSurvivesKill: it
// publishes snapshots in a loop and prints each version once its pointer
// has moved.
func TestPublishCrashHelper(t *testing.T) {
	dir := os.Getenv("AISLE_PUBLISH_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestPublishSurvivesKill")
	}
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); ; i++ {
		s := snapshot.Synthetic(3000, 32, 10, 8, i)
		s.Region = "eu"
		b, err := snapshot.Encode(s, snapshot.EncodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.Publish("eu", b)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("published", v)
	}
}

// TestPublishSurvivesKill kills a publisher with SIGKILL at several moments
// and checks after each that the pointer names a complete snapshot whose
// bytes match their version, and that it is the last one the child
// reported or the one it was writing.
func TestPublishSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped in -short mode")
	}
	dir := t.TempDir()
	for round, delay := range []time.Duration{150 * time.Millisecond, 400 * time.Millisecond, 900 * time.Millisecond} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPublishCrashHelper$")
		cmd.Env = append(os.Environ(), "AISLE_PUBLISH_CRASH_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		reported := make(chan []string, 1)
		go func() {
			var vs []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "published "); ok {
					vs = append(vs, v)
				}
			}
			reported <- vs
		}()
		time.Sleep(delay)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		vs := <-reported
		st, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.Pointer("eu")
		if err != nil {
			if len(vs) == 0 && round == 0 {
				continue // killed before the first publish finished
			}
			t.Fatalf("round %d: no pointer after %d publishes: %v", round, len(vs), err)
		}
		b, err := st.Get("eu", v)
		if err != nil {
			t.Fatalf("round %d: the pointer names a snapshot that cannot be read: %v", round, err)
		}
		if _, err := snapshot.Decode(b, snapshot.DefaultLimits()); err != nil {
			t.Fatalf("round %d: the served snapshot does not decode: %v", round, err)
		}
		// The child may have moved the pointer once more without getting to
		// print (that version was checked complete above), but the pointer
		// never goes back to an older reported version.
		for i, old := range vs[:max(len(vs)-1, 0)] {
			if v == old {
				t.Fatalf("round %d: pointer names version %d of %d reported", round, i+1, len(vs))
			}
		}
		// Every stored snapshot file is whole: a killed write leaves at most
		// a temporary file, which nothing serves.
		files, _ := filepath.Glob(filepath.Join(dir, "eu", "*.snap"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".snap")
			if _, err := st.Get("eu", name); err != nil {
				t.Fatalf("round %d: stored %s is not whole: %v", round, name[:12], err)
			}
		}
		t.Logf("round %d: killed after %d publishes; serving %s", round, len(vs), v[:12])
	}
}
