"""Screens: the main panes, details, the policy editor, the rollout flow and the modals."""
