"""Sign-in pages (password, TOTP, TOTP enrolment), break-glass, alerts, post-incident, and
a recording's access page (access class, assignments, shares). One module each."""
