"""Local stand-in servers for behaviour cassettes cannot show (concurrency, throttling, locks)."""
