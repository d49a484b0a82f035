"""Roster import (花名册导入): read real-world .xlsx/.xls/.csv files, find the header, normalize
each row, and write households in one transaction.

- `readers`: rows out of a workbook or CSV, merged cells filled, Excel row numbers kept.
- `headers`: find the header row among title rows and map columns by their many names.
- `cells`: normalize one cell (group numbers, sizes, tags, ID numbers Excel broke…).
- `villages`: which villages an actor may import into, and village names as people write them.
- `results`: what an import gives back, and the error workbook.
- `households`: the household import service `household_import`.

The cadre import (`pingan.accounts.importing`) reuses all but `households`.
"""

from pingan.regions.importing.households import household_import
from pingan.regions.importing.results import ImportDenied, ImportFileError, ImportResult

__all__ = ["ImportDenied", "ImportFileError", "ImportResult", "household_import"]
