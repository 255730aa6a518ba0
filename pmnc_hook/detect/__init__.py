"""Change detection: find changed module files and hand them to the registry in change-sets.

A change, file by file, in order:

1. **Event** (``watchdog_backend.py``): the native watcher turns inotify events on a module
   directory into notices (``interfaces.Notice``): WRITE (written, its writer may hold it
   open), EVENT (closed after writing, moved into place, deleted, created: no writer known).
   Or **stat** (``polling.py``): a sweep over the loaded modules notices those whose stat no
   longer proves them unchanged (STAT), every ``poll`` seconds in poll mode, every 5 s as a
   backup in watch mode.
2. **Settle** (``settle.py``): a noticed path waits until it has had no notice and an unchanged
   stat for the settle time (20 ms); in watch mode a file still open for writing waits for its
   close, however long; an empty file must stay so for 2 s. A notice on a file that
   module files link to (``links.py``) is a notice on those module files too.
3. **Judge** (``Target.confirm``, the registry in ``pmnc_hook/reload``): content is compared
   with the published version; a differing file's bytes are staged, the module name returned.
4. **Commit** (``settle.py`` again, ``Target.commit``): what was judged changed within one
   window (extending while notices keep arriving, 2 s at most) becomes one change-set, which
   the registry publishes at the next access.

Around this path, ``detector.py`` runs the one background thread (settle, sweep, every second a
supervision tick) and is what ``pmnc_hook._api`` uses; ``supervise.py`` keeps the watcher
working: it follows switched or replaced module directories (whose modules are then noticed
again), restarts a dead watcher, and falls back to polling with one warning.
"""
