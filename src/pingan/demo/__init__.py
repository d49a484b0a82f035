"""Synthetic data (合成演示数据): everything that exists only to fabricate data.

- `town`: the seed town's synthetic roster and cadre list, written as spreadsheets and put
  through the real imports, then 分片包干; the demo logins; the leaflets collected.
- `rosters`: roster and cadre-list workbooks in the layout the importers read.
- `visits`: a week of synthetic visits, each day's through the sync service on that day.
- `ledger`: the town center, units, leaders and cadres working the ledger day by day.
- `generate`: `pingan generate_data`, realistic data at town, county and city scale.
- `management/commands`: `pingan demo` and `pingan generate_data`.

It sits on top of every product app and uses their services; no product app imports it
(an import-linter contract in pyproject.toml checks both).
"""
