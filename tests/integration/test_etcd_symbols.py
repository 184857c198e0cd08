"""goperf addr2line on Debian's stripped, cgo-linked etcd (Go 1.19) against the runtime's own SIGQUIT dump:
every frame the runtime prints with pc= (GOTRACEBACK=system) is named and located by `goperf addr2line -f -i`
exactly as the dump shows it, inlined frames included."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import hostcheck

ETCD = "/usr/bin/etcd"
FRAME_PC = re.compile(r"^\t(.*):(\d+)(?: \+0x([0-9a-f]+))? fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=(0x[0-9a-f]+)$")
INLINED_LOC = re.compile(r"^\t(.*):(\d+)$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def function_name(line):
    """A frame's function: its line without the argument list "(...)" at the end."""
    return line[:line.rindex("(")] if line.endswith(")") else line


def parse_dump(text):
    """Physical frames of a GOTRACEBACK=system dump: [(lookup pc, [(function, file:line)...])], the inlined frames
    printed before a physical frame first. The lookup pc is pc-1 for return addresses, as the runtime's
    traceback looks them up (src/runtime/traceback.go gentraceback @go1.19: tracepc--), except for the
    interrupted frame (the innermost frame at the signal's "PC=", traced with _TraceTrap) and a pc at its
    function's entry (no +0x offset)."""
    frames, chain, lines = [], [], text.splitlines()
    signal_pc = int(re.search(r"^PC=(0x[0-9a-f]+)", text, re.M).group(1), 16)
    innermost = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("goroutine ") and line.endswith(":"):
            chain, innermost = [], True
            i += 1
            continue
        if i + 1 < len(lines) and lines[i + 1].startswith("\t") and not line.startswith("\t"):
            if line.startswith("created by "):
                chain, i = [], i + 2
                continue
            loc = lines[i + 1]
            m = FRAME_PC.match(loc)
            if m:
                file, ln, off, pc = m.group(1), m.group(2), m.group(3), int(m.group(4), 16)
                chain.append((function_name(line), f"{file}:{ln}"))
                exact = (innermost and pc == signal_pc) or off is None
                frames.append((pc if exact else pc - 1, chain))
                chain, innermost = [], False
            elif INLINED_LOC.match(loc):
                chain.append((function_name(line), loc[1:]))
            i += 2
            continue
        i += 1
    return frames


@pytest.fixture(scope="module")
def etcd_dump(tmp_path_factory):
    hostcheck.require_file(ETCD, "etcd-server")
    data = tmp_path_factory.mktemp("etcd")
    client, peer = free_port(), free_port()
    env = dict(os.environ, GOTRACEBACK="system")
    args = [ETCD, "--name", "goperf-test", "--data-dir", str(data / "data"),
            "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"goperf-test=http://127.0.0.1:{peer}", "--log-outputs", "stderr", "--log-level", "error"]
    log = open(data / "stderr", "w+")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        assert wait_for_port(client, proc), "etcd did not start listening"
        time.sleep(1)  # let the raft loop, the gRPC servers and the WAL goroutines settle into their waits
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log.seek(0)
    text = log.read()
    assert "SIGQUIT: quit" in text, text[-2000:]
    return text[text.index("SIGQUIT: quit"):]


def test_sigquit_frames_equal_goperf_addr2line(goperf, etcd_dump):
    frames = parse_dump(etcd_dump)
    assert len(frames) > 200, "too few frames with pc= in the dump"
    assert any(len(chain) > 1 for _pc, chain in frames), "no inlined frames in the dump"
    unique = {}
    for pc, chain in frames:
        unique.setdefault(pc, chain)
    pcs = sorted(unique)
    out = subprocess.run([goperf, "addr2line", "-a", "-f", "-i", "-e", ETCD], input="".join(f"{pc:#x}\n" for pc in pcs),
                         check=True, capture_output=True, text=True).stdout
    got, cur = {}, None
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        if re.match(r"^0x[0-9a-f]{16}$", lines[i]):
            cur = int(lines[i], 16)
            got[cur] = []
            i += 1
        else:
            got[cur].append((lines[i], lines[i + 1]))
            i += 2
    bad = [(hex(pc), unique[pc], got.get(pc)) for pc in pcs if got.get(pc) != unique[pc]]
    assert not bad, f"{len(bad)} of {len(pcs)} dump frames differ, e.g. {bad[:5]}"
