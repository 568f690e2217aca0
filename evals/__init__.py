"""`make eval`: how well Chorus routes, computes and cites, measured on the project's own sets."""
