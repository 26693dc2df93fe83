"""Re-record tests/snapshots/lab_snapshot.json from a fresh fixed-seed lab: `python tests/snapshots/record.py`.

Then run `pytest tests/snapshots --snapshot-update` and review the SVG changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.snapshots.conftest import SNAPSHOT_FILE, record_lab_snapshot

if __name__ == "__main__":
    record_lab_snapshot()
    print(f"wrote {SNAPSHOT_FILE}")
