"""An HTTP service whose request handlers are reloadable modules, edited under load.

    python examples/http_service/demo.py          # the demo: load, edits, a report
    python examples/http_service/demo.py --serve  # just serve on http://127.0.0.1:8000/

GET /<name>?... is answered by ``pmnc.<name>.get(query)``, for every module in handlers/.
The demo starts the service on a free port of 127.0.0.1, runs client threads that keep
calling /hello and /counter, and meanwhile rewrites handlers/hello.py three times and
handlers/counter.py once. No request may fail, every new version must be served, and the
count kept by counter.py (migrated by its pmnc_init) must equal the requests it answered.
At the end the handler files get their original content back.
"""

import argparse
import collections
import logging
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pmnc_hook
from pmnc_hook import pmnc

HANDLERS = Path(__file__).resolve().parent / "handlers"
CLIENTS = {"/hello": 4, "/counter": 2}  # client threads per path
MAX_REQUESTS = 5000  # per client thread: the load is bounded even if something hangs
PER_VERSION = 25  # requests each version answers before the next edit
DEADLINE = 10.0  # seconds for a new version to be served, and to answer PER_VERSION requests


class Handler(BaseHTTPRequestHandler):
    """Answer GET /<name> with pmnc.<name>.get(query): a module's current version."""

    def do_GET(self):
        url = urlsplit(self.path)
        name = url.path.strip("/")
        module = None
        if name.isidentifier() and not name.startswith("_"):
            try:
                module = getattr(pmnc, name)  # the reload point: a changed file loads here
            except AttributeError:  # no handlers/<name>.py
                pass
        if module is None or not hasattr(module, "get"):
            self.reply(404, f"no handler for {url.path}\n")
            return
        try:
            body = module.get(parse_qs(url.query))
        except Exception:
            logging.exception("GET %s failed", self.path)
            self.reply(500, "internal error\n")
            return
        self.reply(200, body)

    def reply(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass  # one line per request would drown the demo's output


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the load generator opens a connection per request


def fetch(opener, url):
    with opener.open(url, timeout=10) as response:
        return response.read().decode()


class Tally:
    """What the client threads were answered: requests per version, failures per path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.served = threading.Condition(self.lock)
        self.versions = collections.Counter()  # "hello v2" -> requests it answered
        self.done = collections.Counter()  # path -> requests answered
        self.failed = collections.Counter()  # path -> requests failed

    def answered(self, path, version):
        with self.lock:
            self.done[path] += 1
            self.versions[version] += 1
            self.served.notify_all()

    def failure(self, path):
        with self.lock:
            self.failed[path] += 1

    def wait_served(self, version, count):
        """Wait until ``version`` answered ``count`` requests; False after DEADLINE."""
        with self.lock:
            if self.served.wait_for(lambda: self.versions[version] >= count, DEADLINE):
                return True
        print(f"{version} did not answer {count} requests within {DEADLINE:.0f} s")
        return False


def client(base, path, stop, tally):
    """Call ``path`` until told to stop; count successes, failures and versions seen."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
    for _ in range(MAX_REQUESTS):
        if stop.is_set():
            break
        try:
            body = fetch(opener, base + path)
        except Exception as exc:
            tally.failure(path)
            print(f"  request failed: {path}: {exc!r}", flush=True)
            continue
        tally.answered(path, body.rsplit("(", 1)[-1].rstrip(")\n"))


def edit(name, replacements, version):
    """Rewrite handlers/<name>.py with ``replacements``; wait until ``version`` is served."""
    path = HANDLERS / f"{name}.py"
    text = path.read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    started = time.perf_counter()
    path.write_text(text)
    # The clients' requests are what reload the module: watch its version go up.
    while pmnc_hook.status()[name].version < version:
        if time.perf_counter() - started > DEADLINE:
            print(f"{name}.py version {version} was not served within {DEADLINE:.0f} s")
            return False
        time.sleep(0.005)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"  {name}.py rewritten: version {version} serving {elapsed:.0f} ms after the write")
    return True


def demo():
    files = {path: path.read_bytes() for path in HANDLERS.glob("*.py")}
    ok = True
    try:
        with pmnc_hook.install([HANDLERS]), Server(("127.0.0.1", 0), Handler) as server:
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            base = f"http://127.0.0.1:{server.server_address[1]}"
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            print(f"serving {HANDLERS} on {base}")
            print(f"  GET /hello   -> {fetch(opener, base + '/hello')}", end="")
            print(f"  GET /counter -> {fetch(opener, base + '/counter')}", end="")
            stop, tally = threading.Event(), Tally()
            threads = [
                threading.Thread(target=client, args=(base, path, stop, tally))
                for path, count in CLIENTS.items()
                for _ in range(count)
            ]
            print(f"{len(threads)} client threads calling /hello and /counter ...", flush=True)
            for thread in threads:
                thread.start()
            # Each version serves the clients for a while before the next edit: waits on
            # what was served, never on the clock, so a slow machine only makes it slower.
            ok = tally.wait_served("hello v1", PER_VERSION) and ok
            ok = tally.wait_served("counter v1", PER_VERSION) and ok
            greetings = ["Hello", "Good morning", "Good afternoon", "Good evening"]
            for version in (2, 3, 4):
                old = [(f'"{greetings[version - 2]}"', f'"{greetings[version - 1]}"')]
                marker = [(f"(hello v{version - 1})", f"(hello v{version})")]
                ok = edit("hello", old + marker, version) and ok
                ok = tally.wait_served(f"hello v{version}", PER_VERSION) and ok
            ok = edit("counter", [("(counter v1)", "(counter v2)")], 2) and ok
            ok = tally.wait_served("counter v2", PER_VERSION) and ok
            stop.set()
            for thread in threads:
                thread.join()
            served = pmnc.counter.served
            print(f"  GET /hello   -> {fetch(opener, base + '/hello?name=you')}", end="")
            print(f"  GET /counter -> {fetch(opener, base + '/counter')}", end="")
            server.shutdown()
    finally:
        for path, data in files.items():
            path.write_bytes(data)
        print("the handler files have their original content again")
    done, failed = sum(tally.done.values()), sum(tally.failed.values())
    print(f"requests done: {done}, failed: {failed}")
    print(f"versions served: {', '.join(sorted(tally.versions))}")
    # The counter answered the clients' requests plus the first GET /counter above.
    print(f"counter.py counted {served} requests; it answered {tally.done['/counter'] + 1}")
    ok = ok and failed == 0 and served == tally.done["/counter"] + 1
    print("http service: OK" if ok else "http service: FAILED")
    return 0 if ok else 1


def serve(port):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with pmnc_hook.install([HANDLERS]), Server(("127.0.0.1", port), Handler) as server:
        print(f"serving {HANDLERS} on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        print(f"try: curl http://127.0.0.1:{port}/hello  and edit handlers/hello.py")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve")
    args = parser.parse_args()
    if args.serve:
        serve(args.port)
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="  [log] %(message)s")
    return demo()


if __name__ == "__main__":
    sys.exit(main())
