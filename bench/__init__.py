"""Benchmarks: one command each, printing the service's figures beside a raw baseline from the same run."""
