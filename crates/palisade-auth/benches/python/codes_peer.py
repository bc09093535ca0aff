"""The peer of benches/codes.rs: one-time codes issued and redeemed the way a Python async back
end does it with redis-py (redis.asyncio), the same work as ours: a 256-bit code from
`secrets`, its SHA-256 digest as the key, SET NX EX, then GETDEL; BATCH of them in flight at
once (asyncio.gather), as ours has BATCH tasks in flight on one connection. With `pipelined`,
the same pairs sent as explicit pipelines of BATCH commands instead (a batch job, not a
request handler), printed for comparison.

Usage: python codes_peer.py REDIS_URL SECONDS BATCH  -> {"pairs_per_second": N, "pipelined_pairs_per_second": M}
"""
import asyncio
import hashlib
import json
import secrets
import sys
import time

import redis
import redis.asyncio

url, seconds, batch = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
prefix = f"bench:codes-peer:{time.time_ns()}:"


def new_key():
    code = secrets.token_urlsafe(32)
    return prefix + hashlib.sha256(code.encode()).hexdigest()


async def concurrent():
    pool = redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=64)
    client = redis.asyncio.Redis(connection_pool=pool)

    async def pair():
        key = new_key()
        await client.set(key, b"session-payload", nx=True, ex=300)
        assert await client.getdel(key) == b"session-payload"

    pairs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        await asyncio.gather(*(pair() for _ in range(batch)))
        pairs += batch
    elapsed = time.perf_counter() - start
    await client.aclose()
    return pairs / elapsed


def pipelined():
    client = redis.Redis.from_url(url)
    pairs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        keys = [new_key() for _ in range(batch)]
        issue = client.pipeline(transaction=False)
        for key in keys:
            issue.set(key, b"session-payload", nx=True, ex=300)
        issue.execute()
        redeem = client.pipeline(transaction=False)
        for key in keys:
            redeem.getdel(key)
        assert all(value == b"session-payload" for value in redeem.execute())
        pairs += batch
    return pairs / (time.perf_counter() - start)


print(json.dumps({"pairs_per_second": asyncio.run(concurrent()), "pipelined_pairs_per_second": pipelined()}))
