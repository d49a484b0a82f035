"""One router per area of the API, mounted by `pingan.api.api`."""
