"""A small world arranged through the API the way the dashboards do: two tenants (Lab clients) with a
member each, and under each a project with steps and a task, a journey, a document, a conversation with
a message, a validation request, an evolution request. The ids are kept by path parameter name so a
route template can be filled with real resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import Tenant, User, World
from tests.documents.kit import PDF

API = "/api/v1"


@dataclass
class Resources:
    """One tenant's resources, keyed by the path parameter naming them."""

    tenant: Tenant
    ids: dict[str, str] = field(default_factory=dict)


@dataclass
class Seeded:
    operator: User
    a: Resources
    b: Resources
    shared: dict[str, str]  # operator-owned, not tenant-scoped (modules, journey templates)


async def _ok(r: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
    body: dict[str, Any] = r.json()
    return body


async def _tenant(http: httpx.AsyncClient, operator: User, tenant: Tenant, template_id: str) -> Resources:
    op, member = operator.headers, tenant.member.headers
    res = Resources(tenant, {"client_id": str(tenant.id), "user_id": str(tenant.member.id)})
    project = await _ok(
        await http.post(
            f"{API}/projects",
            headers=op,
            json={
                "client_id": str(tenant.id),
                "name": "Projet",
                "status": "active",
                "steps": [{"title": t, "client_role": f"Rôle {t}"} for t in ("Cadrage", "Offre")],
            },
        )
    )
    res.ids["project_id"], res.ids["step_id"] = project["id"], project["steps"][0]["id"]
    task = await _ok(await http.post(f"{API}/projects/{project['id']}/tasks", headers=op, json={"title": "Relire"}))
    res.ids["task_id"] = task["id"]
    await _ok(await http.post(f"{API}/projects/{project['id']}/comments", headers=member, json={"body": "Bien reçu"}))
    journey = await _ok(
        await http.post(f"{API}/clients/{tenant.id}/journeys", headers=op, json={"template_id": template_id})
    )
    validation = await _ok(
        await http.post(
            f"{API}/validations", headers=member, json={"step_id": journey["steps"][0]["id"], "message": "Voici"}
        )
    )
    res.ids["validation_id"] = validation["id"]
    document = await _ok(
        await http.post(
            f"{API}/clients/{tenant.id}/documents",
            headers=member,
            files={"file": ("brief.pdf", PDF, "application/pdf")},
        )
    )
    res.ids["document_id"] = document["id"]
    upload = await _ok(
        await http.post(
            f"{API}/clients/{tenant.id}/documents/uploads",
            headers=member,
            json={"file_name": "plan.pdf", "size_bytes": len(PDF), "mime_type": "application/pdf"},
        )
    )
    res.ids["upload_id"] = upload["upload_id"]
    conversation = await _ok(await http.put(f"{API}/chat/clients/{tenant.id}/conversation", headers=op), 200)
    res.ids["conversation_id"] = conversation["id"]
    message = await _ok(
        await http.post(
            f"{API}/chat/conversations/{conversation['id']}/messages", headers=member, json={"body": "Hello"}
        )
    )
    res.ids["message_id"] = message["id"]
    await _ok(
        await http.post(f"{API}/chat/conversations/{conversation['id']}/messages", headers=op, json={"body": "Hi"})
    )
    return res


async def seed(http: httpx.AsyncClient, world: World) -> Seeded:
    operator = await world.user("mikl@example.com", operator=True)
    # Supabase Auth's app_metadata.role: notify_operators finds the operator, so notifications exist.
    await world.sql.execute(
        """update auth.users set raw_app_meta_data = '{"role": "operator"}' where id = $1""", operator.id
    )
    a, b = await world.tenant("Alpha Studio"), await world.tenant("Beta Conseil")
    template = await _ok(
        await http.post(
            f"{API}/journey-templates",
            headers=operator.headers,
            json={"name": "Parcours", "steps": [{"title": "Vision", "client_role": "Tu prépares", "duration_days": 7}]},
        )
    )
    module = await _ok(
        await http.post(
            f"{API}/modules",
            headers=operator.headers,
            json={
                "key": "booking_widget",
                "name": "Widget",
                "dashboards": ["one"],
                "version": "1.0.0",
                "description": "",
            },
        )
    )
    seeded = Seeded(
        operator,
        await _tenant(http, operator, a, template["id"]),
        await _tenant(http, operator, b, template["id"]),
        {"template_id": template["id"], "key": module["key"]},
    )
    for res in (seeded.a, seeded.b):
        # Journeys are for Lab clients and evolutions for One clients: each tenant has both, so its
        # evolution is asked while it is briefly One.
        await world.sql.execute("update public.clients set status = 'one' where id = $1", res.tenant.id)
        evolution = await _ok(
            await http.post(
                f"{API}/evolutions",
                headers=res.tenant.member.headers,
                json={"client_id": res.ids["client_id"], "title": "Export", "description": "CSV"},
            )
        )
        res.ids["evolution_id"] = evolution["id"]
        await world.sql.execute("update public.clients set status = 'lab' where id = $1", res.tenant.id)
    for res in (seeded.a, seeded.b):  # a queued job about each client (the operator's jobs console)
        res.ids["job_id"] = str(
            await world.sql.fetchval(
                "select private.enqueue_job('contract.noop', '{}'::jsonb, null, now() + interval '1 day', $1, 1)",
                res.tenant.id,
            )
        )
    for res in (seeded.a, seeded.b):  # a meeting with a recording and its transcript (as the webhook files them)
        meeting_id = await world.sql.fetchval(
            "insert into public.meetings (client_id, dashboard, kind, room_name, created_by)"
            " values ($1, 'hub', 'full', 'foxeo-' || gen_random_uuid()::text, $2) returning id",
            res.tenant.id, seeded.operator.id,
        )  # fmt: skip
        recording_id = await world.sql.fetchval(
            "insert into public.meeting_recordings (client_id, meeting_id, status, storage_path, phase,"
            " consent_agreed_by, consent_agreed_at, created_by)"
            " values ($1, $2, 'ended', 'recordings/' || gen_random_uuid()::text, 'lab', 'everyone', now(), $3)"
            " returning id",
            res.tenant.id, meeting_id, seeded.operator.id,
        )  # fmt: skip
        transcript_id = await world.sql.fetchval(
            "insert into public.transcripts (client_id, meeting_id, recording_id, status, text)"
            " values ($1, $2, $3, 'done', 'Bonjour') returning id",
            res.tenant.id, meeting_id, recording_id,
        )  # fmt: skip
        res.ids["meeting_id"], res.ids["transcript_id"] = str(meeting_id), str(transcript_id)
        res.ids["recording_id"] = str(recording_id)
    for res in (seeded.a, seeded.b):  # billing: an identity, a sent quote, a finalized invoice, a subscription
        await world.sql.execute(
            "insert into public.billing_customers (client_id, kind, legal_name, siren, billing_address, emails)"
            " values ($1, 'company', 'Client SAS', '732829320',"
            ' \'{"address": "1 rue", "postal_code": "75001", "city": "Paris"}\', \'{compta@example.com}\')',
            res.tenant.id,
        )
        res.ids["quote_id"] = str(
            await world.sql.fetchval(
                "insert into public.billing_quotes (client_id, status, issue_date, valid_until, amount, pdf_sha256,"
                " operation_nature, sent_at) values ($1, 'pending', current_date, current_date + 30, 120,"
                " repeat('0', 64), 'services', now()) returning id",
                res.tenant.id,
            )
        )
        res.ids["invoice_id"] = str(
            await world.sql.fetchval(
                "insert into public.billing_invoices (client_id, pennylane_id, status, draft, issue_date, due_date,"
                " amount, operation_nature, pdf_url) values ($1, (random() * 1e12)::bigint, 'upcoming', false,"
                " current_date, current_date + 30, 120, 'services', 'https://app.pennylane.com/public/x') returning id",
                res.tenant.id,
            )
        )
        res.ids["subscription_id"] = str(
            await world.sql.fetchval(
                "insert into public.billing_subscriptions (client_id, status, label, amount_before_tax, vat_rate,"
                " start_date, operation_nature) values ($1, 'in_progress', 'Maintenance', 300, 'FR_200',"
                " current_date, 'services') returning id",
                res.tenant.id,
            )
        )
    for res in (seeded.a, seeded.b):  # a reminder for the client's members, and an outbox e-mail about the client
        res.ids["reminder_id"] = str(
            await world.sql.fetchval(
                "select id from private.schedule_reminder($1, 'agenda.session_tomorrow', 'appointment', $2,"
                " now() + interval '1 day', 'all', true, 'Séance demain', null, null, null, null)",
                res.tenant.id, f"contract-{res.tenant.id}",
            )
        )  # fmt: skip
        res.ids["email_id"] = str(
            await world.sql.fetchval(
                "select private.queue_email($1, 'Séance demain', 'À demain', $2, null, null)",
                res.tenant.member.email, res.tenant.id,
            )
        )  # fmt: skip
    for res in (seeded.a, seeded.b):  # an upcoming appointment with its room, and its pre-visio link
        appointment = await _ok(
            await http.post(
                f"{API}/agenda/appointments", headers=operator.headers,
                json={"client_id": res.ids["client_id"], "title": "Visio", "starts_at": "2030-06-10T08:00:00Z",
                      "ends_at": "2030-06-10T09:00:00Z", "open_meeting": True},
            )
        )  # fmt: skip
        link = await _ok(
            await http.post(f"{API}/agenda/appointments/{appointment['id']}/previsio-link", headers=operator.headers),
            200,
        )
        res.ids["appointment_id"], res.ids["previsio_token"] = appointment["id"], link["url"].rsplit("/", 1)[1]
        await world.sql.execute(  # the company identity a pre-visio SIRET leaves (lookup down: kept as typed)
            "insert into public.client_companies (client_id, siret, siren, lookup_status)"
            " values ($1, '73282932000074', '732829320', 'lookup_unavailable')",
            res.tenant.id,
        )
    for res in (seeded.a, seeded.b):  # the operator's message in each conversation notified the member
        res.ids["notification_id"] = str(
            await world.sql.fetchval(
                "select id from public.notifications where user_id = $1 order by created_at limit 1",
                res.tenant.member.id,
            )
        )
    seeded.shared["export_id"] = str(  # a filed FEC export (operator-owned)
        await world.sql.fetchval(
            "insert into public.billing_exports (period_start, period_end, status, storage_path, size_bytes)"
            " values ('2026-01-01', '2026-06-30', 'ready', 'billing/exports/seed/FEC.txt', 10) returning id"
        )
    )
    return seeded
