"""The composition root: the one package that assembles contexts into processes. It holds the
process configuration (`config`), the `metering serve` process (`server`, with the reporting side
in `reporting`), the billing worker process (`worker`), the command line (`cli`) and `metering dev`
(`dev`). Nothing imports it but its own modules."""
