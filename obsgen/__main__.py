"""``python -m obsgen``."""

from obsgen.cli import run

if __name__ == "__main__":
    run()
