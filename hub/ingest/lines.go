package ingest

import (
	"github.com/aisle-rec/aisle/hub/catalog"
)

// MaxLineBytes bounds one line of any text input, as catalog.MaxLineBytes
// does for JSON lines. A longer line is reported as a row error and skipped
// without being held in memory.
const MaxLineBytes = catalog.MaxLineBytes
