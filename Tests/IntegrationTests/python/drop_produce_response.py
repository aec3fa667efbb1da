"""A TCP proxy in front of ternd that loses the first Produce response: it forwards the request,
swallows the broker's answer and closes the client's connection, as a network failure would after
the broker wrote the batch. Started by the Swift tests.

usage: drop_produce_response.py LISTEN_PORT BROKER_PORT
Prints "ready" once listening; runs until killed.
"""
import asyncio
import signal
import struct
import sys

# The test process may have left SIGTERM ignored, and children inherit that.
signal.signal(signal.SIGTERM, signal.SIG_DFL)

dropped = False


async def pump_requests(reader, writer, api_keys):
    try:
        while True:
            header = await reader.readexactly(4)
            (size,) = struct.unpack(">i", header)
            body = await reader.readexactly(size)
            api_key, _version, correlation_id = struct.unpack(">hhi", body[:8])
            api_keys[correlation_id] = api_key
            writer.write(header + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def pump_responses(reader, writer, api_keys, client_writer):
    global dropped
    try:
        while True:
            header = await reader.readexactly(4)
            (size,) = struct.unpack(">i", header)
            body = await reader.readexactly(size)
            (correlation_id,) = struct.unpack(">i", body[:4])
            if api_keys.get(correlation_id) == 0 and not dropped:
                dropped = True
                print("dropped produce response", flush=True)
                client_writer.close()
                writer.close()
                return
            client_writer.write(header + body)
            await client_writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        client_writer.close()


async def handle(client_reader, client_writer, broker_port):
    broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", broker_port)
    api_keys = {}
    await asyncio.gather(
        pump_requests(client_reader, broker_writer, api_keys),
        pump_responses(broker_reader, broker_writer, api_keys, client_writer),
    )


async def main():
    listen_port, broker_port = int(sys.argv[1]), int(sys.argv[2])
    server = await asyncio.start_server(lambda r, w: handle(r, w, broker_port), "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
