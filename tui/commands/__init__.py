"""One module per subcommand; each exposes `command`. See tui/cli.py."""
