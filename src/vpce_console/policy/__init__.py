"""Pure policy engine: parse with positions, lint, evaluate, personas, impact, diff. No I/O, no SDK, no Textual."""
