"""Settings: `base` plus one small override per deployment (dev, test, production)."""
