"""The operations behind the commands: each wires loading, state, live reads, planning and
rendering inputs together for one command, so the CLI stays a thin parse → call → exit layer.
Nothing here prints."""
