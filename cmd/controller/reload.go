package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"

	"github.com/drover-mesh/drover/internal/boundedread"
	"github.com/drover-mesh/drover/pkg/config"
)

// Defaults of the reloader.
const (
	// DefaultConfigPoll is how often the config file's size, modification
	// time and inode are compared with the last look, behind the file
	// watcher: it catches what inotify cannot see (a network file system,
	// a file replaced on the host of a bind mount) within seconds.
	DefaultConfigPoll = 10 * time.Second
	// reloadSettle merges the events of one save (editors write, rename
	// and chmod; Kubernetes-style volumes swap a symlink) into one reload.
	reloadSettle = 200 * time.Millisecond
)

// reloader reloads the config file on SIGHUP and when it changes. A file
// that does not load keeps the last good configuration running: the
// source turns ConfigInvalid (with every error), the error is logged and
// counted once for that content, and polls never retry the same content;
// a SIGHUP does (it also re-reads the token and TLS files the config
// names, which the watcher does not follow). A good file applies from the
// next pass, which is asked for at once; settings that apply only at a
// restart (spec.controller) are reported, and their running values stay.
type reloader struct {
	path      string
	lookupEnv func(string) (string, bool)
	source    *clusterSource
	changed   func()       // asks the controller for a pass
	counted   func(bool)   // counts a reload, good or not
	running   *config.File // the file the controller started with
	poll      time.Duration
	log       logr.Logger

	lastTried [sha256.Size]byte // the content of the last attempt
	tried     bool
	lastStat  fileStamp
}

// fileStamp is what a poll compares.
type fileStamp struct {
	size  int64
	mod   time.Time
	inode uint64
	err   string
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{err: err.Error()}
	}
	st := fileStamp{size: fi.Size(), mod: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.inode = sys.Ino
	}
	return st
}

// run reloads until ctx ends. hup delivers SIGHUP.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
	r.lastStat = stampOf(r.path)
	events, stop := r.watch()
	defer stop()
	var tick <-chan time.Time
	if r.poll > 0 {
		t := time.NewTicker(r.poll)
		defer t.Stop()
		tick = t.C
	}
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.log.Info("SIGHUP: reloading the config file", "path", r.path)
			r.reload(ctx, true)
		case <-events:
			settle = time.After(reloadSettle)
		case <-settle:
			settle = nil
			r.lastStat = stampOf(r.path)
			r.reload(ctx, false)
		case <-tick:
			if st := stampOf(r.path); st != r.lastStat {
				r.lastStat = st
				r.reload(ctx, false)
			}
		}
	}
}

// watch watches the config file's directory (a file replaced by rename,
// or a symlink swapped, is seen there, not on the old inode). Without a
// watcher (an error is logged) the poll still runs.
func (r *reloader) watch() (<-chan struct{}, func()) {
	out := make(chan struct{}, 1)
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(filepath.Dir(r.path))
	}
	if err != nil {
		r.log.Error(err, "watching the config file; changes are found by polling only", "path", r.path, "poll", r.poll)
		if w != nil {
			_ = w.Close()
		}
		return out, func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				select {
				case out <- struct{}{}:
				default:
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				r.log.V(1).Info("config file watcher", "error", err.Error())
			}
		}
	}()
	return out, func() {
		_ = w.Close()
		<-done
	}
}

// reload loads the file and applies it, or records why it cannot.
// Unless forced, content already tried is left alone.
func (r *reloader) reload(ctx context.Context, forced bool) {
	data, err := boundedread.File(r.path, config.MaxFileBytes)
	sum := sha256.Sum256(append([]byte(fmt.Sprint(err)), data...))
	if !forced && r.tried && sum == r.lastTried {
		return
	}
	r.lastTried, r.tried = sum, true
	var l *loaded
	if err != nil {
		err = fmt.Errorf("reading config: %w", err)
	} else {
		l, err = r.load(ctx, data)
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		errs := errorLines(err)
		r.source.failed(errs)
		r.counted(false)
		r.log.Error(err, "config reload failed; the last good configuration keeps running", "path", r.path, "problems", len(errs))
		r.changed()
		return
	}
	pending := restartNeeded(r.running, l.file)
	r.source.use(l, pending)
	r.counted(true)
	r.log.Info("config reloaded", "path", r.path, "digest", l.digest, "clusters", len(l.file.Spec.Clusters),
		"pendingRestart", pending)
	for _, w := range l.file.Warnings() {
		r.log.Info("config warning", "warning", w)
	}
	r.changed()
}

// load checks and resolves content read from the file.
func (r *reloader) load(ctx context.Context, data []byte) (*loaded, error) {
	f, err := config.LoadContext(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", r.path, err)
	}
	if err := checkFiles(f); err != nil {
		return nil, fmt.Errorf("config file %s: %w", r.path, err)
	}
	return resolveConfig(f, r.path, data, r.lookupEnv)
}

// errorLines splits a joined error into its problems, one a line.
func errorLines(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// restartNeeded names the settings of spec.controller that differ between
// the running file and a new one: they apply only at a restart (the
// announce endpoint's listener, token and TLS; the loop's intervals and
// parallelism). Secret values are never shown.
func restartNeeded(running, next *config.File) []string {
	a, b := running.Spec.Controller, next.Spec.Controller
	var out []string
	add := func(field string, was, now any) {
		if !reflect.DeepEqual(was, now) {
			out = append(out, fmt.Sprintf("spec.controller.%s: running %v, the file says %v", field, was, now))
		}
	}
	add("resyncInterval", a.ResyncInterval.Duration, b.ResyncInterval.Duration)
	add("driftInterval", a.DriftInterval.Duration, b.DriftInterval.Duration)
	add("minEventGap", a.MinEventGap.Duration, b.MinEventGap.Duration)
	add("parallelism", a.Parallelism, b.Parallelism)
	add("announce.listen", quoted(a.Announce.Listen), quoted(b.Announce.Listen))
	add("announce.ratePerSecond", a.Announce.RatePerSecond, b.Announce.RatePerSecond)
	add("announce.tls", a.Announce.TLS, b.Announce.TLS)
	if a.Announce.Token != b.Announce.Token {
		out = append(out, "spec.controller.announce.token: changed")
	}
	return out
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }
