#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that delays every byte, in each direction, by a fixed one-way time.

Usage: delay-proxy.py LISTEN_PORT TARGET_PORT ONE_WAY_MS

bench/drift.sh uses it to put a round-trip time of 2 x ONE_WAY_MS on the ssh path when the
kernel has no `tc netem` (CONFIG_NET_SCH_NETEM unset): the ssh aliases bench-d1..d5 connect
here, and each connection is forwarded to the benchmark's sshd on TARGET_PORT.

What it models: a link with that latency and no bandwidth limit. Each chunk read from one side
is written to the other ONE_WAY_MS after it arrived (in order; chunks in flight overlap, so
throughput is not limited). A new connection first waits one round trip (the TCP handshake)
before it is forwarded, so the client's first bytes reach the server 1.5 round trips after
connect(), as on a real link. Listens on 127.0.0.1 only; ends on SIGTERM or SIGINT.
"""
import asyncio
import signal
import sys


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                data = await reader.read(1 << 18)
                queue.put_nowait((loop.time() + delay, data))
                if not data:
                    return
        except OSError:
            queue.put_nowait((loop.time(), b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            pass

    await asyncio.gather(read(), write())


async def main(listen_port, target_port, delay):
    async def handle(c_reader, c_writer):
        s_writer = None
        try:
            await asyncio.sleep(2 * delay)  # SYN, SYN-ACK
            s_reader, s_writer = await asyncio.open_connection("127.0.0.1", target_port)
            await asyncio.gather(pump(c_reader, s_writer, delay), pump(s_reader, c_writer, delay))
        except OSError:
            pass
        finally:
            for w in (c_writer, s_writer):
                if w is not None:
                    w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=128)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"delay-proxy: 127.0.0.1:{listen_port} -> 127.0.0.1:{target_port}, "
          f"{delay * 1000:.0f} ms each way", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
