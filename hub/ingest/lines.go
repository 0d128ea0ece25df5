package ingest

import (
	"bufio"
	"bytes"
	"io"

	"github.com/aisle-rec/aisle/hub/catalog"
)

// MaxLineBytes bounds one line of any text input, as catalog.MaxLineBytes
// does for JSON lines. A longer line is reported as a row error and skipped
// without being held in memory.
const MaxLineBytes = catalog.MaxLineBytes

// lineReader returns numbered lines of at most MaxLineBytes, discarding
// longer ones as they stream past, without their line ends (LF or CRLF).
// The first line loses a UTF-8 byte-order mark.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int
	eof  bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, or tooLong (and no bytes) when it exceeds
// MaxLineBytes; io.EOF after the last line. The bytes are valid until the
// next call.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	if lr.eof {
		return nil, false, io.EOF
	}
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(chunk) > 0 {
			read = true
		}
		if !tooLong {
			if len(lr.buf)+len(chunk) > MaxLineBytes+2 { // room for "\r\n"
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch err {
		case nil:
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			lr.eof = true
			if !read {
				return nil, false, io.EOF
			}
		default:
			return nil, false, err
		}
		break
	}
	lr.line++
	if tooLong {
		return nil, true, nil
	}
	line = bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if lr.line == 1 {
		line = bytes.TrimPrefix(line, []byte("\uFEFF"))
	}
	if len(line) > MaxLineBytes {
		return nil, true, nil
	}
	return line, false, nil
}
