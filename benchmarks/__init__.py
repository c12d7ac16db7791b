"""Side-by-side benchmarks: this library, raw boto3 (the floor) and pydantic-dynamo 0.4.2.

Run ``python -m benchmarks.run --help``. Modules imported by the 0.4.2 runner (``workload``,
``harness``) use the standard library only, because that runner lives in its own venv with
Pydantic v1.
"""
