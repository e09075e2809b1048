"""Checks that the rendered stack can do what it says (issue 16): every series a rule or panel reads can be
produced by the rendered connector config, every keep policy can match a declared span."""
