"""The Lambda layer's tooling: build it without Docker, optimize it, verify it, run from it.

Plain Python with no CDK import, so the Makefile, the tests and the CDK app all call it cheaply;
the CDK app (``infra.layer``) only asks ``layer.build.build_layer()`` for the zip's path.

- ``contents``: what the layer holds and leaves out (``requirements.txt`` pins the wheels).
- ``install``: step 1, the Lambda platform's wheels and the first-party packages into
  ``python/``.
- ``optimize``: step 2, prune what no handler uses; compile what their cold starts load.
- ``verify``: step 3, the invariants (no boto3, bytecode Lambda uses, nothing imports what was
  pruned), the imports and the zipped size.
- ``build``: the three steps, cached by the hash of their inputs, into a deterministic zip.
- ``runtime``, ``invocation``: the runtime's Python and boto3 on this machine, and a handler
  run as Lambda runs it; ``assembly``: the functions of a synthesized ``cdk.out``.

``make layer`` runs ``python -m layer.build`` then ``python -m layer.verify``.
"""
