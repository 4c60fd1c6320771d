"""What reporting's transports call: one report function per question a page asks, usage exports,
the API's request metrics and invoices with the subscription."""
