"""Shared ground: the clock, encryption, masking, validation and the audit trail."""
