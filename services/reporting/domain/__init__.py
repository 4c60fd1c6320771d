"""Pure reporting logic and values, no I/O: the resource catalogue, report periods and buckets,
money figures and conversions, costs, billed resources, recommendations and the results the
transports map to protobuf or JSON."""
