"""The write-once deduper: writes only new or changed contents and announces exactly those."""
