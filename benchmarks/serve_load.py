"""Load on the tutor: many students moving sliders, deriving and checking at once.

Starts ``gradgraph serve`` on 127.0.0.1 and a free port (a subprocess), then runs
``--clients`` concurrent clients for ``--seconds``: each mostly evaluates the slides'
chain graph at new leaf values (a slider moving), sometimes derives or checks on a
bundled graph, with a think time of 0.5–1 s between requests. Prints p50/p99 latency per
endpoint, the errors, and the server's resident memory at the start, middle and end.

Target (issue #12): 0 errors, p99 < 500 ms for evaluate on the chain graph on 2 cores,
RSS flat.

    python benchmarks/serve_load.py                       # 100 clients, 30 s
    python benchmarks/serve_load.py --clients 20 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
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


def request(rng: random.Random) -> tuple[str, str, dict]:
    roll = rng.random()
    if roll < 0.85:
        values = {**examples.SLIDES_VALUES, "w^(L)": round(rng.uniform(-3, 3), 2),
                  "b^(L)": round(rng.uniform(-1, 1), 2)}
        return "evaluate", "/api/evaluate", {"graph": CHAIN, "values": values}
    if roll < 0.93:
        return "derive", "/api/derive", rng.choice(DERIVES)
    return "check", "/api/check", rng.choice(CHECKS)


async def student(client: httpx.AsyncClient, seed: int, stop: float,
                  latencies: dict, errors: dict) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 1))  # students do not all start on the same tick
    while time.perf_counter() < stop:
        name, path, body = request(rng)
        start = time.perf_counter()
        try:
            r = await client.post(path, json=body)
            ok = r.status_code == 200
            why = f"HTTP {r.status_code}: {r.text[:120]}"
        except httpx.HTTPError as e:
            ok, why = False, f"{type(e).__name__}: {e}"
        latencies[name].append(time.perf_counter() - start)
        if not ok:
            errors[name].append(why)
        await asyncio.sleep(rng.uniform(0.5, 1.0))


async def load(port: int, clients: int, seconds: float, pid: int) -> None:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30,
                                 limits=limits) as client:
        rss = {"start": rss_mb(pid)}
        stop = time.perf_counter() + seconds
        tasks = [asyncio.create_task(student(client, i, stop, latencies, errors))
                 for i in range(clients)]
        await asyncio.sleep(seconds / 2)
        rss["middle"] = rss_mb(pid)
        await asyncio.gather(*tasks)
        rss["end"] = rss_mb(pid)
    report(latencies, errors, rss, clients, seconds)


def report(latencies: dict, errors: dict, rss: dict, clients: int, seconds: float) -> None:
    print(f"{clients} clients for {seconds:g} s against 127.0.0.1 "
          f"(think time 0.5–1 s between requests)")
    print(f"{'endpoint':<10}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
          f"{'errors':>8}")
    for name in ("evaluate", "derive", "check"):
        xs = sorted(latencies.get(name, []))
        if not xs:
            continue
        p99 = xs[min(len(xs) - 1, int(0.99 * len(xs)))]
        print(f"{name:<10}{len(xs):>10}{statistics.median(xs) * 1e3:>10.1f}"
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
        asyncio.run(load(port, args.clients, args.seconds, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


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
