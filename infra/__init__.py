"""The CDK app of the records service: ``npx cdk synth`` / ``npx cdk deploy`` (see cdk.json).

One thin stack (``infra.stack``) and one construct per capability: ``table``, ``layer``,
``functions``, ``api``, ``ingestion``, ``monitoring``. ``layer_build`` builds the Lambda layer
without Docker; ``artifact`` runs the synthesized artifact under the runtime's Python.
"""
