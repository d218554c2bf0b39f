"""Pure domain rules: no transport, no database (see ARCHITECTURE.md)."""
