"""The reload core: ``pmnc.<name>`` -> registry -> build -> publish, and change judgment.

Read in this order: ``facade`` (the ``pmnc`` object), ``finder`` and ``loader`` (the import
system's view), ``registry`` (one entry per module name), ``source`` and ``directives`` (what
a file holds), ``tracking`` (quiescent swaps of stateful modules), ``events``.
"""
