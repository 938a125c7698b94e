"""Typed clients for the third parties Foxeo talks to. Imports nothing of ours."""
