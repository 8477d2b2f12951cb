"""Click commands only: each parses its flags into values, calls one service function, and turns
the outcome into output and an exit code. No business logic lives here."""
