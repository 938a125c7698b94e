"""Read-only figures over the billing mirror: reconciliation and revenue (operator only)."""
