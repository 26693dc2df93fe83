"""The main panes, one module each (as Textual keeps its widgets): this module gathers them for the screens.

Each pane renders the snapshot (or the denial stream) it is given and filters it; no I/O happens in a pane.
"""

from __future__ import annotations

from vpce_console.tui.widgets.cost_pane import (
    CHEAPEST_MARK,
    VERDICT_WORDS,
    CostPane,
)
from vpce_console.tui.widgets.denials_pane import (
    MAX_DENIAL_ROWS,
    MAX_DENIALS,
    DenialsPane,
)
from vpce_console.tui.widgets.doctor_pane import (
    DoctorPane,
    doctor_where,
)
from vpce_console.tui.widgets.endpoints_pane import (
    NARROW_ENDPOINTS,
    WIDE_ENDPOINTS,
    EndpointsPane,
    endpoint_columns,
    trail_summary,
)
from vpce_console.tui.widgets.pane_base import (
    Pane,
    count_text,
    plural,
)
from vpce_console.tui.widgets.subscribers_pane import (
    MatrixLayout,
    SubscribersPane,
    matrix_layout,
    short_service,
)

__all__ = [
    "CHEAPEST_MARK",
    "MAX_DENIALS",
    "MAX_DENIAL_ROWS",
    "NARROW_ENDPOINTS",
    "VERDICT_WORDS",
    "WIDE_ENDPOINTS",
    "CostPane",
    "DenialsPane",
    "DoctorPane",
    "EndpointsPane",
    "MatrixLayout",
    "Pane",
    "SubscribersPane",
    "count_text",
    "doctor_where",
    "endpoint_columns",
    "matrix_layout",
    "plural",
    "short_service",
    "trail_summary",
]
