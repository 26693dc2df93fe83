"""Screens stand on their own: mounted in a bare Textual app with a `ScreenContext`, they ask for other screens by
posting navigation messages (issue 12 point 2) — no `VpceApp`, no lab, no backend.

Before, each screen reached into the app (`cast(VpceApp, self.app).open_rollout(...)`), so mounting one without
the whole console failed with an AttributeError.
"""

from __future__ import annotations

from textual.app import App
from textual.message import Message
from textual.screen import Screen

from vpce_console.tui.context import ScreenContext
from vpce_console.tui.models import EndpointRow, FindingCounts, Snapshot
from vpce_console.tui.navigation import OpenEditor, OpenHelp, OpenRollout
from vpce_console.tui.screens.details import DetailsScreen
from vpce_console.tui.screens.editor import PolicyEditorScreen
from vpce_console.tui.screens.rollout import RolloutScreen

POLICY = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}]}'
)

ENDPOINT = EndpointRow(
    endpoint_id="vpce-0123456789abcdef0",
    service="sqs",
    service_name="com.amazonaws.us-east-1.sqs",
    state="available",
    vpc_id="vpc-0123456789abcdef0",
    azs=("us-east-1a",),
    security_groups=("sg-0123456789abcdef0",),
    private_dns=True,
    policy_text=POLICY,
    policy_custom=True,
    findings=FindingCounts(),
    subscribers=0,
)


class BareApp(App[None]):
    """A plain Textual app that records the navigation messages its screen posts (and opens nothing)."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen
        self.asked: list[Message] = []

    def on_mount(self) -> None:
        self.push_screen(self.first)

    def on_open_rollout(self, message: OpenRollout) -> None:
        self.asked.append(message)

    def on_open_editor(self, message: OpenEditor) -> None:
        self.asked.append(message)

    def on_open_help(self, message: OpenHelp) -> None:
        self.asked.append(message)


async def test_the_details_screen_asks_the_app_for_the_rollout_and_the_editor() -> None:
    """`o` and `e` on the details screen post OpenRollout and OpenEditor for its endpoint."""
    app = BareApp(DetailsScreen(ENDPOINT, Snapshot(), ScreenContext()))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert [type(m) for m in app.asked] == [OpenRollout]
        rollout = app.asked[0]
        assert isinstance(rollout, OpenRollout) and rollout.endpoint.endpoint_id == ENDPOINT.endpoint_id
        assert rollout.draft is None and rollout.rollback is None
        await pilot.press("e")
        await pilot.pause()
        assert [type(m) for m in app.asked] == [OpenRollout, OpenEditor]


async def test_the_editor_hands_its_text_to_the_rollout_it_asks_for() -> None:
    """`ctrl+o` in the editor posts OpenRollout carrying the text being edited; `f1` asks for the editor's help."""
    app = BareApp(PolicyEditorScreen(ENDPOINT, Snapshot(), ScreenContext()))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, PolicyEditorScreen)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert len(app.asked) == 1
        asked = app.asked[0]
        assert isinstance(asked, OpenRollout) and asked.draft == editor.current_text()
        await pilot.press("f1")
        await pilot.pause()
        help_asked = app.asked[-1]
        assert isinstance(help_asked, OpenHelp) and help_asked.scopes == ("editor",)


async def test_the_rollout_screen_reads_the_write_gate_from_its_context() -> None:
    """The rollout screen mounts without the console: read-only comes from the context (apply disabled), and
    with writes allowed but nothing changed, `n` refuses with the reason instead of moving on."""
    read_only = RolloutScreen(ENDPOINT, Snapshot(), None, ScreenContext(read_only=True))
    app = BareApp(read_only)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert read_only.check_action("apply", ()) is None
        assert "READ-ONLY" in str(read_only.query_one("#rollout-title").render())
    writable = RolloutScreen(ENDPOINT, Snapshot(), None, ScreenContext(read_only=False))
    app = BareApp(writable)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert writable.check_action("apply", ()) is True
        await pilot.press("n")
        await pilot.pause()
        assert writable.step == "lint"
        assert "nothing to roll out" in writable.refusal("next_step")
