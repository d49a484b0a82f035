"""Realistic synthetic data at town, county and city scale (`pingan generate_data`).

The seed town (汝集镇, ~11k households), its county (利辛县, 23 towns, ~400k) or the whole
city (亳州市, 4 county-level divisions, ~2M households, ~1.5M visits, ~150k problems): the
region tree, households with valid sealed phones and ID numbers, cadres with their logins
and slices (分片包干), a campaign per town with phases and quotas, visits with answers,
the problem ledger in every state with its history and supervision, and leaflet issues.

- `places`: the tree and each village's roster size and quota (pure);
- `people`: households and cadres of one town, sealed (pure; run in a process pool);
- `activity`: one town's visits, answers and the problems they raise (pure);
- `problems`: one town's ledger walked up to the cutoff (pure);
- `store`: the database side (ensure, reserve ids, COPY, check, replace, ANALYZE);
- `run`: the whole run, one transaction per town, with progress and timings.

Everything is fiction from a fixed seed and marked `synthetic=True` where the model has the
flag; generated logins have unusable passwords. Phones and ID numbers pass the same checks
as real ones, so a generated mobile number may belong to somebody: never call or text them.
"""

from pingan.demo.generate.run import (
    DEFAULT_DAY,
    SCALES,
    GenerateOptions,
    GenerateRefused,
    GenerateReport,
    generate_data,
)

__all__ = [
    "DEFAULT_DAY",
    "SCALES",
    "GenerateOptions",
    "GenerateRefused",
    "GenerateReport",
    "generate_data",
]
