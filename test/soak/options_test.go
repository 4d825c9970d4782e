package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestFlagDefaultsDependOnTheRuntime(t *testing.T) {
	now := time.Unix(1700000000, 5)
	cases := []struct {
		args     []string
		duration time.Duration
		warmup   time.Duration
		maxScale int
		seed     uint64
	}{
		{nil, 20 * time.Minute, 2 * time.Minute, 10, uint64(now.UnixNano())},
		{[]string{"-runtime", "exec"}, 10 * time.Minute, time.Minute, 4, uint64(now.UnixNano())},
		{[]string{"-duration", "1m", "-seed", "0", "-max-scale", "3"}, time.Minute, 6 * time.Second, 3, 0},
		{[]string{"-seed", "12345", "-warmup", "0s"}, 20 * time.Minute, 2 * time.Minute, 10, 12345},
	}
	for _, tc := range cases {
		o, err := parseFlags(tc.args, io.Discard, now)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.duration != tc.duration || o.warmup != tc.warmup || o.maxScale != tc.maxScale || o.seed != tc.seed {
			t.Errorf("%v: duration %s warmup %s max-scale %d seed %d", tc.args, o.duration, o.warmup, o.maxScale, o.seed)
		}
	}
}

func TestFlagErrorsSayWhatIsWrong(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-runtime", "docker"}, `-runtime: "docker" is not go or exec`},
		{[]string{"-duration", "-1m"}, "-duration: must be positive"},
		{[]string{"-warmup", "10m"}, "-warmup: must be between 0 and a quarter of -duration (5m0s)"},
		{[]string{"-max-scale", "500"}, "-max-scale: must be between 1 and 50"},
		{[]string{"-sample", "0s"}, "-sample: must be positive"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range cases {
		_, err := parseFlags(tc.args, io.Discard, time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
