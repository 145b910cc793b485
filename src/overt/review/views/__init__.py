"""The review pages: the recordings library (search, facets, saved searches, GPS map), a
recording (justify, then the player with its timeline), an incident's cameras in sync,
and jobs; one module each."""
