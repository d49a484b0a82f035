"""pingan: 千家万户访平安 — a township's door-to-door safety visit campaign, end to end."""

__version__ = "0.1.0"
