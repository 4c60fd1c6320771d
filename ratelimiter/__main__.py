"""`python -m ratelimiter serve` (same as the `ratelimiter` console script)."""

from ratelimiter.cli import main

main()
