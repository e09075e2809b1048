"""What a person at a terminal sees: colour only on a TTY and never with NO_COLOR, the progress line, one summary
line per command, repository-relative paths in diffs and advice."""
