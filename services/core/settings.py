"""Configuration from the environment (and `.env`); vendor names follow each vendor's convention."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ReminderDay = Annotated[int, Field(ge=0, le=365)]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
Temperature = Literal["hot", "warm", "cold", "no"]
DEFAULT_FOLLOWUP_DAYS: dict[Temperature, list[int]] = {"hot": [1, 3], "warm": [7, 21], "cold": [30], "no": []}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field("development", alias="FOXEO_ENV")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    data_dir: Path = Field(PROJECT_ROOT / ".data", alias="FOXEO_DATA_DIR")
    db_pool_size: int = Field(10, alias="FOXEO_DB_POOL_SIZE", ge=1, le=200)
    log_level: str = Field("INFO", alias="FOXEO_LOG_LEVEL")
    auto_migrate: bool = Field(True, alias="FOXEO_AUTO_MIGRATE")
    run_scheduler: bool = Field(True, alias="FOXEO_RUN_SCHEDULER")
    public_base_url: str = Field("http://127.0.0.1:8000", alias="FOXEO_PUBLIC_BASE_URL")

    supabase_url: str | None = Field(None, alias="SUPABASE_URL")
    supabase_jwt_secret: SecretStr | None = Field(None, alias="SUPABASE_JWT_SECRET")
    supabase_secret_key: SecretStr | None = Field(None, alias="SUPABASE_SECRET_KEY")
    jwks_cache_seconds: int = Field(600, alias="FOXEO_JWKS_CACHE_SECONDS", ge=10)

    # Storage: Supabase Storage when SUPABASE_URL + SUPABASE_SECRET_KEY are set, a local folder otherwise.
    storage_backend: Literal["auto", "local", "supabase"] = Field("auto", alias="FOXEO_STORAGE_BACKEND")
    storage_bucket: str = Field("foxeo", alias="FOXEO_STORAGE_BUCKET")
    storage_dir: Path | None = Field(None, alias="FOXEO_STORAGE_DIR")
    signing_secret: SecretStr | None = Field(None, alias="FOXEO_SIGNING_SECRET")
    signed_url_ttl_seconds: int = Field(300, alias="FOXEO_SIGNED_URL_TTL_SECONDS", ge=10, le=7200)
    documents_max_bytes: int = Field(50 * 1024 * 1024, alias="FOXEO_DOCUMENTS_MAX_BYTES", ge=1)
    documents_direct_upload_max_bytes: int = Field(10 * 1024 * 1024, alias="FOXEO_DIRECT_UPLOAD_MAX_BYTES", ge=1)
    documents_allowed_mime_types: list[str] = Field(
        default_factory=lambda: [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "image/webp",
            "image/gif",
            "text/plain",
            "text/csv",
            "text/markdown",
            "application/zip",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "audio/mpeg",
            "audio/mp4",
            "audio/wav",
            "video/mp4",
        ],
        alias="FOXEO_DOCUMENTS_ALLOWED_MIME_TYPES",
    )

    notifications_retention_days: int = Field(90, alias="FOXEO_NOTIFICATIONS_RETENTION_DAYS", ge=1)

    # Reminders and e-mail (services/reminders). Every e-mail goes through the outbox; without
    # FOXEO_SMTP_HOST and FOXEO_SMTP_FROM it stays there as `not_sent` (readable through the API).
    # Port 465 speaks TLS from the start; other ports upgrade with STARTTLS unless it is switched off.
    smtp_host: str | None = Field(None, alias="FOXEO_SMTP_HOST")
    smtp_port: int = Field(587, alias="FOXEO_SMTP_PORT", ge=1, le=65535)
    smtp_username: str | None = Field(None, alias="FOXEO_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, alias="FOXEO_SMTP_PASSWORD")
    smtp_from: str | None = Field(None, alias="FOXEO_SMTP_FROM")
    smtp_starttls: bool = Field(True, alias="FOXEO_SMTP_STARTTLS")
    smtp_timeout_seconds: float = Field(30, alias="FOXEO_SMTP_TIMEOUT_SECONDS", gt=0, le=600)
    reminders_batch_size: int = Field(100, alias="FOXEO_REMINDERS_BATCH_SIZE", ge=1, le=10_000)
    # "Homework due soon" fires this long before the homework's due time.
    reminders_homework_window_hours: float = Field(24, alias="FOXEO_REMINDERS_HOMEWORK_WINDOW_HOURS", gt=0, le=720)

    pennylane_api_token: SecretStr | None = Field(None, alias="PENNYLANE_API_TOKEN")
    calcom_api_key: SecretStr | None = Field(None, alias="CALCOM_API_KEY")
    calcom_webhook_secret: SecretStr | None = Field(None, alias="CALCOM_WEBHOOK_SECRET")
    insee_api_key: SecretStr | None = Field(None, alias="INSEE_API_KEY")
    livekit_url: str | None = Field(None, alias="LIVEKIT_URL")
    livekit_api_key: str | None = Field(None, alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(None, alias="LIVEKIT_API_SECRET")
    deepgram_api_key: SecretStr | None = Field(None, alias="DEEPGRAM_API_KEY")
    stripe_secret_key: SecretStr | None = Field(None, alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: SecretStr | None = Field(None, alias="STRIPE_WEBHOOK_SECRET")
    deepseek_api_key: SecretStr | None = Field(None, alias="DEEPSEEK_API_KEY")
    anthropic_api_key: SecretStr | None = Field(None, alias="ANTHROPIC_API_KEY")

    # Job queue (services/core/queue.py, worker.py): how often an idle worker polls (a NOTIFY wakes it
    # sooner), how many jobs one claim takes and one process runs at once, how long a claim is leased
    # (renewed while the handler runs), and the retry policy.
    jobs_poll_interval_ms: int = Field(1000, alias="FOXEO_JOBS_POLL_INTERVAL_MS", ge=20, le=600_000)
    jobs_batch_size: int = Field(10, alias="FOXEO_JOBS_BATCH_SIZE", ge=1, le=1000)
    jobs_concurrency: int = Field(8, alias="FOXEO_JOBS_CONCURRENCY", ge=1, le=1000)
    jobs_lease_seconds: float = Field(300, alias="FOXEO_JOBS_LEASE_SECONDS", ge=1, le=86_400)
    jobs_max_attempts: int = Field(8, alias="FOXEO_JOBS_MAX_ATTEMPTS", ge=1, le=100)
    jobs_backoff_base_seconds: float = Field(10, alias="FOXEO_JOBS_BACKOFF_BASE_SECONDS", gt=0)
    jobs_backoff_cap_seconds: float = Field(3600, alias="FOXEO_JOBS_BACKOFF_CAP_SECONDS", gt=0)
    jobs_shutdown_seconds: float = Field(30, alias="FOXEO_JOBS_SHUTDOWN_SECONDS", ge=0)

    # Meetings (issue 11): join tokens, recordings (egress to the storage bucket through its S3
    # endpoint), transcription (Deepgram) and summaries (LLM). Vendor model names and prices change:
    # settings, never constants. A missing key answers 503 naming it.
    livekit_token_ttl_seconds: int = Field(900, alias="LIVEKIT_TOKEN_TTL_SECONDS", ge=60, le=21_600)
    livekit_egress_s3_endpoint: str | None = Field(None, alias="LIVEKIT_EGRESS_S3_ENDPOINT")
    livekit_egress_s3_region: str = Field("eu-west-3", alias="LIVEKIT_EGRESS_S3_REGION")
    livekit_egress_s3_access_key: str | None = Field(None, alias="LIVEKIT_EGRESS_S3_ACCESS_KEY")
    livekit_egress_s3_secret: SecretStr | None = Field(None, alias="LIVEKIT_EGRESS_S3_SECRET")
    deepgram_model: str = Field("nova-3", alias="DEEPGRAM_MODEL")
    deepgram_language: str = Field("fr", alias="DEEPGRAM_LANGUAGE")
    # Recordings longer than this are transcribed in Deepgram's callback mode.
    deepgram_callback_threshold_seconds: float = Field(1200, alias="DEEPGRAM_CALLBACK_THRESHOLD_SECONDS", ge=0)
    deepgram_callback_ttl_seconds: int = Field(6 * 3600, alias="DEEPGRAM_CALLBACK_TTL_SECONDS", ge=300)
    summary_llm_provider: Literal["deepseek", "anthropic"] = Field("deepseek", alias="SUMMARY_LLM_PROVIDER")
    deepseek_model: str = Field("deepseek-flash", alias="DEEPSEEK_MODEL")
    deepseek_price_input_per_million: Decimal = Field(Decimal("0.30"), alias="DEEPSEEK_PRICE_INPUT_PER_MILLION")
    deepseek_price_cached_per_million: Decimal = Field(Decimal("0.006"), alias="DEEPSEEK_PRICE_CACHED_PER_MILLION")
    deepseek_price_output_per_million: Decimal = Field(Decimal("1.20"), alias="DEEPSEEK_PRICE_OUTPUT_PER_MILLION")
    anthropic_model: str = Field("claude-sonnet-5-5", alias="ANTHROPIC_MODEL")
    anthropic_price_input_per_million: Decimal = Field(Decimal("3"), alias="ANTHROPIC_PRICE_INPUT_PER_MILLION")
    anthropic_price_output_per_million: Decimal = Field(Decimal("15"), alias="ANTHROPIC_PRICE_OUTPUT_PER_MILLION")
    summary_max_tokens: int = Field(4096, alias="SUMMARY_MAX_TOKENS", ge=256, le=64_000)

    # Agenda and prospects (issue 13): the SPA page of the pre-visio waiting room (the signed token is
    # appended as a path segment; default: FOXEO_PUBLIC_BASE_URL/previsio), how long the pre-visio form
    # waits for the company lookup before keeping the SIRET as typed, and the follow-up cadence per
    # prospect status (days after the status is set).
    previsio_url: str | None = Field(None, alias="FOXEO_PREVISIO_URL")
    company_lookup_timeout_seconds: float = Field(4.0, alias="FOXEO_COMPANY_LOOKUP_TIMEOUT_SECONDS", gt=0, le=30)
    prospect_followup_days: dict[Temperature, list[int]] = Field(
        default_factory=lambda: dict(DEFAULT_FOLLOWUP_DAYS),
        alias="FOXEO_PROSPECT_FOLLOWUP_DAYS",
    )
    # Billing sync and payments (issue 12): the Pennylane changelog sync period, the payment reminder
    # cadence (days before the due date, days after it: each step is sent once per invoice), and where
    # Stripe Checkout sends the payer back (an app path under FOXEO_PUBLIC_BASE_URL, or an https URL).
    billing_sync_interval_seconds: int = Field(300, alias="BILLING_SYNC_INTERVAL_SECONDS", ge=30, le=86_400)
    billing_reminder_days_before: list[ReminderDay] = Field(
        default_factory=lambda: [3], alias="BILLING_REMINDER_DAYS_BEFORE", max_length=10
    )
    billing_reminder_days_after: list[ReminderDay] = Field(
        default_factory=lambda: [1, 7, 15, 30], alias="BILLING_REMINDER_DAYS_AFTER", max_length=10
    )
    billing_payment_link_hours: int = Field(23, alias="BILLING_PAYMENT_LINK_HOURS", ge=1, le=23)
    stripe_success_path: str = Field("/billing/invoices?paid=1", alias="STRIPE_SUCCESS_PATH")
    stripe_cancel_path: str = Field("/billing/invoices", alias="STRIPE_CANCEL_PATH")

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("DATABASE_URL", self.database_url),
                    ("SUPABASE_URL or SUPABASE_JWT_SECRET", self.supabase_url or self.supabase_jwt_secret),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production refuses to start without {', '.join(missing)}")
            if self.supabase_jwt_secret and len(self.supabase_jwt_secret.get_secret_value()) < 32:
                raise ValueError("SUPABASE_JWT_SECRET is too short for production (32+ characters)")
        return self

    def _persisted_secret(self, name: str) -> str:
        """A random secret created once in the data dir, so it survives restarts."""
        path = self.data_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def signing_key(self) -> bytes:
        """HMAC key for links the API signs itself (local storage URLs). FOXEO_SIGNING_SECRET when set
        (replicas must share it); else derived from the JWT secret; else a random one in the data dir —
        never a value derived from nothing."""
        if self.signing_secret:
            base = self.signing_secret.get_secret_value()
        else:
            base = self.jwt_secret() or self._persisted_secret("signing-secret")
        return hashlib.sha256(b"foxeo-signed-urls:" + base.encode()).digest()

    def jwt_secret(self) -> str | None:
        """The HS256 secret; the embedded default gets a random one persisted in the data dir."""
        if self.supabase_jwt_secret:
            return self.supabase_jwt_secret.get_secret_value()
        if self.supabase_url:
            return None  # JWKS only: HS256 tokens are refused
        return self._persisted_secret("dev-jwt-secret")


@lru_cache
def get_settings() -> Settings:
    return Settings()
