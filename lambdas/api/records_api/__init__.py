"""The records HTTP API: a Powertools REST resolver over the content-type registry."""
