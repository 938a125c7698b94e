"""E-invoicing readiness (France: companies receive e-invoices from 1 September 2026, SMEs issue them
from 1 September 2027): the four mentions the reform adds are checked before anything reaches
Pennylane, and printed on the document in its special mention.

1. the customer's SIREN, for a business customer;
2. the nature of the operation: goods, services or both;
3. "Option pour le paiement de la taxe d'après les débits", when MiKL chose it;
4. the delivery address, when it differs from the billing address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.billing.errors import BillingInvalid, MentionMissing

NATURE = {"goods": "Livraison de biens", "services": "Prestation de services", "mixed": "Biens et services"}
VAT_ON_DEBITS = "Option pour le paiement de la taxe d'après les débits"
_ADDRESS_PARTS = ("address", "postal_code", "city", "country_alpha2")


def _address_text(address: Mapping[str, Any]) -> str:
    return f"{address['address']}, {address['postal_code']} {address['city']} ({address['country_alpha2']})"


def _delivery_differs(customer: Mapping[str, Any]) -> bool:
    delivery = customer["delivery_address"]
    if not delivery or not any(delivery.get(part) for part in _ADDRESS_PARTS):
        return False  # none given (Pennylane sends empty strings): deliveries go to the billing address
    billing = customer["billing_address"]
    return any(str(delivery.get(p, "")).strip() != str(billing.get(p, "")).strip() for p in _ADDRESS_PARTS)


def check(customer: Mapping[str, Any] | None, operation_nature: str | None) -> None:
    """Raise a 422 naming the first missing mention; `customer` is the billing_customers row."""
    if customer is None:
        raise BillingInvalid(
            "the client has no billing identity: set it with PUT /api/v1/billing/customers/{client_id}",
            field="client_id",
        )
    if customer["kind"] == "company" and not customer["siren"]:
        raise MentionMissing("siren", "a business customer's SIREN is mandatory on its invoices")
    if operation_nature is None:
        raise MentionMissing("operation_nature", "say whether the document covers goods, services or both")
    delivery = customer["delivery_address"]
    if delivery and any(delivery.get(part) for part in _ADDRESS_PARTS):
        missing = [part for part in _ADDRESS_PARTS if not str(delivery.get(part) or "").strip()]
        if missing:
            raise MentionMissing("delivery_address", f"the delivery address lacks {', '.join(missing)}")


def special_mention(
    customer: Mapping[str, Any], operation_nature: str, vat_on_debits: bool, free_text: str | None
) -> str:
    """The special mention pushed to Pennylane: the reform's mentions, then the operator's own text."""
    parts = [f"Nature de l'opération : {NATURE[operation_nature]}"]
    if customer["kind"] == "company":
        parts.append(f"SIREN du client : {customer['siren']}")
    if vat_on_debits:
        parts.append(VAT_ON_DEBITS)
    if _delivery_differs(customer):
        parts.append(f"Adresse de livraison : {_address_text(customer['delivery_address'])}")
    if free_text:
        parts.append(free_text)
    return "\n".join(parts)
