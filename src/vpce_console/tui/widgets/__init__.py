"""Widgets: they render reactives and post messages; none of them does I/O."""
