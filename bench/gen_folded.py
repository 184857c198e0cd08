#!/usr/bin/env python3
"""Writes a synthetic folded-stack profile with N distinct stacks shaped like a Go server's: a runtime root,
a few goroutine entry points, then package-qualified frames chosen from a skewed vocabulary, so that stacks
share prefixes as real ones do. Deterministic for a given seed.

usage: gen_folded.py N_STACKS OUT.folded [SEED]"""
import random
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    pkgs = ["main", "net/http", "encoding/json", "runtime", "sync", "io", "bufio", "fmt", "strings",
            "github.com/acme/api", "github.com/acme/store", "github.com/acme/cache", "google.golang.org/grpc",
            "crypto/tls", "compress/gzip", "database/sql", "syscall", "reflect", "sort", "time"]
    vocab = []
    for p in pkgs:
        for i in range(60):
            kind = rng.random()
            if kind < 0.3:
                vocab.append(f"{p}.(*T{i % 7}).M{i}")
            elif kind < 0.4:
                vocab.append(f"{p}.f{i}.func{i % 3 + 1}")
            else:
                vocab.append(f"{p}.F{i}")
    roots = ["runtime.goexit;net/http.(*conn).serve", "runtime.goexit;google.golang.org/grpc.(*Server).serveStreams",
             "runtime.main;main.main", "runtime.mcall;runtime.park_m", "runtime.goexit;main.worker"]
    seen = set()
    lines = []
    while len(lines) < n:
        depth = max(2, int(rng.gauss(9, 3)))
        frames = [rng.choice(roots)]
        # Skewed choices: low indexes are hot, so prefixes repeat.
        for _ in range(depth):
            frames.append(vocab[min(len(vocab) - 1, int(rng.expovariate(1 / 120)))])
        stack = ";".join(frames)
        if stack in seen:
            continue
        seen.add(stack)
        lines.append(f"{stack} {1 + int(rng.expovariate(1 / 20))}\n")
    with open(out, "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
