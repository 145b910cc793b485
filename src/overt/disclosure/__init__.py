"""Evidence leaving overt: an original downloaded byte for byte, or an exhibit package
(originals, custody report, offline verifier) for a prosecutor, a defence expert or the
IOPC. Each is checked against the access rules, asks for a reason, and is on the custody
record before the first byte leaves."""
