"""The shared core every stage uses: records (Segment, Bead, Document, Alignment), errors, config, atomic writes, the version."""
