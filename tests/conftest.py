"""Suite-wide: pytest puts this folder on sys.path, so shared test modules import by name."""
