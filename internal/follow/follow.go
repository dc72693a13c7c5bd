// Package follow reads the complete lines of a file that keeps growing, as
// `tail -F` does: it waits for new lines at the end, never returns a line
// whose newline has not been written yet, and carries on with the new file
// when the path is rotated (renamed and created again, or truncated). It is
// what `vds ingest -follow` reads a live CSV file with.
package follow

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// DefaultMaxLine bounds the length of one line (without its newline) by
// default.
const DefaultMaxLine = 1 << 20

// DefaultPoll is how often a Follower looks for new lines at the end of
// the file by default.
const DefaultPoll = 200 * time.Millisecond

// ErrLineTooLong: a line is longer than the Follower's MaxLine. The rest
// of the file is not read.
var ErrLineTooLong = errors.New("follow: line too long")

// Line is one complete line of the followed file.
type Line struct {
	Text []byte // without the newline (and a carriage return before it)
	// File counts the files read so far: 0 for the first one, one more
	// after each rotation. Its first line is then usually a header again.
	File int
}

// Follower reads a file's complete lines, waits at its end for more, and
// follows the path to a new file when it is rotated. Use New; it is not
// safe for concurrent use.
type Follower struct {
	// Path is the followed file.
	Path string
	// Poll is how often to look for new data at the end (DefaultPoll if 0).
	Poll time.Duration
	// MaxLine bounds a line's length (DefaultMaxLine if 0).
	MaxLine int
	// Stop, when set, makes Next return io.EOF at the end of the data
	// instead of waiting (reading standard input, or a file once).
	Stop bool

	f       *os.File
	r       *bufio.Reader
	partial []byte
	pos     int64 // bytes of f consumed (complete lines and partial)
	file    int
}

// New opens path for following from its first line.
func New(path string) (*Follower, error) {
	f := &Follower{Path: path}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

// FromReader follows r (standard input, a pipe): lines as they arrive,
// io.EOF when r ends. There is no rotation.
func FromReader(r io.Reader) *Follower {
	return &Follower{r: bufio.NewReaderSize(r, 64<<10), Stop: true}
}

func (f *Follower) open() error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	f.f, f.r, f.pos, f.partial = fh, bufio.NewReaderSize(fh, 64<<10), 0, nil
	return nil
}

// Close releases the open file.
func (f *Follower) Close() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

// Next returns the next complete line. At the end of the data it waits
// (polling every Poll) until a line is complete, the path is rotated (the
// rest of the old file is read first, then the new one from its start), or
// ctx ends (ctx.Err()). With Stop set it returns io.EOF at the end instead;
// a last line without a newline is then returned as a line.
func (f *Follower) Next(ctx context.Context) (Line, error) {
	max := f.MaxLine
	if max <= 0 {
		max = DefaultMaxLine
	}
	for {
		if err := ctx.Err(); err != nil {
			return Line{}, err
		}
		chunk, err := f.r.ReadSlice('\n')
		f.pos += int64(len(chunk))
		if len(f.partial)+len(chunk) > max+2 {
			return Line{}, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
		}
		switch {
		case err == nil:
			var text []byte
			if len(f.partial) > 0 {
				text = append(f.partial, chunk...)
				f.partial = nil
			} else {
				text = append([]byte(nil), chunk...)
			}
			text = bytes.TrimSuffix(bytes.TrimSuffix(text, []byte("\n")), []byte("\r"))
			if len(text) > max {
				return Line{}, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
			}
			return Line{Text: text, File: f.file}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			f.partial = append(f.partial, chunk...)
			continue
		case errors.Is(err, io.EOF):
			f.partial = append(f.partial, chunk...)
		default:
			return Line{}, fmt.Errorf("follow: %w", err)
		}
		// At the end of the data written so far.
		if f.Stop {
			if len(f.partial) > 0 {
				text := bytes.TrimSuffix(f.partial, []byte("\r"))
				f.partial = nil
				if len(text) > max {
					return Line{}, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
				}
				return Line{Text: text, File: f.file}, nil
			}
			return Line{}, io.EOF
		}
		rotated, err := f.rotated()
		if err != nil {
			return Line{}, err
		}
		if rotated {
			// The old file's last line had no newline: it is complete
			// now that nothing more will be written to it.
			text := bytes.TrimSuffix(f.partial, []byte("\r"))
			if len(text) > max {
				return Line{}, fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, max)
			}
			_ = f.f.Close()
			if err := f.open(); err != nil {
				return Line{}, err
			}
			f.file++
			if len(text) > 0 {
				return Line{Text: text, File: f.file - 1}, nil
			}
			continue
		}
		if err := f.wait(ctx); err != nil {
			return Line{}, err
		}
	}
}

// rotated reports whether the path names another file than the open one
// (renamed and created again) or the open file was truncated; a path that
// does not exist for now (between a rename and the new file's creation) is
// not a rotation yet.
func (f *Follower) rotated() (bool, error) {
	cur, err := f.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	if cur.Size() < f.pos {
		return true, nil // truncated in place (copytruncate)
	}
	st, err := os.Stat(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	return !os.SameFile(cur, st), nil // another inode: renamed and created again
}

func (f *Follower) wait(ctx context.Context) error {
	d := f.Poll
	if d <= 0 {
		d = DefaultPoll
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
