"""Load on the tutor: many students moving sliders, deriving and checking at once.

Starts ``gradgraph serve`` on 127.0.0.1 and a free port (a subprocess), then runs
``--clients`` concurrent clients for ``--seconds``: each mostly evaluates the slides'
chain graph at new leaf values (a slider moving), sometimes derives or checks on a
bundled graph, with a think time of 0.5–1 s between requests. Prints p50/p99 latency per
endpoint, the errors, and the server's resident memory at the start, middle and end.

Target (issue #12): 0 errors, p99 < 500 ms for evaluate on the chain graph on 2 cores,
RSS flat.

The clients speak HTTP/1.1 over asyncio streams (one keep-alive connection each), not
through httpx's client: on a 2-core machine httpx's per-request CPU cost made the
*client* the bottleneck (the server sat at 0.1 cores while latencies grew). httpx still
checks the server is up and warms it. The report gives the server's CPU use and this
client's event-loop lag, so a slow figure can be told apart from a starved client.

    python benchmarks/serve_load.py                       # 100 clients, 30 s
    python benchmarks/serve_load.py --clients 20 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import httpx

from gradgraph import examples

HOST = "127.0.0.1"  # loopback only: this script never loads a machine it does not own
CHAIN = examples.SLIDES
LAYER = "W^(L): param(2, 2); b^(L): param(2); a^(L-1): input(2); y: input(2)\n" \
        "z^(L) = W^(L) a^(L-1) + b^(L)\na^(L) = sigma(z^(L))\nC_0 = sum((a^(L) - y)^2)\n"
DERIVES = [{"graph": CHAIN, "wrt": w} for w in ("w^(L)", "b^(L)", "a^(L-1)")] + \
          [{"graph": LAYER, "wrt": "a^(L-1)"}]
CHECKS = [{"graph": CHAIN, "question": "dC_0/dw^(L)", "answer": a} for a in (
    "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", "a^(L-1)*sigma(z^(L))*2*(a^(L)-y)",
    "sigma'(z^(L))*2*(a^(L)-y)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def loop_lag(stop: float, lags: list[float]) -> None:
    """How late this client's own event loop wakes up: its share of every latency."""
    while time.perf_counter() < stop:
        start = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - start - 0.01)


def request(rng: random.Random) -> tuple[str, str, dict]:
    roll = rng.random()
    if roll < 0.85:
        values = {**examples.SLIDES_VALUES, "w^(L)": round(rng.uniform(-3, 3), 2),
                  "b^(L)": round(rng.uniform(-1, 1), 2)}
        return "evaluate", "/api/evaluate", {"graph": CHAIN, "values": values}
    if roll < 0.93:
        return "derive", "/api/derive", rng.choice(DERIVES)
    return "check", "/api/check", rng.choice(CHECKS)


class Connection:
    """One keep-alive HTTP/1.1 connection: POST JSON, read the status and the body."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict) -> tuple[int, bytes, float]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        data = json.dumps(body).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                          "Content-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:]
                       if b":" in line)
        length = int(headers[b"content-length"])
        timing = headers.get(b"server-timing", b"dur=nan").split(b"dur=")[1]
        return status, await self.reader.readexactly(length), float(timing) / 1e3

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def student(port: int, seed: int, stop: float, latencies: dict,
                  errors: dict) -> None:
    rng = random.Random(seed)
    conn = Connection(port)
    await asyncio.sleep(rng.uniform(0, 1))  # students do not all start on the same tick
    while time.perf_counter() < stop:
        name, path, body = request(rng)
        start = time.perf_counter()
        try:
            status, content, in_app = await conn.post(path, body)
            latencies["server " + name].append(in_app)
            ok, why = status == 200, f"HTTP {status}: {content[:120]!r}"
        except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as e:
            ok, why = False, f"{type(e).__name__}: {e}"
            conn.close()
        latencies[name].append(time.perf_counter() - start)
        if not ok:
            errors[name].append(why)
        await asyncio.sleep(rng.uniform(0.5, 1.0))
    conn.close()


async def load(port: int, clients: int, seconds: float, pid: int) -> None:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    rss = {"start": rss_mb(pid)}
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    stop = time.perf_counter() + seconds
    lags: list[float] = []
    tasks = [asyncio.create_task(student(port, i, stop, latencies, errors))
             for i in range(clients)]
    tasks.append(asyncio.create_task(loop_lag(stop, lags)))
    await asyncio.sleep(seconds / 2)
    rss["middle"] = rss_mb(pid)
    await asyncio.gather(*tasks)
    rss["end"] = rss_mb(pid)
    busy = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - wall0)
    report(latencies, errors, rss, clients, seconds)
    lags.sort()
    print(f"server CPU: {busy:.2f} cores on average; this client's event-loop lag: p50 "
          f"{statistics.median(lags) * 1e3:.1f} ms, p99 "
          f"{lags[int(0.99 * (len(lags) - 1))] * 1e3:.1f} ms; machine load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def report(latencies: dict, errors: dict, rss: dict, clients: int, seconds: float) -> None:
    print(f"{clients} clients for {seconds:g} s against 127.0.0.1 "
          f"(think time 0.5–1 s between requests)")
    print("(server …: time inside the app, from its Server-Timing header)")
    print(f"{'endpoint':<16}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
          f"{'errors':>8}")
    for name in ("evaluate", "derive", "check", "server evaluate", "server derive",
                 "server check"):
        xs = sorted(latencies.get(name, []))
        if not xs:
            continue
        p99 = xs[min(len(xs) - 1, int(0.99 * len(xs)))]
        print(f"{name:<16}{len(xs):>10}{statistics.median(xs) * 1e3:>10.1f}"
              f"{p99 * 1e3:>10.1f}{xs[-1] * 1e3:>10.1f}{len(errors.get(name, [])):>8}")
    print("server RSS (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in rss.items()))
    for name, whys in errors.items():
        for why in sorted(set(whys))[:3]:
            print(f"  {name} error: {why}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gradgraph", "serve", "--host", HOST,
                               "--port", str(port)], stderr=subprocess.DEVNULL)
    try:
        wait_until_up(port, server)
        warm_up(port)
        asyncio.run(load(port, args.clients, args.seconds, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def warm_up(port: int) -> None:
    """One request of each kind first: the figures are for a running tutor, not for
    its first derivation of each graph."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:
        for body in DERIVES:
            client.post("/api/derive", json=body)
        for body in CHECKS:
            client.post("/api/check", json=body)
        client.post("/api/evaluate", json={"graph": CHAIN, "values": examples.SLIDES_VALUES})


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("the server did not start within 60 s")


if __name__ == "__main__":
    main()
