"""The signed-in user's profile: created on first call, merged updates, validated preferences."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Tenant, User


async def test_profile_is_created_on_first_call_with_defaults(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    assert await sql.fetchval("select count(*) from profiles") == 0
    r = await client.get("/api/v1/me", headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["client_ids"] == [str(tenant_a.id)] and me["is_operator"] is False
    assert me["theme"] == "system" and me["quiet_hours"]["enabled"] is False
    assert me["notification_prefs"]["validation_hub"]["priority"] == "high"
    assert await sql.fetchval("select count(*) from profiles") == 1


async def test_profile_row_exists_after_any_first_authenticated_call(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    assert (await client.get(f"/api/v1/clients/{tenant_a.id}", headers=tenant_a.member.headers)).status_code == 200
    assert await sql.fetchval("select count(*) from profiles where user_id = $1", tenant_a.member.id) == 1


async def test_patch_merges_nested_preferences(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection
) -> None:
    r = await client.patch(
        "/api/v1/me",
        headers=tenant_a.member.headers,
        json={
            "display_name": "Léa",
            "theme": "dark",
            "notification_prefs": {"chat": {"sound": False}},
            "quiet_hours": {"enabled": True, "time_zone": "America/Montreal"},
            "onboarding": {"first_launch_done": True, "tooltips_seen": ["documents.filters"]},
        },
    )
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["notification_prefs"]["chat"] == {"enabled": True, "sound": False, "badge": True, "priority": "normal"}
    assert me["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "08:00", "time_zone": "America/Montreal"}
    assert me["onboarding"]["tooltips_seen"] == ["documents.filters"]
    assert await sql.fetchval("select action from audit_log") == "profile.updated"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"quiet_hours": {"start": "25:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"end": "8h"}}, "quiet_hours.end"),
        ({"quiet_hours": {"time_zone": "Mars/Olympus"}}, "quiet_hours.time_zone"),
        ({"theme": "neon"}, "theme"),
        ({"notification_prefs": {"chat": {"priority": "urgent"}}}, "notification_prefs.chat.priority"),
        ({"notification_prefs": {"email": {"enabled": False}}}, "notification_prefs.email"),
        ({"locale": "french"}, "locale"),
    ],
)
async def test_invalid_preferences_are_422_and_nothing_changes(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    assert (await client.get("/api/v1/me", headers=tenant_a.member.headers)).status_code == 200
    r = await client.patch("/api/v1/me", headers=tenant_a.member.headers, json=body)
    assert r.status_code == 422, r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.json()
    assert await sql.fetchval("select theme from profiles") == "system"


async def test_quiet_hours_start_equal_to_end_after_merge_is_refused(
    client: httpx.AsyncClient, tenant_a: Tenant
) -> None:
    r = await client.patch("/api/v1/me", headers=tenant_a.member.headers, json={"quiet_hours": {"start": "08:00"}})
    assert r.status_code == 422 and "differ" in r.json()["detail"]


async def test_users_never_see_each_others_profile(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, sql: asyncpg.Connection
) -> None:
    assert (
        await client.patch("/api/v1/me", headers=tenant_b.member.headers, json={"display_name": "Paul"})
    ).status_code == 200
    r = await client.get("/api/v1/me", headers=tenant_a.member.headers)
    assert r.json()["display_name"] is None and r.json()["user_id"] == str(tenant_a.member.id)


@pytest.mark.parametrize(
    "column, stored",
    [
        ("quiet_hours", '{"enabled": "maybe", "time_zone": "Mars/Olympus"}'),
        ("quiet_hours", '{"start": {"nested": true}}'),
        ("notification_prefs", '{"chat": "loud"}'),
        ("onboarding", '{"tooltips_seen": "all"}'),
    ],
)
async def test_preferences_written_around_the_api_read_as_defaults(
    client: httpx.AsyncClient, tenant_a: Tenant, sql: asyncpg.Connection, column: str, stored: str
) -> None:
    """supabase-js can update the row under RLS: a shape the API would refuse is no 500 on /me."""
    await sql.execute("insert into profiles (user_id) values ($1)", tenant_a.member.id)
    await sql.execute(f"update profiles set {column} = $2::jsonb where user_id = $1", tenant_a.member.id, stored)
    r = await client.get("/api/v1/me", headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text
    defaults_by_column: dict[str, dict[str, Any]] = {
        "quiet_hours": {"enabled": False, "start": "22:00", "end": "08:00", "time_zone": "Europe/Paris"},
        "notification_prefs": {"chat": {"enabled": True, "sound": True, "badge": True, "priority": "normal"}},
        "onboarding": {"first_launch_done": False, "tooltips_seen": []},
    }
    defaults = defaults_by_column[column]
    assert defaults.items() <= r.json()[column].items()
    r = await client.patch("/api/v1/me", json={"theme": "dark"}, headers=tenant_a.member.headers)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"notification_prefs": {"chat": None}}, "notification_prefs.chat"),
        ({"notification_prefs": {"system": {"sound": None}}}, "notification_prefs.system.sound"),
        ({"quiet_hours": {"start": None}}, "quiet_hours.start"),
        ({"onboarding": {"tooltips_seen": None}}, "onboarding.tooltips_seen"),
        ({"theme": None}, "theme"),
        ({"locale": None}, "locale"),
        ({"quiet_hours": None}, "quiet_hours"),
        ({"onboarding": {"first_launch_done": 1}}, "onboarding.first_launch_done"),
    ],
)
async def test_null_or_lax_values_in_preferences_are_422_naming_the_field(
    client: httpx.AsyncClient, operator: User, sql: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    r = await client.patch("/api/v1/me", headers=operator.headers, json=body)
    assert r.status_code == 422, r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.json()
    assert await sql.fetchval("select count(*) from audit_log") == 0


def test_a_merged_document_that_does_not_validate_is_a_422_naming_the_field() -> None:
    from services.core.errors import Unprocessable
    from services.profiles.schemas import QuietHours
    from services.profiles.service import _validated

    with pytest.raises(Unprocessable) as refused:
        _validated("quiet_hours", QuietHours, {**QuietHours().model_dump(), "start": None})
    assert refused.value.extra == {"field": "quiet_hours.start"}
