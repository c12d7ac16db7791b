"""The SQS batch writer: validated contents from the ingestion queue, written in batches."""
