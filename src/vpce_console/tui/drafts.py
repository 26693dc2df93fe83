"""Policy drafts: on disk under the state dir (an edit survives a crash or a dropped SSH session), and the
deployed text a draft starts from."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vpce_console.paths import private_dir, state_dir
from vpce_console.policy.vocab import DEFAULT_POLICY_DRAFT
from vpce_console.tui.models import EndpointRow


@dataclass(frozen=True, slots=True)
class Draft:
    """An unsaved policy edit and the deployed text it started from."""

    endpoint_id: str
    text: str
    base: str | None
    """The deployed document when editing began, to tell a stale draft from a fresh one."""


class DraftStore:
    """Reads and atomically writes one JSON file per endpoint."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or state_dir()) / "drafts"

    def path(self, endpoint_id: str) -> Path:
        """Where the draft for an endpoint lives (ids are sanitised into file names)."""
        return self.root / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', endpoint_id)}.json"

    def save(self, draft: Draft) -> Path:
        """Write atomically (temp file + rename) so a crash never leaves half a draft."""
        private_dir(self.root)
        target = self.path(draft.endpoint_id)
        payload = {"endpoint_id": draft.endpoint_id, "text": draft.text, "base": draft.base}
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".draft-", suffix=".json")
        os.fchmod(fd, 0o600)  # mkstemp already uses 0600; said out loud because drafts name accounts and ARNs
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(tmp, target)
        return target

    def load(self, endpoint_id: str) -> Draft | None:
        """The saved draft, or None when there is none or it is unreadable."""
        try:
            data = json.loads(self.path(endpoint_id).read_text(encoding="utf-8"))
            return Draft(str(data["endpoint_id"]), str(data["text"]), data.get("base"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def discard(self, endpoint_id: str) -> None:
        """Remove the draft once it has been applied."""
        self.path(endpoint_id).unlink(missing_ok=True)


def deployed_text(endpoint: EndpointRow) -> str:
    """The deployed document, or the default full-access policy when there is none."""
    return endpoint.policy_text if endpoint.policy_text else DEFAULT_POLICY_DRAFT


def pretty(text: str) -> str:
    """Indent a one-line JSON document for editing; leave anything else exactly as it is."""
    stripped = text.strip()
    if "\n" in stripped:
        return text
    try:
        return json.dumps(json.loads(stripped), indent=2)
    except ValueError:
        return text
