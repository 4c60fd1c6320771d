"""What the reports read: named SQL statements run on a given connection, and the rate-limiter
sidecar's counts for a client, read without consuming."""
