"""Interleaved, paired rounds for the end-to-end benchmarks (e2e_snapshot.py, e2e_addr2line.py,
core/core_bench.py).

The machine these run on is shared: its load changes from one second to the next. A comparison therefore
runs every tool once per round, in an order shuffled per round (so that no tool always goes first, on a
cold cache or a quiet moment), and compares the tools round by round: the ratio of two tools in one round
was measured under nearly the same load. What is reported is the median of each tool's figures, and the
median of the per-round ratios with their smallest and largest value (with 5 rounds, a range that is
honest about the noise; a bootstrap interval of 5 values says no more)."""
import os
import random
import resource
import statistics
import time

# Every tool writes its output to a file here: in memory, so no tool pays for writing back another's
# output, and the same sink for all (a pipe into Python would be timed with the tool).
SINK_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"


def orders(tools, rounds, seed=1):
    """The tools in a fresh shuffled order for each of `rounds` rounds; over two rounds each of two tools
    goes first once (the order alternates), over more rounds and tools each order is drawn at random."""
    rnd = random.Random(seed)
    for i in range(rounds):
        order = list(tools)
        if len(order) == 2:
            order = order if i % 2 == 0 else order[::-1]
        else:
            rnd.shuffle(order)
        yield order


def children_cpu():
    """User+sys seconds of this process's waited-for children so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def loadavg():
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def stamp():
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def median(xs):
    return statistics.median(xs)


def median_interval(xs, confidence=0.95):
    """A distribution-free interval for the median of xs: the order statistics x(k) and x(n+1-k) with the
    largest k for which at least `confidence` of samples of n values put the true median between them (the
    count of values below the median is binomial(n, 1/2)). None with fewer than 6 values (no such k)."""
    from math import comb
    v, n = sorted(xs), len(xs)
    k, below = 0, 0.0  # below: P(fewer than k+1 of n values fall below the median)
    while k < n // 2:
        below += comb(n, k) / 2**n
        if 2 * below > 1 - confidence:
            break
        k += 1
    return (v[k - 1], v[n - k]) if k >= 1 else None


def ratio(numer, denom):
    """(median, min, max, rounds used) of the per-round ratios numer[i] / denom[i]; a round whose denominator
    is 0 (a CPU time below the kernel's accounting resolution) has no ratio and is left out."""
    rs = [n / d for n, d in zip(numer, denom) if d > 0]
    if not rs:
        return None
    return statistics.median(rs), min(rs), max(rs), len(rs)


def fmt_ratio(numer, denom, digits=1):
    r = ratio(numer, denom)
    if r is None:
        return "- (no round measurable)"
    m, lo, hi, used = r
    left_out = f", {len(denom) - used} of {len(denom)} rounds below the clock's resolution left out" if used < len(denom) else ""
    return f"{m:.{digits}f}x ({lo:.{digits}f}-{hi:.{digits}f}{left_out})"
