"""A WSGI application whose handler is reloadable: edit page.py while gunicorn serves it.

    cd examples/gunicorn
    gunicorn --preload --workers 2 --bind 127.0.0.1:8000 app:application

With ``--preload`` this module is imported once, in the master: the hook is installed and
page.py is loaded there, before the workers are forked. Every worker then starts with that
version and its own watcher, and reloads page.py on its own when the file changes.
"""

import logging
import os

import pmnc_hook
from pmnc_hook import pmnc

HERE = os.path.dirname(os.path.abspath(__file__))

# pmnc_hook logs each reload (and each failed one, with its traceback) on the "pmnc_hook"
# logger; send those lines to stderr, next to gunicorn's own log.
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(name)s] %(message)s"))
logging.getLogger("pmnc_hook").addHandler(_handler)
logging.getLogger("pmnc_hook").setLevel(logging.INFO)

# The module directory is this one: page.py is pmnc.page. app.py is gunicorn's entry point,
# imported as a plain module before the hook exists, and never reached through pmnc.
# In production, reload only when told (docs/production.md): run gunicorn without --preload,
# install with watch=False, reload_signal=signal.SIGHUP, and send `pkill -HUP -P <master>`.
pmnc_hook.install([HERE])

# Load the handler in the master, so that every worker starts with it already loaded.
pmnc.page.body()


def serve(environ, start_response):
    """Serve whatever the current version of page.py says."""
    body = pmnc.page.body().encode("utf-8")
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


# Each request is a unit of work: every pmnc access in it sees one generation of the modules,
# and a change spanning several of them is published between requests, never during one.
application = pmnc_hook.wsgi(serve)
