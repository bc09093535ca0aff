"""The Python peer of palisade-ratelimit's Redis benchmark: `limits` (behind slowapi and
Flask-Limiter) with its Redis storage and moving-window strategy, one `hit` per decision, over
the same rotating client keys and the same limit as the Rust side.

Usage: limits_peer.py REDIS_URL SECONDS KEYS LIMIT
Prints {"decisions_per_second": N}.
"""

import json
import sys
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


def main() -> None:
    url, seconds, keys, limit = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    storage = storage_from_string(url)
    limiter = MovingWindowRateLimiter(storage)
    item = parse(limit)
    prefix = f"peer-{time.time_ns()}"
    # Warm up: the connection and the script cache.
    for i in range(100):
        limiter.hit(item, prefix, str(i % keys))
    decisions = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            limiter.hit(item, prefix, str(decisions % keys))
            decisions += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"decisions_per_second": decisions / elapsed}))


if __name__ == "__main__":
    main()
