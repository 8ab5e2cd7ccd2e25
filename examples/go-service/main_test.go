package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDefaultAddr(t *testing.T) {
	if got := defaultAddr(""); got != ":8080" {
		t.Errorf("defaultAddr(\"\") = %q, want :8080", got)
	}
	if got := defaultAddr("9000"); got != ":9000" {
		t.Errorf("defaultAddr(\"9000\") = %q, want :9000", got)
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw)
		pw.Close()
	}()

	// The first log line announces the bound address; keep draining the rest.
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() {
			// Drain later log lines so run never blocks on stdout.
		}
	}()
	line, ok := <-first
	if !ok {
		t.Fatalf("run exited before logging: %v", <-done)
	}
	var entry struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Msg != "listening" {
		t.Fatalf("unexpected first log line %q (err %v)", line, err)
	}
	base := "http://" + entry.Addr

	var health map[string]string
	getJSON(t, base+"/healthz", &health)
	if health["status"] != "ok" {
		t.Errorf("/healthz = %v, want status ok", health)
	}
	var info map[string]string
	getJSON(t, base+"/version", &info)
	if info["version"] != "dev" {
		t.Errorf("/version = %v, want version dev", info)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"extra args", []string{"extra"}, "unexpected arguments"},
		{"bad address", []string{"-addr", "127.0.0.1:notaport"}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), tt.args, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run(-h) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "-addr") {
		t.Errorf("usage does not mention -addr:\n%s", out.String())
	}
}

func TestRunUsesPORT(t *testing.T) {
	t.Setenv("PORT", "9999")
	var out strings.Builder
	if err := run(context.Background(), []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run(-h) = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), `(default ":9999")`) {
		t.Errorf("usage does not show default :9999 from PORT:\n%s", out.String())
	}
}
