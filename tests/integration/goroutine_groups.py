"""The oracle side of the goroutine grouping tests: panicparse's groups of a runtime dump, and the check of
goperf's groups against them and against the dump's own goroutines."""
import collections
import os
import re
import shutil
import subprocess

import snapshot_dump

# The Go 1.21+ dump header (`goroutine 1 gp=0x.. m=nil [..]:`) and frame suffix (` fp=.. sp=.. pc=..`)
# that panicparse 2.3 does not read: removed, which leaves the format it reads.
_GP = re.compile(r"^(goroutine \d+) gp=\S+ m=(?:nil|\d+)(?: mp=\S+)? \[", re.M)
_FP = re.compile(r" fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+$", re.M)
_BLOCK_ID = re.compile(r"^goroutine (\d+)")
_PP_HEADER = re.compile(r"^(\d+): (.*?)((?: \[[^\]]*\])*)$")
_PP_FRAME = re.compile(r"^    \S+\s+(\S+:\d+)\s+\S")


def have_panicparse():
    return shutil.which("panicparse") is not None


def without_goroutines(dump, drop):
    """The runtime's dump text without the blocks of the goroutines in `drop` (and goroutine 0, the
    signal thread's g0 that only the runtime's own dump shows)."""
    blocks = dump.split("\n\n")
    kept = []
    for b in blocks:
        m = _BLOCK_ID.match(b.lstrip("\n"))
        if m and (int(m.group(1)) == 0 or int(m.group(1)) in drop):
            continue
        kept.append(b)
    return "\n\n".join(kept)


def panicparse_groups(dump, tmp_path):
    """panicparse's groups of a runtime dump (arguments ignored: -aggressive) as a Counter of
    (count, state, locked, frames as (file basename:line,...), creator file basename:line)."""
    text = _FP.sub("", _GP.sub(r"\1 [", dump))
    path = tmp_path / "dump-for-panicparse.txt"
    path.write_text(text)
    p = subprocess.run(["panicparse", "-aggressive", "-no-color", "-rebase=false", "-parse=false", str(path)],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert p.returncode == 0, p.stderr
    groups = collections.Counter()
    cur = None

    def close():
        if cur is not None:
            groups[(cur[0], cur[1], cur[2], tuple(cur[3]), cur[4])] += 1

    for line in (p.stdout + p.stderr).splitlines():
        m = _PP_HEADER.match(line)
        if m:
            close()
            tags = re.findall(r"\[([^\]]*)\]", m.group(3))
            creator = ""
            for t in tags:
                if t.startswith("Created by "):
                    creator = t.rsplit(" @ ", 1)[1]
            state = m.group(2)
            cur = [int(m.group(1)), state, "locked" in tags, [], creator]
            continue
        f = _PP_FRAME.match(line)
        if f and cur is not None:
            cur[3].append(f.group(1))
    close()
    return groups


def _where(file, line):
    return f"{os.path.basename(file)}:{line}"


def goperf_groups(groups, drop=()):
    """goperf's JSON groups in the same form, without the goroutines in `drop`."""
    out = collections.Counter()
    for g in groups:
        n = sum(1 for i in g["ids"] if i not in drop)
        if n == 0:
            continue
        frames = tuple(_where(f["file"], f["line"]) if f["go"] else "?:0" for f in g["frames"])
        creator = _where(g["created_by"]["file"], g["created_by"]["line"]) if "created_by" in g else ""
        out[(n, g["state"], g["locked_to_thread"], frames, creator)] += 1
    return out


def check_ids(groups, dump, drop=()):
    """Every goroutine goperf put in a group has, in the runtime's dump, the group's state and frames."""
    oracle = snapshot_dump.parse(dump)
    seen = set()
    for g in groups:
        frames = [_where(f["file"], f["line"]) for f in g["frames"]]
        for i in g["ids"]:
            assert i not in seen, f"goroutine {i} in two groups"
            seen.add(i)
            if i in drop:
                continue
            assert i in oracle, f"goroutine {i} of group {g['state']} {frames[:3]} is not in the runtime's dump"
            o = oracle[i]
            assert o.status == g["state"], (i, o.status, g["state"])
            assert [os.path.basename(f.location.split(" ")[0]) for f in o.frames] == frames, (i, o.frames, frames)
    assert seen >= set(oracle) - set(drop) - {0}, f"goroutines in no group: {sorted(set(oracle) - seen - set(drop))}"
