"""Parses goroutine dumps in the Go runtime's text format (SIGQUIT / GOTRACEBACK output, and goperf
snapshot's text, which is the same format) into comparable records."""
import dataclasses
import re

HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=(?:nil|\d+)(?: mp=\S+)?)? \[([^\]]*)\]:$")
CREATED = re.compile(r"^created by (\S+)(?: in goroutine (\d+))?$")


@dataclasses.dataclass
class Frame:
    function: str
    args: str
    location: str      # "file:line"
    offset: str        # "+0x.." or ""

    @property
    def is_c(self):
        return self.location.startswith("?:")


@dataclasses.dataclass
class Goroutine:
    goid: int
    status: str        # the bracketed text without ", N minutes" and ", locked to thread"
    locked: bool
    frames: list
    creator: str = ""
    parent: int = 0
    unavailable: bool = False  # "goroutine running on other thread; stack unavailable"
    elided: bool = False

    def functions(self, drop_c=True):
        return [f.function for f in self.frames if not (drop_c and f.is_c)]

    def lines(self, drop_c=True):
        return [(f.function, f.location, f.offset) for f in self.frames if not (drop_c and f.is_c)]


def parse(text):
    """Returns {goid: Goroutine} for every goroutine block of a dump."""
    out = {}
    lines = text.splitlines()
    i = 0
    cur = None
    while i < len(lines):
        line = lines[i]
        m = HEADER.match(line)
        if m:
            parts = [p.strip() for p in m.group(2).split(",")]
            status = parts[0]
            locked = "locked to thread" in parts[1:]
            cur = Goroutine(int(m.group(1)), status, locked, [])
            out[cur.goid] = cur
            i += 1
            continue
        if cur is None:
            i += 1
            continue
        if not line:
            cur = None
            i += 1
            continue
        if "stack unavailable" in line:
            cur.unavailable = True
            i += 1
            continue
        if line.startswith("...") and "elided" in line:
            cur.elided = True
            i += 1
            continue
        c = CREATED.match(line)
        if c:
            cur.creator = c.group(1)
            cur.parent = int(c.group(2) or 0)
            i += 2
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt.startswith("\t") and line.endswith(")"):
            p = line.rfind("(")
            loc = nxt.strip().split(" ")
            cur.frames.append(Frame(line[:p], line[p + 1:-1], loc[0],
                                    loc[1] if len(loc) > 1 and loc[1].startswith("+") else ""))
            i += 2
            continue
        i += 1  # register dumps and other lines
    return out
