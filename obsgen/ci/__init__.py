"""What obsgen offers CI: diagnostics as GitHub workflow commands or SARIF (``formats``), and the pre-commit
hook runner (``precommit``)."""
