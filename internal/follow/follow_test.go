package follow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// next reads one line within a second.
func next(t *testing.T, f *Follower) Line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l, err := f.Next(ctx)
	require.NoError(t, err)
	return l
}

// none checks that no line is complete within a short while.
func none(t *testing.T, f *Follower) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	l, err := f.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "got %q", l.Text)
}

func newFollower(t *testing.T, path string) *Follower {
	t.Helper()
	f, err := New(path)
	require.NoError(t, err)
	f.Poll = 5 * time.Millisecond
	t.Cleanup(func() { f.Close() })
	return f
}

func TestGrowthAndPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	appendTo(t, path, "h\n1,2\r\n3,")
	f := newFollower(t, path)
	require.Equal(t, "h", string(next(t, f).Text))
	require.Equal(t, "1,2", string(next(t, f).Text))
	none(t, f) // "3," has no newline yet
	appendTo(t, path, "4")
	none(t, f)
	appendTo(t, path, "\n5,6\n")
	require.Equal(t, "3,4", string(next(t, f).Text))
	require.Equal(t, "5,6", string(next(t, f).Text))
	none(t, f)
}

func TestRotationByRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.csv")
	appendTo(t, path, "h\n1\n")
	f := newFollower(t, path)
	require.Equal(t, Line{Text: []byte("h"), File: 0}, next(t, f))
	require.Equal(t, Line{Text: []byte("1"), File: 0}, next(t, f))
	// Written to the old file after the rename, before the new file
	// exists: still read, then the new file from its start.
	require.NoError(t, os.Rename(path, filepath.Join(dir, "a.csv.1")))
	appendTo(t, filepath.Join(dir, "a.csv.1"), "2\n3")
	require.Equal(t, "2", string(next(t, f).Text))
	none(t, f) // no new file yet: "3" may still be completed
	appendTo(t, path, "h\n4\n")
	require.Equal(t, Line{Text: []byte("3"), File: 0}, next(t, f), "the old file's unterminated last line")
	require.Equal(t, Line{Text: []byte("h"), File: 1}, next(t, f))
	require.Equal(t, Line{Text: []byte("4"), File: 1}, next(t, f))
}

func TestRotationByTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	appendTo(t, path, "h\n1\n2\n")
	f := newFollower(t, path)
	for _, want := range []string{"h", "1", "2"} {
		require.Equal(t, want, string(next(t, f).Text))
	}
	require.NoError(t, os.WriteFile(path, []byte("h\n"), 0o600))
	require.Equal(t, Line{Text: []byte("h"), File: 1}, next(t, f))
}

func TestLineTooLong(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	appendTo(t, path, "ok\n"+strings.Repeat("x", 100)+"\n")
	f := newFollower(t, path)
	f.MaxLine = 64
	require.Equal(t, "ok", string(next(t, f).Text))
	_, err := f.Next(context.Background())
	require.ErrorIs(t, err, ErrLineTooLong)

	// Also while the line is still being written.
	path2 := filepath.Join(t.TempDir(), "b.csv")
	appendTo(t, path2, strings.Repeat("y", 200))
	g := newFollower(t, path2)
	g.MaxLine = 64
	_, err = g.Next(context.Background())
	require.ErrorIs(t, err, ErrLineTooLong)
}

func TestCancelAndReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	appendTo(t, path, "")
	f := newFollower(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := f.Next(ctx)
	require.ErrorIs(t, err, context.Canceled)

	r := FromReader(strings.NewReader("a\nb\r\nc"))
	var got []string
	for {
		l, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, string(l.Text))
	}
	require.Equal(t, []string{"a", "b", "c"}, got)

	_, err = New(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// FuzzFromReader: the lines read are the input cut at its newlines,
// nothing lost, added or split (inputs without carriage returns), and a
// line over MaxLine is refused, never returned.
func FuzzFromReader(f *testing.F) {
	f.Add([]byte("h\n1,2\n3"), uint8(8))
	f.Add([]byte("\n\n"), uint8(1))
	f.Add([]byte(strings.Repeat("x", 300)+"\n"), uint8(200))
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8) {
		if bytes.IndexByte(data, '\r') >= 0 || maxLine == 0 {
			return
		}
		r := FromReader(bytes.NewReader(data))
		r.MaxLine = int(maxLine)
		var got [][]byte
		for {
			l, err := r.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				return
			}
			require.NoError(t, err)
			require.LessOrEqual(t, len(l.Text), int(maxLine))
			got = append(got, l.Text)
		}
		want := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		if len(data) == 0 {
			want = nil
		}
		require.Equal(t, len(want), len(got))
		for i := range want {
			require.Equal(t, string(want[i]), string(got[i]))
		}
	})
}
