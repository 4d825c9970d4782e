package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// table prints a live table: redrawn in place on a terminal, appended on
// change otherwise (a log, a pipe).
type table struct {
	out   io.Writer
	tty   bool
	last  string
	lines int
}

func newTable(out io.Writer) *table {
	t := &table{out: out}
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			t.tty = true
		}
	}
	return t
}

// show prints text with the elapsed time if it changed (on a terminal the
// elapsed time alone refreshes the previous table in place).
func (t *table) show(text string, elapsed time.Duration) {
	if text == t.last && !t.tty {
		return
	}
	if t.tty && t.lines > 0 {
		fmt.Fprintf(t.out, "\033[%dA\033[J", t.lines) // back to the table's first line
	}
	body := fmt.Sprintf("t+%s\n%s", elapsed.Round(100*time.Millisecond), text)
	fmt.Fprint(t.out, body)
	t.last, t.lines = text, strings.Count(body, "\n")
}
