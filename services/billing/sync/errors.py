"""Typed refusals of the billing sync and payment routes."""

from __future__ import annotations

from services.core.errors import Conflict, NotFound, Unprocessable


class InvoiceNotPayable(Conflict):
    code = "billing_invoice_not_payable"


class ExportNotFound(NotFound):
    code = "billing_export_not_found"


class ExportNotReady(Conflict):
    code = "billing_export_not_ready"


class InvalidPeriod(Unprocessable):
    code = "billing_invalid_period"
