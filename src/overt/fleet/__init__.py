"""Fleet: the force's cameras, who wears which, their health as reported at the dock, and
the settings profile each camera fetches at offload (issue 18)."""
