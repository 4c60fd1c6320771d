"""Pure billing logic, no I/O (time is passed in as `now`): per-second proration and resources,
hourly roll-ups, the worker's schedule, what a Stripe push carries and what to do after it,
invoices as the pages show them, and the subscription statement."""
