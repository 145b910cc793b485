"""overt.cases: cases that gather an investigation's evidence, sharing with people outside
the force (links, codes, watermarked playback, receipts) and disclosure bundles."""
