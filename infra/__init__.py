"""The CDK app of the records service: ``npx cdk synth`` / ``npx cdk deploy`` (see cdk.json).

One thin stack (``infra.stack``) and one construct per capability: ``table``, ``layer``,
``functions``, ``api``, ``ingestion``, ``stream_consumer``, ``monitoring``. The layer's zip
comes from the ``layer`` package (built without Docker, outside the CDK app), which also runs
the synthesized artifact under the runtime's Python.
"""
