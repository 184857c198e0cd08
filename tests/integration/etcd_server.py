"""Debian's etcd (stripped, cgo-linked, Go 1.19) on loopback ports, with a temporary data directory, and a
put load from threads of this process (HTTP on 127.0.0.1 only): the real-world target of several tests.

    with EtcdUnderLoad(workdir, name="rec", workers=4) as etcd:
        goperf ... -p etcd.pid
"""
import base64
import http.client
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import hostcheck

ETCD = "/usr/bin/etcd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EtcdUnderLoad:
    """Starts etcd, waits until it answers a put, then runs `workers` threads of puts until closed.
    stderr: where etcd's stderr goes (its SIGQUIT dump); env: extra environment (GOTRACEBACK)."""

    def __init__(self, workdir, name="goperf", workers=4, stderr=subprocess.DEVNULL, env=None):
        hostcheck.require_file(ETCD, "etcd-server")
        self.client, peer = free_port(), free_port()
        self.proc = subprocess.Popen(
            [ETCD, "--data-dir", str(workdir / f"etcd-{name}"), "--name", name,
             "--listen-client-urls", f"http://127.0.0.1:{self.client}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.client}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"{name}=http://127.0.0.1:{peer}", "--log-level", "error"],
            stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **(env or {})})
        self.pid = self.proc.pid
        self._stop = threading.Event()
        self._workers = [threading.Thread(target=self._load) for _ in range(workers)]

    def put(self, i, conn=None):
        """One put over `conn` (kept alive: the server's goroutines for it stay, so the goroutine population
        is steady under load), or over a connection of its own."""
        body = json.dumps({"key": base64.b64encode(f"k{i % 100}".encode()).decode(),
                           "value": base64.b64encode(os.urandom(64)).decode()})
        c = conn or http.client.HTTPConnection("127.0.0.1", self.client, timeout=5)
        try:
            c.request("POST", "/v3/kv/put", body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise OSError(f"etcd answered {r.status}")
        finally:
            if conn is None:
                c.close()

    def _load(self):
        i = 0
        conn = http.client.HTTPConnection("127.0.0.1", self.client, timeout=5)
        while not self._stop.is_set():
            try:
                self.put(i, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.client, timeout=5)
                time.sleep(0.05)
            i += 1
        conn.close()

    def __enter__(self):
        for _ in range(100):
            try:
                self.put(0)
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.close()
            pytest.fail("etcd did not start")
        for w in self._workers:
            w.start()
        return self

    def stop_load(self):
        self._stop.set()
        for w in self._workers:
            if w.is_alive():
                w.join()

    def close(self):
        self.stop_load()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __exit__(self, *exc):
        self.close()
