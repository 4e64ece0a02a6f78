"""End-to-end tests: real clients, a real registry and the real helper executable."""
