"""overt.oversight: deployments, activation compliance, supervisor review, complaints,
dashboards and the signed public transparency report (docs/oversight.md)."""
