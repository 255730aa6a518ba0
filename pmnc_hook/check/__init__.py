"""The static checker (``python -m pmnc_hook --check``): what breaks reloading, found
without importing or running anything.

Read in this order: ``targets`` (which files, as what), ``files`` (each file against its
module directories, and the command line), ``installs`` (the directories a program names in
``install()``), ``source`` (one file: parse, rules, suppression), ``index`` (one parsed file,
its scopes and names), ``rules`` with ``captures`` and ``state`` (one function per rule),
``findings`` and ``output`` (what is reported, as text or JSON). The checker shares name
rules (``pmnc_hook._names``) and directive scanning (``pmnc_hook.reload.directives``) with
the reload core and imports nothing else of the runtime.
"""
