"""Streamed upload through ``S3Storage`` against boto3's own ``upload_file``, same size, same run.

    .venv/bin/python -m bench.upload [--size-mb 1024] [--rounds 1]

What it shows: that ``put_stream`` keeps memory bounded (target: at most 64 MB of peak RSS
growth for a 1 GB object) and keeps up with boto3's multipart transfer manager (target: at
least 80 % of its throughput). It prints figures and never fails on time.

How it measures, so the numbers mean something:

* the S3 endpoint is a ``moto`` server in its **own process** (it keeps objects in memory, which
  must not count against ours);
* each upload runs in a **fresh child process**, which resets its peak-RSS mark
  (``/proc/self/clear_refs``) after imports and client set-up, then reports
  ``VmHWM - VmRSS(before)``: the peak growth caused by the upload alone, never masked by an
  earlier measurement's peak;
* our upload's source is an async generator that makes each chunk on the fly (a 1 MiB random
  block stamped with a counter), so the object never exists in memory or on disk; boto3 reads
  a temp file of the same size, written beforehand (its natural input), from the page cache;
* both use the same client configuration (``create_s3_client``), boto3 with its default
  ``TransferConfig`` (8 MiB parts, 10 threads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
BUCKET = "atelier-bench"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# -- measurement helpers (run inside the child) ------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _block(n: int, base: bytes) -> bytes:
    return n.to_bytes(8, "big") + base[8:]


async def _generated(total: int, chunk: int) -> AsyncIterator[bytes]:
    base = os.urandom(chunk)
    sent, n = 0, 0
    while sent < total:
        data = _block(n, base)[: total - sent]
        yield data
        sent += len(data)
        n += 1


def _child(args: argparse.Namespace) -> None:
    from core.storage.s3 import S3Storage, create_s3_client

    client = create_s3_client(args.endpoint)
    client.head_bucket(Bucket=BUCKET)  # warm the connection and credentials before measuring
    total = args.size_mb * MiB
    key = f"bench/{args.child}-{uuid.uuid4().hex}"
    storage = S3Storage(
        BUCKET,
        client=client,
        part_size=args.part_size_mb * MiB,
        max_concurrency=args.concurrency,
    )
    reset = _reset_peak()
    rss_before = _status_kib("VmRSS")
    hwm_before = _status_kib("VmHWM")
    started = time.perf_counter()
    if args.child == "ours":
        stored = asyncio.run(
            storage.put_stream(
                key, _generated(total, args.chunk_kb * 1024), content_type="video/mp4"
            )
        )
        assert stored.size == total
    else:
        client.upload_file(args.file, BUCKET, key, ExtraArgs={"ContentType": "video/mp4"})
    elapsed = time.perf_counter() - started
    hwm_after = _status_kib("VmHWM")
    size = client.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
    client.delete_object(Bucket=BUCKET, Key=key)  # frees moto's copy for the next round
    print(
        json.dumps(
            {
                "mode": args.child,
                "bytes": size,
                "seconds": elapsed,
                "rss_before_kib": rss_before,
                "peak_growth_kib": hwm_after - (rss_before if reset else hwm_before),
                "peak_reset": reset,
            }
        )
    )


# -- orchestration (the parent) ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_moto(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from moto.server import main; main()"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto server did not start")


def _write_temp_file(path: Path, total: int) -> None:
    base = os.urandom(MiB)
    with path.open("wb") as handle:
        written, n = 0, 0
        while written < total:
            data = _block(n, base)[: total - written]
            handle.write(data)
            written += len(data)
            n += 1


def _run_child(mode: str, args: argparse.Namespace, endpoint: str, file: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.upload", "--child", mode, "--endpoint", endpoint]
    command += ["--size-mb", str(args.size_mb), "--file", str(file)]
    command += ["--part-size-mb", str(args.part_size_mb), "--concurrency", str(args.concurrency)]
    command += ["--chunk-kb", str(args.chunk_kb)]
    output = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        command, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def _report(result: dict[str, Any]) -> str:
    mb = result["bytes"] / 1e6
    label = "S3Storage.put_stream" if result["mode"] == "ours" else "boto3 upload_file"
    return (
        f"  {label:<22} {result['seconds']:7.2f} s  {mb / result['seconds']:8.1f} MB/s  "
        f"peak RSS growth {result['peak_growth_kib'] / 1024:7.1f} MiB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=1024, help="object size in MiB")
    parser.add_argument("--rounds", type=int, default=1, help="boto3/ours pairs to run")
    parser.add_argument("--part-size-mb", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4, help="our parts in flight")
    parser.add_argument("--chunk-kb", type=int, default=1024, help="source chunk size (ours)")
    parser.add_argument("--child", choices=["ours", "boto3"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.update(FAKE_AWS_ENV)
    if args.child:
        _child(args)
        return

    from core.storage.s3 import create_s3_client

    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = _start_moto(port)
    try:
        create_s3_client(endpoint).create_bucket(Bucket=BUCKET)
        total = args.size_mb * MiB
        print(
            f"{args.size_mb} MiB to moto at {endpoint} (own process); ours: "
            f"{args.part_size_mb} MiB parts x {args.concurrency} in flight, "
            f"{args.chunk_kb} KiB source chunks"
        )
        with tempfile.TemporaryDirectory(prefix="atelier-bench-") as tmp:
            file = Path(tmp) / "payload.bin"
            _write_temp_file(file, total)
            results: dict[str, list[dict[str, Any]]] = {"boto3": [], "ours": []}
            for round_no in range(1, args.rounds + 1):
                print(f"round {round_no}:")
                for mode in ("boto3", "ours"):
                    result = _run_child(mode, args, endpoint, file)
                    results[mode].append(result)
                    print(_report(result), flush=True)
        best = {m: min(r, key=lambda x: x["seconds"]) for m, r in results.items()}
        ratio = best["boto3"]["seconds"] / best["ours"]["seconds"]
        growth = max(r["peak_growth_kib"] for r in results["ours"]) / 1024
        print(
            f"throughput ours/boto3 (best of {args.rounds}): {ratio:.0%} (target >= 80%); "
            f"our worst peak RSS growth: {growth:.1f} MiB (target <= 64 MB = 61 MiB)"
        )
        if not all(r["peak_reset"] for rs in results.values() for r in rs):
            print("note: the kernel refused to reset VmHWM; growth is measured from start-up peak")
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
