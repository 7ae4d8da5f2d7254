"""One typed Settings object, read from CUSTOMSLAB_* environment variables and passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

INSECURE_SECRET = "changeme"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTOMSLAB_", extra="ignore")

    mode: Literal["production", "dev", "demo", "test"] = "production"
    database_url: str = "sqlite:///var/customslab.sqlite3"
    secret_key: str = INSECURE_SECRET
    file_store: Path = Path("var/files")
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    token_ttl_minutes: int = Field(default=8 * 60, gt=0)
    library_path: Path | None = None
    shared_data: Path = Path("../shared/data")
    host: str = "127.0.0.1"
    port: int = 8000
    cookie_secure: bool = False

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.mode == "production" and (self.secret_key == INSECURE_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "CUSTOMSLAB_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside demo, dev and test mode"
            )
        return self
