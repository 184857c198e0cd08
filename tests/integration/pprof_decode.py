"""A minimal reader of gzip-compressed pprof profile.proto files (github.com/google/pprof/proto/profile.proto),
decoding the protobuf wire format directly so that tests depend on neither goperf's writer nor a protobuf
package. Used to compare goperf record's profiles with runtime/pprof's."""
import gzip


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wire == 1:
            v = int.from_bytes(buf[i:i + 8], "little")
            i += 8
        elif wire == 5:
            v = int.from_bytes(buf[i:i + 4], "little")
            i += 4
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, v


def _ints(wire, v):
    """A repeated integer field: packed (wire 2) or one value."""
    if wire != 2:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def _signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


class Profile:
    def __init__(self, data):
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        self.strings, self.sample_types, self.samples = [], [], []
        self.functions, self.locations, self.mappings = {}, {}, {}
        self.period = self.duration = self.time = 0
        raw_types, raw_period_type = [], None
        for f, w, v in _fields(data):
            if f == 1:
                raw_types.append({ff: vv for ff, _, vv in _fields(v)})
            elif f == 2:
                s = {"locs": [], "values": [], "labels": {}}
                for ff, ww, vv in _fields(v):
                    if ff == 1:
                        s["locs"] += _ints(ww, vv)
                    elif ff == 2:
                        s["values"] += [_signed(x) for x in _ints(ww, vv)]
                    elif ff == 3:
                        s["labels"].setdefault("_raw", []).append({a: b for a, _, b in _fields(vv)})
                self.samples.append(s)
            elif f == 3:
                m = {a: b for a, _, b in _fields(v)}
                self.mappings[m.get(1, 0)] = m
            elif f == 4:
                loc = {"id": 0, "address": 0, "mapping": 0, "lines": []}
                for ff, ww, vv in _fields(v):
                    if ff == 1:
                        loc["id"] = vv
                    elif ff == 2:
                        loc["mapping"] = vv
                    elif ff == 3:
                        loc["address"] = vv
                    elif ff == 4:
                        line = {a: b for a, _, b in _fields(vv)}
                        loc["lines"].append((line.get(1, 0), line.get(2, 0)))
                self.locations[loc["id"]] = loc
            elif f == 5:
                fn = {a: b for a, _, b in _fields(v)}
                self.functions[fn.get(1, 0)] = fn
            elif f == 6:
                self.strings.append(v.decode())
            elif f == 9:
                self.time = v
            elif f == 10:
                self.duration = v
            elif f == 11:
                raw_period_type = {ff: vv for ff, _, vv in _fields(v)}
            elif f == 12:
                self.period = v
        self.sample_types = [(self.strings[t.get(1, 0)], self.strings[t.get(2, 0)]) for t in raw_types]
        self.period_type = ((self.strings[raw_period_type.get(1, 0)], self.strings[raw_period_type.get(2, 0)])
                            if raw_period_type else None)
        for s in self.samples:
            labels = {}
            for lab in s["labels"].pop("_raw", []):
                key = self.strings[lab.get(1, 0)]
                labels[key] = self.strings[lab[2]] if lab.get(2) else lab.get(3, 0)
            s["labels"] = labels

    def function_name(self, fid):
        return self.strings[self.functions[fid].get(2, 0)]

    def frames(self, loc_id):
        """Function names at a location, innermost (inlined) first; [] when unknown."""
        return [self.function_name(fid) for fid, _ in self.locations[loc_id]["lines"]]

    def is_kernel(self, loc_id):
        """A kernel frame: under goperf's "[kernel]" mapping, or (older profiles) no mapping and no address
        (goperf's [truncated] and [frames not unwound] markers aside)."""
        loc = self.locations[loc_id]
        if loc["mapping"] == 0:
            return loc["address"] == 0 and self.frames(loc_id) not in (["[truncated]"], ["[frames not unwound]"])
        m = self.mappings.get(loc["mapping"], {})
        return self.strings[m.get(5, 0)].startswith("[kernel")

    def line_stacks(self, skip_kernel=False):
        """(stack of (function, file, line) leaf first, samples count) per sample; unknown frames are
        ('?', '', 0)."""
        out = []
        for s in self.samples:
            frames = []
            for lid in s["locs"]:
                loc = self.locations[lid]
                if skip_kernel and (self.is_kernel(lid) or (loc["address"] == 0 and loc["mapping"] == 0)):
                    continue
                lines = [(self.function_name(fid), self.strings[self.functions[fid].get(4, 0)], line)
                         for fid, line in loc["lines"]]
                frames += lines or [("?", "", 0)]
            out.append((tuple(frames), s["values"][0]))
        return out

    def stacks(self, skip_kernel=False):
        """(stack of function names leaf first, samples count) per sample; unknown frames are '?'."""
        out = []
        for s in self.samples:
            names = []
            for lid in s["locs"]:
                loc = self.locations[lid]
                if skip_kernel and (self.is_kernel(lid) or (loc["address"] == 0 and loc["mapping"] == 0)):
                    continue
                names += self.frames(lid) or ["?"]
            out.append((tuple(names), s["values"][0]))
        return out


def load(path):
    with open(path, "rb") as f:
        return Profile(f.read())


def flat_shares(profile, skip_kernel=True):
    """Share of samples per leaf function (after dropping kernel frames)."""
    total, flat = 0, {}
    for stack, n in profile.stacks(skip_kernel):
        if not stack:
            continue
        total += n
        flat[stack[0]] = flat.get(stack[0], 0) + n
    return {k: v / total for k, v in flat.items()} if total else {}
