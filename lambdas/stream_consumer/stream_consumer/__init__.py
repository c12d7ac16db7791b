"""The stream consumer: the table's changes, decoded per content type, announced on the bus."""
