"""repro: a reproduction harness for scientific claims.

The pipeline, one package per step: ``bundle`` (read and validate a
submission) -> ``plan`` (resolve each claim's effective settings) ->
``sandbox`` (run untrusted code sealed) -> ``checkers`` (one per claim kind:
turn a run into a decision) -> ``compare``/``verdict`` -> ``artifact``
(the durable record).  ``check.check`` ties them together; the CLI is a thin
front-end over it.
"""

__version__ = "0.1.0"
