from __future__ import annotations

from services.core.errors import Conflict, Forbidden, NotFound, Unprocessable


class CustomerNotFound(NotFound):
    code = "billing_customer_not_found"

    def __init__(self) -> None:
        super().__init__(
            "this client has no billing identity yet: set it with PUT /api/v1/billing/customers/{client_id}"
        )


class QuoteNotFound(NotFound):
    code = "quote_not_found"

    def __init__(self) -> None:
        super().__init__("no such quote, or it is not yours to see")


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"

    def __init__(self) -> None:
        super().__init__("no such invoice, or it is not yours to see")


class SubscriptionNotFound(NotFound):
    code = "subscription_not_found"

    def __init__(self) -> None:
        super().__init__("no such subscription, or it is not yours to see")


class BillingInvalid(Unprocessable):
    code = "billing_invalid"


class MentionMissing(Unprocessable):
    """A mandatory e-invoicing mention is missing: nothing goes to Pennylane without it."""

    code = "einvoicing_mention_missing"

    def __init__(self, mention: str, detail: str) -> None:
        super().__init__(f"e-invoicing mention missing: {mention} ({detail})", field=mention, mention=mention)


class BillingStateConflict(Conflict):
    code = "billing_state_conflict"


class DecisionForbidden(Forbidden):
    code = "quote_decision_forbidden"

    def __init__(self) -> None:
        super().__init__("only a member of the client decides on its quote")
