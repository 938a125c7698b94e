"""The API held to its contract: schemathesis, cross-tenant isolation per route, JSON bodies per route."""
