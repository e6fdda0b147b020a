"""The yardstick for `cargo xtask bench`: the load-balancing workload written in SimPy.

Poisson arrivals at 320 requests/s, each sent to one of 4 servers chosen at random;
every server works on one request at a time, first come first served, for an
exponentially distributed 10 ms; no network delay. Each server is then an M/M/1 queue
at utilisation 0.8, whose mean time in the system is 10 ms / (1 - 0.8) = 50 ms.

Usage: python simpy_random_routing.py REQUESTS [SEED]
Prints one JSON line: requests, wall seconds, requests per second, mean sojourn in ms.
"""

import json
import random
import sys
import time

import simpy

SERVERS = 4
ARRIVAL_RATE = 320.0  # per second, for the whole cluster
SERVICE_MEAN = 0.010  # seconds


def main():
    requests = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=1) for _ in range(SERVERS)]
    total = [0.0, 0]  # summed sojourn, finished requests

    def visit(server):
        arrived = env.now
        with server.request() as turn:
            yield turn
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MEAN))
        total[0] += env.now - arrived
        total[1] += 1

    def arrivals():
        for _ in range(requests):
            yield env.timeout(rng.expovariate(ARRIVAL_RATE))
            env.process(visit(servers[rng.randrange(SERVERS)]))

    env.process(arrivals())
    start = time.perf_counter()
    env.run()
    wall = time.perf_counter() - start
    assert total[1] == requests, "every request finished"
    print(json.dumps({
        "requests": requests,
        "wall_s": round(wall, 3),
        "requests_per_s": round(requests / wall),
        "mean_sojourn_ms": round(1000.0 * total[0] / total[1], 3),
        "python": sys.version.split()[0],
        "simpy": simpy.__version__,
    }))


if __name__ == "__main__":
    main()
