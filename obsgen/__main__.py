"""``python -m obsgen``."""

from obsgen.cli import main

if __name__ == "__main__":
    main()
