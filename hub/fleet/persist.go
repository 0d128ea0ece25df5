package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The kept reports of each region can live on disk too, so that the
// dashboard's traffic figures survive a hub restart: Open loads them and Add
// rewrites the region's file, one small JSON document per region
// ({region}.json, at most KeepPerRegion reports), written to a temporary
// file and renamed over the old one so a crash leaves the old or the new
// file, never a part. Losing the last report or two in a crash is fine (they
// are traffic figures, not orders), so the files are not synced.

// storedReport is one kept report in a region's file.
type storedReport struct {
	At     int64           `json:"at"` // when the hub received it, Unix ms
	Report json.RawMessage `json:"report"`
}

// maxFileBytes bounds a region's file when it is read back.
const maxFileBytes = KeepPerRegion * (MaxReportBytes + 64)

// Open returns a registry that keeps its reports in dir (created if
// missing) as well as in memory, with the reports already there. A region
// file that does not read back (truncated, edited, a report the checks
// refuse) is left as it is and skipped; problems says which and why. now
// may be nil (time.Now).
func Open(dir string, now func() time.Time) (g *Registry, problems []error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("fleet: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: %w", err)
	}
	g = NewRegistry(now)
	g.dir = dir
	for _, e := range ents {
		region, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		rs, err := readRegion(filepath.Join(dir, e.Name()), region)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if len(g.regions) >= MaxRegions {
			problems = append(problems, fmt.Errorf("fleet: %s: more than %d regions; not loaded", e.Name(), MaxRegions))
			continue
		}
		g.regions[region] = rs
	}
	return g, problems, nil
}

// readRegion reads and checks one region's file.
func readRegion(path, region string) ([]received, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", path, err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("fleet: %s: over %d bytes", path, maxFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var stored []storedReport
	if err := dec.Decode(&stored); err != nil {
		return nil, fmt.Errorf("fleet: %s: %w", path, err)
	}
	if len(stored) > KeepPerRegion {
		return nil, fmt.Errorf("fleet: %s: %d reports, at most %d are kept", path, len(stored), KeepPerRegion)
	}
	rs := make([]received, 0, len(stored))
	for i, s := range stored {
		r, err := Decode(s.Report)
		if err == nil && r.Region != region {
			err = fmt.Errorf("region %q in the file of %q", r.Region, region)
		}
		if err == nil && s.At <= 0 {
			err = errors.New("no receipt time")
		}
		if err != nil {
			return nil, fmt.Errorf("fleet: %s: report %d: %w", path, i, err)
		}
		rs = append(rs, received{r, time.UnixMilli(s.At)})
	}
	return rs, nil
}

// save writes region's kept reports; the caller holds g.mu.
func (g *Registry) save(region string) error {
	rs := g.regions[region]
	stored := make([]storedReport, len(rs))
	for i, r := range rs {
		b, err := json.Marshal(r.Report)
		if err != nil {
			return err
		}
		stored[i] = storedReport{At: r.at.UnixMilli(), Report: b}
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(g.dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(g.dir, region+".json"))
}
